/** Text output of the CLI: tables, numbers, the run summary and the progress bar. */
import { ATTRIBUTION_CATEGORIES, type Attribution, type RunResult } from '../sim/result/types.js';

/**
 * Text with its control characters (ESC, BEL, CR, line breaks, C1) shown as escapes, so
 * that a name, a trace line or a path read from a file cannot drive the terminal.
 */
export function printable(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Left-aligned columns, except those listed in `right` (numbers), separated by two spaces. */
export function table(header: string[], raw: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const rows = raw.map((r) => r.map(printable));
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A number for people: thousands separators for whole numbers, a few significant digits otherwise. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const abs = Math.abs(v);
  if (abs >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 1 });
  if (abs >= 1) return v.toLocaleString('en-US', { maximumFractionDigits: 3 });
  return v
    .toPrecision(4)
    .replace(/\.?0+$/, '')
    .replace(/\.?0+e/, 'e');
}

/** Nanoseconds in the unit that reads best: "812 ns", "1.73 ms", "2.5 s". */
export function formatNs(ns: number): string {
  const abs = Math.abs(ns);
  const [div, unit] = abs >= 1e9 ? [1e9, 's'] : abs >= 1e6 ? [1e6, 'ms'] : abs >= 1e3 ? [1e3, 'us'] : [1, 'ns'];
  return `${Number((ns / div).toPrecision(4))} ${unit}`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

/**
 * The human summary of a finished run, as lines (`hetmem run` and `hetmem show`). `extra`
 * rows join the facts at the top (a stored run's tags). A script with expectations ends
 * with its pass/fail line.
 */
export function runSummary(
  runId: number,
  result: RunResult,
  wallMs: number,
  dbPath: string,
  extra: [string, string][] = [],
): string[] {
  const simNs = result.metrics['sim.time_ns']?.value;
  const out = [
    `run ${runId}: done in ${formatMs(wallMs)} (stored in ${dbPath})`,
    ...table(
      ['', ''],
      [
        ['experiment', result.experimentName],
        ['strategy', result.strategy],
        ['workload', result.workload],
        ['seed', String(result.seed)],
        ['simulated time', simNs === undefined ? '-' : formatNs(simNs)],
        ['model version', result.modelVersion],
        ...extra,
      ],
    ).slice(1),
    '',
    'metrics',
  ];
  // Grouped by component: the first segment of the hierarchical name, groups in the order
  // they first appear, with the run as a whole (sim.*) first.
  const groups = new Map<string, [string, string, string][]>([['sim', []]]);
  for (const [name, m] of Object.entries(result.metrics)) {
    const component = name.split('.')[0];
    if (!groups.has(component)) groups.set(component, []);
    groups.get(component)!.push([name, formatNumber(m.value), m.unit]);
  }
  const rows: string[][] = [];
  for (const [component, metrics] of groups) {
    metrics.forEach(([name, value, unit], i) => rows.push([i === 0 ? component : '', name, value, unit]));
  }
  out.push(...table(['component', 'name', 'value', 'unit'], rows, new Set([2])).map((l) => `  ${l}`));
  if (result.attribution.length > 0) {
    out.push('', "time attribution (share of each agent's simulated time)");
    out.push(...attributionTable(result.attribution.map((a) => ({ label: [], attribution: a }))).map((l) => `  ${l}`));
  }
  out.push(...phaseTable(result));
  const lines = result.attribution.filter((a) => a.agent !== 'cpu').map(deviceTimeLine);
  if (lines.length > 0) out.push('', ...lines);
  // Last, so a script's verdict is the final line.
  const verdict = scriptVerdict(result);
  if (verdict) out.push('', verdict.line);
  return out;
}

/**
 * Agents' shares of their time by category, one row per agent; `label` cells lead each
 * row under `labelHeader` (the run, when several runs share the table).
 */
export function attributionTable(
  rows: readonly { label: string[]; attribution: Attribution }[],
  labelHeader: string[] = [],
): string[] {
  const header = [...labelHeader, 'agent', 'contexts', ...ATTRIBUTION_CATEGORIES];
  const cells = rows.map(({ label, attribution: a }) => [
    ...label,
    a.agent,
    String(a.contexts),
    ...ATTRIBUTION_CATEGORIES.map((c) => percent(a.ns[c] ?? 0, a.totalNs)),
  ]);
  const right = new Set(header.map((_, i) => i).filter((i) => i > labelHeader.length));
  return table(header, cells, right);
}

/**
 * For a script whose operations carry expectations: PASS when every outcome was the
 * expected one, else FAIL naming the operations that differed. Null for other workloads.
 */
export function scriptVerdict(result: RunResult): { pass: boolean; line: string } | null {
  const checked = result.ops.filter((o) => o.expected !== undefined);
  if (checked.length === 0) return null;
  const unexpected = checked.filter((o) => o.unexpected);
  if (unexpected.length === 0) {
    return { pass: true, line: `PASS: all ${checked.length} checked operations had their expected outcome` };
  }
  const which = unexpected
    .slice(0, 10)
    .map((o) => `[${o.index}] ${o.error === undefined ? 'ok' : o.error.split(':')[0]} (expected ${o.expected})`)
    .join(', ');
  const more = unexpected.length > 10 ? `, and ${unexpected.length - 10} more` : '';
  return {
    pass: false,
    line: `FAIL: ${unexpected.length} of ${checked.length} checked operations had an unexpected outcome: ${which}${more}`,
  };
}

/**
 * Where a device's busy time went, in one line: "gpu0: 61 % fault service, 30 % link
 * wait, 9 % compute (busy 35 % of the run)". Shares of its non-idle time, largest first.
 */
export function deviceTimeLine(a: RunResult['attribution'][number]): string {
  const busy = Object.entries(a.ns).filter(([c, ns]) => c !== 'idle' && ns > 0);
  const busyNs = busy.reduce((sum, [, ns]) => sum + ns, 0);
  if (busyNs === 0) return `${a.agent}: idle for the whole run`;
  const parts = busy
    .sort((x, y) => y[1] - x[1])
    .filter(([, ns]) => ns / busyNs >= 0.005)
    .map(([c, ns]) => `${Math.round((ns / busyNs) * 100)} % ${c.replaceAll('_', ' ')}`);
  return `${a.agent}: ${parts.join(', ')} (busy ${Math.round((busyNs / a.totalNs) * 100)} % of the run)`;
}

const MAX_PHASE_ROWS = 40;

/** Phases (or a script's operations) with their times, faults, link bytes and outcome. */
function phaseTable(result: RunResult): string[] {
  if (result.ops.length === 0) return [];
  const scripted = result.ops.some((o) => o.expected !== undefined);
  const out = ['', scripted ? 'operations' : 'phases'];
  const outcome = (o: RunResult['ops'][number]) => {
    const got = o.error === undefined ? 'ok' : o.error.split(':')[0];
    if (o.expected === undefined) return got;
    return o.unexpected ? `${got} (expected ${o.expected}) UNEXPECTED` : got;
  };
  const rows = result.ops
    .slice(0, MAX_PHASE_ROWS)
    .map((o) => [
      String(o.index),
      o.op,
      formatNs(o.durationNs),
      formatNumber(o.faults),
      formatNumber(o.h2dBytes),
      formatNumber(o.d2hBytes),
      outcome(o),
    ]);
  const header = ['#', scripted ? 'operation' : 'phase', 'time', 'faults', 'h2d bytes', 'd2h bytes', 'outcome'];
  out.push(...table(header, rows, new Set([0, 2, 3, 4, 5])).map((l) => `  ${l}`));
  if (result.ops.length > MAX_PHASE_ROWS) out.push(`  ... and ${result.ops.length - MAX_PHASE_ROWS} more (see --json)`);
  const errors = result.ops.filter((o) => o.error !== undefined);
  if (errors.length > 0) {
    out.push('', 'errors');
    for (const o of errors) out.push(`  [${o.index}] ${o.error}`);
  }
  return out;
}

/** A one-line progress bar for a terminal that redraws in place with \r (the sweep's; a run's is run-progress.ts). */
export class ProgressBar {
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly width = 30,
  ) {}

  /** Draws `[####------] text` in place, cut to the terminal's width. */
  protected draw(fraction: number, text: string): void {
    const filled = Math.round(fraction * this.width);
    const bar = '#'.repeat(filled) + '-'.repeat(this.width - filled);
    let line = `[${bar}] ${printable(text)}`;
    const cols = this.stream.columns || 80; // 0 under some pseudo-terminals (script, CI)
    if (line.length > cols - 1) line = line.slice(0, cols - 1);
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

/**
 * A result for `--json` on stdout: without its component timeline, which can be megabytes
 * and has its own command (`hetmem trace`).
 */
export function withoutTimeline(result: RunResult): Omit<RunResult, 'timeline'> {
  const { timeline: _, ...rest } = result;
  return rest;
}
