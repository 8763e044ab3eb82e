// Runs the gateway as a real process (`node --import tsx src/main.ts`), as `npm run dev` does, for
// tests about process life: start-up refusals, signals, kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface GatewayProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of `re` in the output (waits for it). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Exit code (or the signal's name), once the process has ended and its output is read. */
  exited: Promise<number | string>;
}

export function spawnGateway(env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', MOLEAPI_ADMIN_PASSWORD: 'admin-password-1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString('utf8');
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.once('close', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (!m) return;
          cleanup();
          resolve(m);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${re} in the gateway's output within ${timeoutMs} ms:\n${out}`));
        }, timeoutMs);
        void exited.then(() => setImmediate(() => {
          if (!waiters.has(check)) return;
          cleanup();
          reject(new Error(`the gateway exited without ${re} in its output:\n${out}`));
        }));
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Starts a gateway process and waits until it listens; returns it with its base URL. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess & { url: string }> {
  const p = spawnGateway(env);
  const m = await p.waitFor(/MoleAPI listening on http:\/\/localhost:(\d+)/);
  return Object.assign(p, { url: `http://127.0.0.1:${m[1]}` });
}
