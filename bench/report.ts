// Formatting of the benchmark's results table and of the pass/fail target checks.
import type { Measured, RunStats, Scenario } from './load.ts';

export interface ScenarioResult {
  scenario: Scenario;
  a: Measured;
  b?: Measured;
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

export function ratio(r: ScenarioResult): number {
  return r.b ? r.b.main.rps / r.a.main.rps : Number.NaN;
}

export function overhead(r: ScenarioResult, p: 'p50' | 'p99'): number {
  return r.b ? r.b.main[p] - r.a.main[p] : Number.NaN;
}

export function printTable(results: ScenarioResult[]): void {
  const header = ['scenario', 'A req/s', 'B req/s', 'B/A', 'A p50/p99 ms', 'B p50/p99 ms', 'ovh p50 ms', 'ovh p99 ms', 'A/B bad'];
  const lines = results.map((r) => {
    const b = r.b?.main;
    return [
      r.scenario.name,
      fmt(r.a.main.rps, 0),
      b ? fmt(b.rps, 0) : 'n/a',
      fmt(ratio(r)),
      `${fmt(r.a.main.p50)}/${fmt(r.a.main.p99)}`,
      b ? `${fmt(b.p50)}/${fmt(b.p99)}` : 'n/a',
      fmt(overhead(r, 'p50')),
      fmt(overhead(r, 'p99')),
      `${bad(r.a.main)}/${b ? bad(b) : 'n/a'}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  console.log(row(header, widths));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(row(line, widths));
  console.log('A = bare Node proxy (floor), B = MoleAPI gateway; ovh = B − A latency; bad = non-2xx + errors in the measured run');
}

const bad = (s: RunStats): number => s.non2xx + s.errors;

// Lists every non-2xx status and connection error, warmups included, so nothing is hidden.
export function printErrors(results: ScenarioResult[]): void {
  for (const r of results) {
    for (const [label, m] of [['A', r.a], ['B', r.b]] as const) {
      if (!m) continue;
      const runs = [...m.warmup, m.main];
      const errors = runs.reduce((n, s) => n + s.errors, 0);
      const codes: Record<string, number> = {};
      for (const s of runs) {
        for (const [code, n] of Object.entries(s.statusCodes)) if (!code.startsWith('2')) codes[code] = (codes[code] ?? 0) + n;
      }
      if (errors === 0 && Object.keys(codes).length === 0) continue;
      const list = Object.entries(codes).map(([c, n]) => `${n}× ${c}`);
      if (errors > 0) list.push(`${errors} connection errors/timeouts`);
      console.log(`  errors ${label} ${r.scenario.name}: ${list.join(', ')}`);
    }
  }
}

export function printChecks(checks: Check[]): void {
  for (const c of checks) console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
}

// Sum of 2xx answers in every run (warmups too): each must have produced one usage log row.
export function total2xx(m: Measured | undefined): number {
  if (!m) return 0;
  return [...m.warmup, m.main].reduce((n, s) => n + s.ok, 0);
}

export function countErrors(m: Measured | undefined): number {
  if (!m) return 0;
  return [...m.warmup, m.main].reduce((n, s) => n + bad(s), 0);
}
