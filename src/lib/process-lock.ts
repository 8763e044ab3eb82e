import { chmodSync, closeSync, openSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';

/**
 * Takes an exclusive lock on `lockFile` for as long as the returned function is not called, or
 * returns null if another process (or another holder in this one) has it. The lock is SQLite's own
 * file lock, held by an open connection: the operating system drops it when the process ends, even by
 * kill -9, so a lock never outlives its process. The file records the holder's pid, for a human.
 */
export function tryProcessLock(lockFile: string): (() => void) | null {
  closeSync(openSync(lockFile, 'a', 0o600));
  chmodSync(lockFile, 0o600); // an older one may have been created 0644
  const conn = new BetterSqlite3(lockFile, { timeout: 0 });
  try {
    conn.pragma('journal_mode = MEMORY');
    conn.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; in EXCLUSIVE locking mode it is kept until close.
    conn.exec('BEGIN EXCLUSIVE');
    conn.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER, started_at INTEGER)');
    conn.exec('DELETE FROM holder');
    conn.prepare('INSERT INTO holder VALUES (?, ?)').run(process.pid, Date.now());
    conn.exec('COMMIT');
  } catch (err) {
    conn.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return null;
    throw err;
  }
  return () => conn.close();
}
