// What a run produces: one row per scenario, printed as a table and written with the machine's
// facts to bench/results/<timestamp>-<dialect>.json and bench/results/latest.json.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS = `${ROOT}bench/results/`;

export interface Row {
  readonly scenario: string;
  readonly dialect: string;
  /** The route measured, for the ratio to the baseline of the same route. */
  readonly route: 'gate' | 'leads' | null;
  readonly unit: 'req/s' | 'ev/s' | 'msg/s';
  readonly rate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  /** rate ÷ the baseline's rate on the same route, same dialect run. */
  ratio: number | null;
  /** Gate rows: rate ÷ the near-limit durable reference's rate, same dialect run. */
  referenceRatio: number | null;
  readonly non2xx: number | null;
  readonly idleRssMb: number | null;
  readonly peakRssMb: number | null;
  readonly note: string;
  /** Everything else measured (load generator figures, status counts, drain trace…). */
  readonly details: Record<string, unknown>;
}

export interface ProcessFigures {
  readonly name: string;
  readonly idleMb: number | null;
  readonly peakMb: number;
  readonly hwmMb: number | null;
}

export interface DialectReport {
  readonly dialect: string;
  readonly database: string;
  readonly rows: Row[];
  readonly processes: ProcessFigures[];
}

function run(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export interface MachineFacts {
  readonly date: string;
  readonly node: string;
  readonly nproc: number;
  readonly cpu: string | null;
  readonly memoryMb: number;
  readonly kernel: string;
  readonly loadAverageBefore: number[];
  readonly gitCommit: string | null;
  readonly gitDirty: boolean;
  readonly loadGenerator: string;
}

export function machineFacts(loadTool: string): MachineFacts {
  // `wrk -v` prints its version and exits 1.
  const wrkVersion = /^wrk \S+/.exec(spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout ?? '')?.[0];
  return {
    date: new Date().toISOString(),
    node: process.version,
    nproc: Number(run('nproc', []) ?? os.availableParallelism()),
    cpu: os.cpus()[0]?.model ?? null,
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    kernel: os.release(),
    loadAverageBefore: os.loadavg().map((l) => Math.round(l * 100) / 100),
    gitCommit: run('git', ['rev-parse', '--short', 'HEAD']),
    // src/ may hold uncommitted changes: the commit alone would not say what was measured.
    gitDirty: (run('git', ['status', '--porcelain', '--', '.', ':!bench/results']) ?? '') !== '',
    loadGenerator: loadTool === 'wrk' ? (wrkVersion ?? 'wrk') : 'autocannon',
  };
}

const ratioOf = (rate: number, of: number) => Math.round((rate / of) * 1000) / 1000;

/** Fills in each row's ratio to the baseline row of the same route, and the service's gate rows' to the reference. */
export function addRatios(rows: Row[]): void {
  const reference = rows.find((r) => r.scenario === 'reference gate');
  for (const row of rows) {
    const baseline = rows.find((r) => r.scenario.startsWith('baseline') && r.route === row.route && r.dialect === row.dialect);
    if (row.route !== null && baseline?.rate && row.rate !== null) row.ratio = ratioOf(row.rate, baseline.rate);
    const isService = row.scenario.startsWith('service');
    if (isService && row.route === 'gate' && reference?.rate && row.rate !== null && row.dialect === reference.dialect) {
      row.referenceRatio = ratioOf(row.rate, reference.rate);
    }
  }
}

const fixed = (n: number | null, digits: number) => (n === null ? '-' : n.toFixed(digits));

export function printTable(rows: readonly Row[]): void {
  const header = ['scenario', 'dialect', 'rate', 'p50 ms', 'p99 ms', '×baseline', '×reference', 'non-2xx', 'RSS idle/peak MB', 'note'];
  const lines = rows.map((r) => [
    r.scenario,
    r.dialect,
    r.rate === null ? '-' : `${r.rate.toFixed(0)} ${r.unit}`,
    fixed(r.p50Ms, 2),
    fixed(r.p99Ms, 2),
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    r.referenceRatio === null ? '-' : r.referenceRatio.toFixed(2),
    r.non2xx === null ? '-' : String(r.non2xx),
    `${fixed(r.idleRssMb, 0)} / ${fixed(r.peakRssMb, 0)}`,
    r.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const right = new Set([2, 3, 4, 5, 6, 7, 8]);
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`\n${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const line of lines) process.stdout.write(`${format(line)}\n`);
}

export function printProcesses(reports: readonly DialectReport[]): void {
  process.stdout.write('\nprocess RSS MB (idle 2 s after start / peak sampled every 100 ms / VmHWM):\n');
  for (const r of reports) {
    const cells = r.processes.map((p) => `${p.name} ${fixed(p.idleMb, 0)}/${p.peakMb.toFixed(0)}/${fixed(p.hwmMb, 0)}`);
    process.stdout.write(`  ${r.dialect}: ${cells.join(', ')}\n`);
  }
}

/** A file name stamp without colons: 2025-01-31T12-00-00Z. */
export function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

/**
 * Writes a results file formatted as `npm run lint` wants it (Biome checks bench/**, and results
 * are committed): JSON.stringify's layout, then Biome's formatter.
 */
function writeJson(path: string, value: unknown): void {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  const biome = spawnSync(process.execPath, [`${ROOT}node_modules/@biomejs/biome/bin/biome`, 'format', '--write', path], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (biome.status !== 0) process.stderr.write(`warning: could not format ${path} with Biome: ${biome.stderr || biome.error?.message}\n`);
}

/** Writes <stamp>-<dialect>.json. */
export function writeDialect(runStamp: string, common: Record<string, unknown>, report: DialectReport): void {
  writeJson(`${RESULTS}${runStamp}-${report.dialect}.json`, { ...common, ...report });
}

/** Writes latest.json: the whole run, every dialect measured so far. */
export function writeLatest(common: Record<string, unknown>, reports: readonly DialectReport[]): void {
  writeJson(`${RESULTS}latest.json`, { ...common, dialects: reports });
}
