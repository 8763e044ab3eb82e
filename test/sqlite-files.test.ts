// The SQLite database file (SQLite only): one process at a time, and files only the owner can read.
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startGatewayProcess, spawnGateway, type GatewayProcess } from './helpers/gateway-process.ts';
import { createUserWithKey, startGateway } from './helpers/gateway.ts';

const onSqlite = !process.env.TEST_DATABASE_URL;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const modeOf = (file: string) => statSync(file).mode & 0o777;

let dir: string;
const processes: GatewayProcess[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.runIf(onSqlite)('one SQLite file, one process', () => {
  // Spawns three processes: allow for a loaded machine.
  it('a second process on the same file refuses to start with a clear message; a restart after kill -9 starts', { timeout: 120_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'moleapi-lock-'));
    const env = { DATABASE_URL: `sqlite:${join(dir, 'moleapi.db')}` };
    const first = await startGatewayProcess(env);
    processes.push(first);

    const second = spawnGateway(env);
    processes.push(second);
    expect(await Promise.race([second.exited, sleep(60_000).then(() => 'still running after 60 s')])).toBe(1);
    expect(second.output()).toContain(`Another MoleAPI process is already using the SQLite database ${join(dir, 'moleapi.db')}`);
    expect(second.output()).toContain('use PostgreSQL');
    expect((await fetch(`${first.url}/api/status`)).status).toBe(200); // the first one is untouched

    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const third = await startGatewayProcess(env); // the lock died with the process
    processes.push(third);
    expect((await fetch(`${third.url}/api/status`)).status).toBe(200);
  });

  it('a second gateway in the same process is refused too, and the file is free again after close', async () => {
    const first = await startGateway();
    try {
      await expect(startGateway({ databaseUrl: first.databaseUrl, adminPassword: first.adminPassword })).rejects.toThrow(/already using the SQLite database/);
      await first.close({ keepDatabase: true });
      const again = await startGateway({ databaseUrl: first.databaseUrl, adminPassword: first.adminPassword });
      await again.close();
    } catch (err) {
      await first.close().catch(() => undefined);
      throw err;
    }
  });
});

describe.runIf(onSqlite)('SQLite file modes', () => {
  it('the database, its WAL and shared-memory files and the lock file are created 0600', async () => {
    const gw = await startGateway();
    try {
      await createUserWithKey(gw); // writes, so the WAL has content
      const file = gw.databaseUrl.replace(/^sqlite:/, '');
      for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}.lock`]) expect([f, modeOf(f).toString(8)]).toEqual([f, '600']);
    } finally {
      await gw.close();
    }
  });

  it('an existing database readable by others is made 0600 at start', async () => {
    dir = mkdtempSync(join(tmpdir(), 'moleapi-mode-'));
    const file = join(dir, 'old.db');
    const old = new BetterSqlite3(file);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x)');
    old.close();
    chmodSync(file, 0o644);
    expect(modeOf(file)).toBe(0o644);

    const gw = await startGateway({ databaseUrl: `sqlite:${file}` });
    try {
      expect(modeOf(file)).toBe(0o600);
      expect(modeOf(`${file}-wal`)).toBe(0o600);
    } finally {
      await gw.close();
    }
  });
});
