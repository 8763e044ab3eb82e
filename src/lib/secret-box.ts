import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Secrets the gateway must be able to read back (upstream channel keys) are stored sealed with
// AES-256-GCM, so a database dump or backup alone does not reveal them.
const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  constructor(private key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The plain text of a sealed value; a value stored before sealing existed is returned as is. Throws if the key is wrong. */
  open(stored: string): string {
    if (!SecretBox.isSealed(stored)) return stored;
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /** An HMAC-SHA256 (base64url) of `data`, keyed for `purpose` from the sealing key: signed links. */
  mac(purpose: string, data: string): string {
    const key = createHmac('sha256', this.key).update(`mac:${purpose}`).digest();
    return createHmac('sha256', key).update(data).digest('base64url');
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }
}

/**
 * The sealing key: derived from MOLEAPI_SECRET_KEY when set (every instance sharing a database must use
 * the same one), else read from `<dataDir>/secret.key`, created with a random key on first start.
 */
export function loadSecretKey(secret: string | undefined, dataDir: string): { key: Buffer; source: 'env' | 'file' } {
  if (secret) return { key: createHash('sha256').update(secret, 'utf8').digest(), source: 'env' };
  const file = join(dataDir, 'secret.key');
  try {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw new Error(`cannot create ${file} (${code}): set MOLEAPI_SECRET_KEY, or DATA_DIR to a writable folder`);
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file} is not a 64-hex-digit key; restore it from a backup or set MOLEAPI_SECRET_KEY`);
  return { key: Buffer.from(hex, 'hex'), source: 'file' };
}
