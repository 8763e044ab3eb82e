// Child-process bookkeeping for the benchmark: every child is registered here so that any way
// out of the run (success, error, Ctrl-C) kills all of them and no server outlives the bench.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const children = new Set<ChildProcess>();
const benchDir = fileURLToPath(new URL('.', import.meta.url));

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

// Installed once by run.ts. 'exit' handlers must be synchronous, and kill() is.
export function killChildrenOnExit(): void {
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping children`);
      killAll();
      process.exit(130);
    });
  }
}

// Starts one of bench/*.ts in its own Node process and waits for it to report its port over IPC.
export function startBenchChild(file: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', benchDir + file], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not report a port within 20 s`)), 20_000);
    child.once('message', (msg: { port?: number }) => {
      clearTimeout(timer);
      if (typeof msg.port === 'number') resolve({ child, port: msg.port });
      else reject(new Error(`${file} sent an unexpected message: ${JSON.stringify(msg)}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited early (code ${code}, signal ${signal})`));
    });
  });
}

// For a child that takes its port from the environment (the gateway): ask the OS for a free one.
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

// Waits for a child to exit, with a deadline; resolves to null on timeout.
export function waitForExit(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: string | null } | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // the process is gone
  }
}

export interface MemorySampler {
  stop(): void;
  peakRssMb(): number;
  // VmHWM is the kernel's own high-water mark: it catches spikes between our 200 ms samples.
  hwmMb(): number | undefined;
}

export function sampleMemory(pid: number, everyMs = 200): MemorySampler {
  let peakKb = 0;
  let lastHwmKb: number | undefined;
  const sample = (): void => {
    peakKb = Math.max(peakKb, statusKb(pid, 'VmRSS') ?? 0);
    lastHwmKb = statusKb(pid, 'VmHWM') ?? lastHwmKb;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    stop: () => {
      sample();
      clearInterval(timer);
    },
    peakRssMb: () => peakKb / 1024,
    hwmMb: () => (lastHwmKb === undefined ? undefined : lastHwmKb / 1024),
  };
}
