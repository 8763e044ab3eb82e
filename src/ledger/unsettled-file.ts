import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isUniqueViolation, type Database } from '../db/index.ts';
import { alreadySettled, applySettlements, settledAmong, type Settlement } from './settlement-sql.ts';

// Charges of served requests that the database refused until shutdown are kept in a file (one JSON
// settlement per line) and applied at the next start, so a database outage cannot lose them.

function appendSynced(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'a', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Appends settlements to the file and syncs it to disk. */
export function keepUnsettled(file: string, items: Settlement[]): void {
  if (items.length) appendSynced(file, items.map((s) => JSON.stringify(s) + '\n').join(''));
}

/** Appends lines of settlements (e.g. a settlement journal's) to the file and syncs it to disk. */
export function keepUnsettledText(file: string, text: string): void {
  if (text.trim()) appendSynced(file, text.endsWith('\n') ? text : text + '\n');
}

function readLines(file: string): { items: Settlement[]; unreadable: string[] } {
  const items: Settlement[] = [];
  const unreadable: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      items.push(JSON.parse(line) as Settlement);
    } catch {
      unreadable.push(line); // a line cut by a crash mid-write: kept aside for a human, never dropped
    }
  }
  return { items, unreadable };
}

export interface ReplayResult {
  applied: number;
  /** Already in the database (the commit had succeeded after all, or an earlier replay got it). */
  skipped: number;
  /** Still refused; written back to the file for the next start. */
  failed: number;
  /** Lines that were not JSON (cut by a crash mid-write), moved to `<file>.unreadable`. */
  unreadable: number;
  error?: unknown;
}

/** Applies the settlements kept in the file, each once: its usage-log row tells whether it already was. */
export async function replayUnsettled(db: Database, file: string): Promise<ReplayResult> {
  const result: ReplayResult = { applied: 0, skipped: 0, failed: 0, unreadable: 0 };
  // Work on a renamed file: a crash mid-replay leaves it for the next start, which finishes it (the
  // usage-log check below makes applying a line twice harmless).
  const taken = `${file}.replaying`;
  if (existsSync(file)) {
    if (existsSync(taken)) {
      // A replay was cut short by a crash: finish it together with the new lines.
      appendSynced(taken, readFileSync(file, 'utf8'));
      rmSync(file);
    } else {
      renameSync(file, taken);
    }
  }
  if (!existsSync(taken)) return result;
  const { items, unreadable } = readLines(taken);
  result.unreadable = unreadable.length;
  const left: Settlement[] = [];
  // Most lines of a settlement journal had committed before the crash: one query per chunk finds them.
  const settled = await settledAmong(db, items);
  for (const s of items) {
    if (settled.has(s)) {
      result.skipped++;
      continue;
    }
    try {
      const applied = await db.tx(async (q) => {
        if (await alreadySettled(q, s)) return false;
        await applySettlements(q, [s], db.dialect);
        return true;
      });
      if (!applied) {
        result.skipped++;
        continue;
      }
      result.applied++;
    } catch (err) {
      if (isUniqueViolation(err)) {
        result.skipped++;
        continue;
      }
      result.failed++;
      result.error = err;
      left.push(s);
    }
  }
  keepUnsettled(file, left);
  if (unreadable.length) appendSynced(`${file}.unreadable`, unreadable.join('\n') + '\n');
  rmSync(taken);
  return result;
}
