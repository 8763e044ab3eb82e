// Off-heap storage for what a stream keeps for a fallback count (raw events, then their text), in
// fixed blocks from a shared pool, handed back when the stream ends. Why not plain Buffers and
// strings: a long stream lives across several young-generation GCs, so whatever it keeps on the JS
// heap (text) or pins from it (subarrays of socket reads) is promoted to the old generation and
// freed only by a full GC. 200 streams of 1 MB piled up 30–40 MB of that before V8 ran one (the
// bench's memory row); reused blocks never become garbage.

const BLOCK_BYTES = 16 * 1024;
/** Most free blocks kept for reuse (4 MB); past that, released blocks are left to the GC. */
const POOL_BLOCKS = 256;
const pool: Buffer[] = [];

const takeBlock = (): Buffer => pool.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES);

/** Free blocks in the pool (for tests). */
export const pooledBlocks = (): number => pool.length;

/** Bytes appended in order, copied into pooled blocks. release() returns the blocks; it is then empty. */
export class KeptBytes {
  private blocks: Buffer[] = [];
  private tail = BLOCK_BYTES; // bytes used in the last block (BLOCK_BYTES: a new one is needed)
  /** Bytes held. */
  length = 0;

  append(src: Buffer): void {
    let from = 0;
    while (from < src.length) {
      if (this.tail === BLOCK_BYTES) {
        this.blocks.push(takeBlock());
        this.tail = 0;
      }
      const n = src.copy(this.blocks[this.blocks.length - 1]!, this.tail, from);
      this.tail += n;
      from += n;
    }
    this.length += src.length;
  }

  /** `len` bytes from `at`: a view when they lie in one block (valid until the next release), else a copy. */
  read(at: number, len: number): Buffer {
    const i = Math.floor(at / BLOCK_BYTES);
    const off = at % BLOCK_BYTES;
    if (off + len <= BLOCK_BYTES) return this.blocks[i]!.subarray(off, off + len);
    const out = Buffer.allocUnsafe(len);
    for (let done = 0; done < len; ) {
      const pos = at + done;
      done += this.blocks[Math.floor(pos / BLOCK_BYTES)]!.copy(out, done, pos % BLOCK_BYTES, Math.min(BLOCK_BYTES, (pos % BLOCK_BYTES) + len - done));
    }
    return out;
  }

  /** All the bytes decoded as UTF-8 (a character split between blocks is decoded whole). */
  toString(): string {
    return this.length === 0 ? '' : this.read(0, this.length).toString('utf8');
  }

  release(): void {
    for (const b of this.blocks) if (pool.length < POOL_BLOCKS) pool.push(b);
    this.blocks = [];
    this.tail = BLOCK_BYTES;
    this.length = 0;
  }
}

/** Whole events (or groups of them) kept as raw bytes, each read back on its own. */
export class KeptEvents {
  private bytes = new KeptBytes();
  private header = Buffer.alloc(4);
  /** Event bytes held (without the framing). */
  size = 0;

  push(event: Buffer): void {
    this.header.writeUInt32LE(event.length, 0);
    this.bytes.append(this.header);
    this.bytes.append(event);
    this.size += event.length;
  }

  /** Hands each kept event to `fn` in order (a view valid only during the call), then lets them go. */
  drain(fn: (event: Buffer) => void): void {
    for (let at = 0; at < this.bytes.length; ) {
      const len = this.bytes.read(at, 4).readUInt32LE(0);
      fn(this.bytes.read(at + 4, len));
      at += 4 + len;
    }
    this.release();
  }

  release(): void {
    this.bytes.release();
    this.size = 0;
  }
}

/** Generated text kept as UTF-8, up to `maxChars` UTF-16 characters; the rest only by its UTF-8 size. */
export class KeptText {
  private bytes = new KeptBytes();
  private cached: string | null = '';
  /** UTF-16 characters kept. */
  chars = 0;
  /** UTF-8 bytes of the text past maxChars. */
  uncountedBytes = 0;

  constructor(private readonly maxChars: number) {}

  add(t: string): void {
    if (!t) return;
    if (this.chars + t.length <= this.maxChars) {
      this.bytes.append(Buffer.from(t, 'utf8'));
      this.chars += t.length;
      this.cached = null;
    } else this.uncountedBytes += Buffer.byteLength(t);
  }

  get text(): string {
    return (this.cached ??= this.bytes.toString());
  }

  release(): void {
    this.bytes.release();
    this.cached = '';
    this.chars = 0;
    this.uncountedBytes = 0;
  }
}
