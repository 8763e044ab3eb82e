// Redemption codes: batches of single-use codes of a fixed value. A code is shown once, when its batch
// is generated; only its SHA-256 is stored (codes carry 100 random bits, so a plain hash suffices, as
// for API keys). Redeeming marks the code used and credits the wallet in one transaction.
import { createHash, randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../db/index.ts';
import { applyEntry, type LedgerEntry } from '../ledger/entries.ts';

// Crockford's base32: no I, L, O, U, so a code read aloud or typed from paper is unambiguous.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 20; // 100 bits
const GROUP = 5;

/** A fresh code, shown as XXXXX-XXXXX-XXXXX-XXXXX. */
export function newCode(): string {
  const bytes = randomBytes(CODE_CHARS); // one byte per character: 256 = 8 × 32, so `% 32` is unbiased
  let chars = '';
  for (const b of bytes) chars += ALPHABET[b % 32];
  return chars.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-');
}

/**
 * The canonical form of what a user typed: upper case, without spaces or dashes, with the letters
 * Crockford's alphabet leaves out read as the digits they look like. Null when it cannot be a code.
 */
export function normalizeCode(input: string): string | null {
  const s = input
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  return new RegExp(`^[${ALPHABET}]{${CODE_CHARS}}$`).test(s) ? s : null;
}

export const hashCode = (normalized: string) => createHash('sha256').update(normalized).digest('hex');

export interface NewBatch {
  name: string;
  quota: number;
  count: number;
  expiresAt: number | null;
  createdBy: number;
}

/** Creates the batch and its codes in one transaction; returns the codes in clear (never stored). */
export async function createBatch(db: Database, b: NewBatch): Promise<{ batchId: number; codes: string[] }> {
  const codes = Array.from({ length: b.count }, newCode);
  const now = Date.now();
  const batchId = await db.tx(async (q) => {
    const row = await q.get<{ id: number }>(
      'INSERT INTO redemption_batches (name, quota, code_count, expires_at, enabled, created_by, created_at) VALUES (?, ?, ?, ?, 1, ?, ?) RETURNING id',
      [b.name, b.quota, b.count, b.expiresAt, b.createdBy, now],
    );
    const id = Number(row!.id);
    // Multi-row inserts, 100 codes per statement (well under either driver's parameter limit).
    for (let i = 0; i < codes.length; i += 100) {
      const chunk = codes.slice(i, i + 100);
      await q.run(
        `INSERT INTO redemption_codes (batch_id, code_hash, hint, enabled, created_at) VALUES ${chunk.map(() => '(?, ?, ?, 1, ?)').join(', ')}`,
        chunk.flatMap((c) => [id, hashCode(normalizeCode(c)!), c.slice(-4), now]),
      );
    }
    return id;
  });
  return { batchId, codes };
}

export type RedeemOutcome =
  | { ok: true; entry: LedgerEntry; codeId: number }
  | { ok: false; reason: 'unknown' | 'disabled' | 'expired' | 'used' };

/**
 * Redeems a code for a user: the code goes unused → used by a conditional UPDATE and the credit
 * (kind `redemption`, reference `redeem:<codeId>`) is written in the same transaction, so of any
 * number of concurrent attempts exactly one credits; the others find the code used.
 */
export async function redeemCode(db: Database, userId: number, normalized: string, now = Date.now()): Promise<RedeemOutcome> {
  return db.tx(async (q): Promise<RedeemOutcome> => {
    const code = await q.get<Record<string, any>>(
      `SELECT c.id, c.hint, c.enabled, c.used_at, b.quota, b.enabled AS batch_enabled, b.expires_at, b.name
         FROM redemption_codes c JOIN redemption_batches b ON b.id = c.batch_id WHERE c.code_hash = ?`,
      [hashCode(normalized)],
    );
    if (!code) return { ok: false, reason: 'unknown' };
    if (code.used_at !== null) return { ok: false, reason: 'used' };
    if (Number(code.enabled) !== 1 || Number(code.batch_enabled) !== 1) return { ok: false, reason: 'disabled' };
    if (code.expires_at !== null && Number(code.expires_at) <= now) return { ok: false, reason: 'expired' };
    const codeId = Number(code.id);
    // The conditional update is the single point of truth: on PostgreSQL a concurrent attempt waits
    // for this row's lock, then re-checks `used_at IS NULL` and changes nothing.
    const claimed = await claimCode(q, codeId, userId, now);
    if (!claimed) return { ok: false, reason: await whyNotClaimable(q, codeId, now) };
    const entry = await applyEntry(q, {
      userId,
      kind: 'redemption',
      amount: Number(code.quota),
      reference: `redeem:${codeId}`,
      note: `Redemption code …${code.hint} (${code.name})`,
    });
    return { ok: true, entry, codeId };
  });
}

async function claimCode(q: Queryable, codeId: number, userId: number, now: number): Promise<boolean> {
  const res = await q.run(
    `UPDATE redemption_codes SET used_by = ?, used_at = ?
      WHERE id = ? AND used_at IS NULL AND enabled = 1
        AND EXISTS (SELECT 1 FROM redemption_batches b WHERE b.id = redemption_codes.batch_id AND b.enabled = 1 AND (b.expires_at IS NULL OR b.expires_at > ?))`,
    [userId, now, codeId, now],
  );
  return res.changes === 1;
}

async function whyNotClaimable(q: Queryable, codeId: number, now: number): Promise<'disabled' | 'expired' | 'used'> {
  const c = await q.get<Record<string, any>>(
    'SELECT c.enabled, c.used_at, b.enabled AS batch_enabled, b.expires_at FROM redemption_codes c JOIN redemption_batches b ON b.id = c.batch_id WHERE c.id = ?',
    [codeId],
  );
  if (!c || c.used_at !== null) return 'used';
  if (c.expires_at !== null && Number(c.expires_at) <= now) return 'expired';
  return 'disabled';
}

export interface BatchView {
  id: number;
  name: string;
  quota: number;
  count: number;
  usedCount: number;
  enabled: boolean;
  expiresAt: number | null;
  createdBy: number | null;
  createdAt: number;
}

const BATCH_SELECT = `SELECT b.*, (SELECT COUNT(*) FROM redemption_codes c WHERE c.batch_id = b.id AND c.used_at IS NOT NULL) AS used_count FROM redemption_batches b`;

function batchFromRow(r: Record<string, any>): BatchView {
  return {
    id: Number(r.id),
    name: r.name,
    quota: Number(r.quota),
    count: Number(r.code_count),
    usedCount: Number(r.used_count),
    enabled: Number(r.enabled) === 1,
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    createdBy: r.created_by === null ? null : Number(r.created_by),
    createdAt: Number(r.created_at),
  };
}

export async function listBatches(q: Queryable, page: number, pageSize: number): Promise<{ items: BatchView[]; total: number }> {
  const [rows, total] = await Promise.all([
    q.all(`${BATCH_SELECT} ORDER BY b.id DESC LIMIT ? OFFSET ?`, [pageSize, (page - 1) * pageSize]),
    q.get<{ n: number }>('SELECT COUNT(*) AS n FROM redemption_batches'),
  ]);
  return { items: rows.map(batchFromRow), total: Number(total?.n ?? 0) };
}

export async function getBatch(q: Queryable, id: number): Promise<BatchView | undefined> {
  const r = await q.get(`${BATCH_SELECT} WHERE b.id = ?`, [id]);
  return r ? batchFromRow(r) : undefined;
}

export interface CodeView {
  id: number;
  hint: string;
  enabled: boolean;
  usedBy: number | null;
  usedAt: number | null;
}

export async function listCodes(q: Queryable, batchId: number): Promise<CodeView[]> {
  const rows = await q.all('SELECT id, hint, enabled, used_by, used_at FROM redemption_codes WHERE batch_id = ? ORDER BY id', [batchId]);
  return rows.map((r) => ({
    id: Number(r.id),
    hint: r.hint,
    enabled: Number(r.enabled) === 1,
    usedBy: r.used_by === null ? null : Number(r.used_by),
    usedAt: r.used_at === null ? null : Number(r.used_at),
  }));
}

export async function setBatchEnabled(q: Queryable, id: number, enabled: boolean): Promise<boolean> {
  return (await q.run('UPDATE redemption_batches SET enabled = ? WHERE id = ?', [enabled ? 1 : 0, id])).changes === 1;
}

export async function setCodeEnabled(q: Queryable, batchId: number, codeId: number, enabled: boolean): Promise<boolean> {
  return (await q.run('UPDATE redemption_codes SET enabled = ? WHERE id = ? AND batch_id = ?', [enabled ? 1 : 0, codeId, batchId])).changes === 1;
}
