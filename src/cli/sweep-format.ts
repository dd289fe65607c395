/** Text output of `hetmem sweep`: the overall progress bar and the summary table. */
import type { SweepSummary } from '../main/services/sweeps/summary.js';
import { formatMs, formatNumber, ProgressBar, table } from './format.js';

/** One line on stderr: points done and failed of the total, and the time left at the pace so far. */
export class SweepProgressBar extends ProgressBar {
  private readonly started = Date.now();
  private done = 0;
  private failed = 0;

  constructor(
    stream: NodeJS.WriteStream,
    private readonly total: number,
  ) {
    super(stream, 20);
  }

  point(ok: boolean): void {
    if (ok) this.done++;
    else this.failed++;
    this.show();
  }

  show(): void {
    const finished = this.done + this.failed;
    const elapsed = Date.now() - this.started;
    const left = finished ? formatMs((elapsed / finished) * (this.total - finished)) : '?';
    const text = `${finished}/${this.total} points: ${this.done} done, ${this.failed} failed, ${left} left`;
    this.draw(this.total ? finished / this.total : 1, text);
  }
}

/** The swept axes against the metric: mean, spread (sd and range) over seeds, runs. */
export function sweepTable(s: SweepSummary): string[] {
  const unit = s.unit ? ` (${s.unit})` : '';
  const reps = Math.max(...s.rows.map((r) => r.n + r.missing));
  const header = [
    ...s.axes,
    `${s.metric}${unit} mean`,
    ...(reps > 1 ? ['sd', 'min', 'max', 'n'] : []),
    'missing',
    'runs',
  ];
  const num = (v: number) => (Number.isNaN(v) ? '-' : formatNumber(v));
  const rows = s.rows.map((r) => [
    ...r.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
    num(r.mean),
    ...(reps > 1 ? [num(r.sd), num(r.min), num(r.max), String(r.n)] : []),
    r.missing ? String(r.missing) : '',
    compactIds(r.runIds),
  ]);
  const right = new Set(header.map((_, i) => i).filter((i) => i >= s.axes.length && i < header.length - 1));
  return table(header, rows, right);
}

/** [3, 4, 5, 9] -> "3-5,9" (the form `--runs` takes). */
export function compactIds(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(',');
}
