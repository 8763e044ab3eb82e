import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tryProcessLock } from '../lib/process-lock.ts';
import type { Settlement } from './settlement-sql.ts';
import { keepUnsettledText } from './unsettled-file.ts';

// PostgreSQL: the settlements of answers already sent whose commit is still to come. A commit waits
// for a WAL flush (≈ 7 ms on a common disk); a request that waited for it would wait ≈ 1.5 flushes.
// Instead each settlement is written to this instance's journal (one write(), no fsync: it is in the
// operating system's page cache, so it survives a crash of the process but not of the machine, the
// durability SQLite's synchronous=NORMAL gives), the answer goes out, and the commit follows.
//
// Files, in DATA_DIR/settlement-journal/: `<instance>.lock` (held by the live instance: process-lock.ts)
// and segments `<instance>.<n>.jsonl`, one JSON settlement a line. A segment is deleted once every
// settlement in it has committed; the current one is emptied instead when it is all committed and
// has grown past ROTATE_BYTES, else a new segment starts. At start-up the journals of instances whose
// lock is free (they stopped: a crash, or a shutdown that kept them) are moved to the owed-charges file,
// whose replay applies each settlement once (unsettled-file.ts).

export const JOURNAL_DIR = 'settlement-journal';
const ROTATE_BYTES = 1 << 20;

interface Segment {
  path: string;
  fd: number;
  bytes: number;
  /** Settlements written here and not committed yet. */
  pending: number;
}

export class SettlementJournal {
  private segments: Segment[] = [];
  private current!: Segment;
  private seq = 0;
  private where = new WeakMap<Settlement, Segment>();
  // A failed write may have left part of a line: the next write starts on a line of its own.
  private cutLine = false;

  private constructor(
    private dir: string,
    private instanceId: string,
    private unlock: () => void,
  ) {
    this.current = this.openSegment();
  }

  /** Opens this instance's journal in `dataDir`, holding its lock for the process's life. */
  static open(dataDir: string, instanceId: string): SettlementJournal {
    const dir = join(dataDir, JOURNAL_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const unlock = tryProcessLock(join(dir, `${instanceId}.lock`));
    if (!unlock) throw new Error(`settlement journal of instance ${instanceId} is locked by another process`);
    return new SettlementJournal(dir, instanceId, unlock);
  }

  private openSegment(): Segment {
    const path = join(this.dir, `${this.instanceId}.${this.seq++}.jsonl`);
    const seg = { path, fd: openSync(path, 'a', 0o600), bytes: 0, pending: 0 };
    this.segments.push(seg);
    return seg;
  }

  /** Writes the settlements (one write() call); throws if the file system refused. */
  append(items: Settlement[]): void {
    if (this.current.bytes >= ROTATE_BYTES) {
      if (this.current.pending === 0) {
        ftruncateSync(this.current.fd, 0);
        this.current.bytes = 0;
      } else {
        this.current = this.openSegment();
      }
    }
    let text = items.map((s) => JSON.stringify(s) + '\n').join('');
    if (this.cutLine) text = '\n' + text;
    const buf = Buffer.from(text, 'utf8');
    try {
      for (let at = 0; at < buf.length; ) at += writeSync(this.current.fd, buf, at);
    } catch (err) {
      this.cutLine = true;
      throw err;
    }
    this.cutLine = false;
    this.current.bytes += buf.length;
    this.current.pending += items.length;
    for (const s of items) this.where.set(s, this.current);
  }

  /** These settlements committed: the journal need not keep them any more. */
  committed(items: Settlement[]): void {
    for (const s of items) {
      const seg = this.where.get(s);
      if (!seg) continue;
      this.where.delete(s);
      if (--seg.pending === 0 && seg !== this.current) this.dropSegment(seg);
    }
  }

  private dropSegment(seg: Segment): void {
    this.segments = this.segments.filter((s) => s !== seg);
    closeSync(seg.fd);
    rmSync(seg.path, { force: true });
  }

  /**
   * Closes the journal. Call it once every settlement in it has committed or been kept elsewhere
   * (the owed-charges file): the files go. With `keep`, they stay for the next start to replay.
   */
  close(opts: { keep?: boolean } = {}): void {
    for (const seg of [...this.segments]) {
      if (opts.keep) closeSync(seg.fd);
      else this.dropSegment(seg);
    }
    this.unlock();
    if (!opts.keep) rmSync(join(this.dir, `${this.instanceId}.lock`), { force: true });
  }
}

/**
 * Moves the journals of stopped instances (their lock is free) into the owed-charges file, synced,
 * before deleting them; the replay of that file then applies each settlement once. A crash half-way
 * leaves a journal to move again: harmless, since the replay skips what is already applied.
 * Returns how many journals were taken.
 */
export function takeStoppedJournals(dataDir: string, unsettledFile: string): number {
  const dir = join(dataDir, JOURNAL_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0; // no journal was ever written here
  }
  const instances = new Set(names.map((n) => /^(.+?)\.(?:lock|\d+\.jsonl)$/.exec(n)?.[1]).filter((x): x is string => !!x));
  let taken = 0;
  for (const instance of instances) {
    const lockFile = join(dir, `${instance}.lock`);
    const unlock = tryProcessLock(lockFile);
    if (!unlock) continue; // a live instance: its journal is its own
    try {
      const segments = names
        .filter((n) => n.startsWith(`${instance}.`) && n.endsWith('.jsonl'))
        .map((n) => ({ n, seq: Number(n.slice(instance.length + 1, -'.jsonl'.length)) }))
        .sort((a, b) => a.seq - b.seq);
      const text = segments.map(({ n }) => readFileSync(join(dir, n), 'utf8')).join('\n');
      keepUnsettledText(unsettledFile, text);
      for (const { n } of segments) unlinkSync(join(dir, n));
      taken++;
    } finally {
      unlock();
    }
    rmSync(lockFile, { force: true });
  }
  return taken;
}
