import { chmodSync, closeSync, existsSync, openSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { tryProcessLock } from '../lib/process-lock.ts';

/**
 * The database holds password hashes, sealed channel keys and the ledger: owner-only, like
 * secret.key. SQLite gives its -wal, -shm and -journal files the mode of the database file, so
 * creating that one 0600 (and tightening an older 0644 one) covers them all.
 */
export function restrictSqliteFiles(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    try {
      chmodSync(f, 0o600);
    } catch {
      // Missing (not created yet) or owned by someone else: SQLite then uses what is there.
    }
  }
}

export class DatabaseInUseError extends Error {}

/**
 * Takes an exclusive lock for this process's life on `<database>.lock`, or throws if another process
 * (or another gateway in this one) holds it. On SQLite, holds live in the owning process's memory, so
 * two processes on one file would each let a user spend the same balance. The lock is SQLite's own
 * file lock on a side file (process-lock.ts): the operating system drops it when the process ends,
 * even by kill -9, so a restart is never blocked by a stale lock.
 */
export function lockSqliteFile(file: string): () => void {
  const lockFile = join(realpathSync(dirname(file)), `${basename(file)}.lock`);
  const unlock = tryProcessLock(lockFile);
  if (!unlock) {
    throw new DatabaseInUseError(
      `Another MoleAPI process is already using the SQLite database ${file} (it holds ${lockFile}). ` +
        'SQLite mode serves from one process only: stop the other process first, or use PostgreSQL (DATABASE_URL=postgres://…) to run several instances.',
    );
  }
  return unlock;
}
