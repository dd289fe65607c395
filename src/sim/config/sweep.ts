/**
 * The optional `sweep` section of an experiment: axes (a JSON path and its values, a
 * range with a step, or evenly or log-spaced values), combined as a full grid, zipped, or
 * sampled at random with a seed, each point repeated over several seeds.
 *
 * Everything here is pure: the services turn each point into an ordinary experiment
 * (`pointDocument`), validate it like any other and run it.
 */
import { z } from 'zod';
import { Rng } from '../engine/rng.js';
import { closest, num, obj, oneOf } from '../schema/fields.js';
import type { ConfigIssue } from './validate.js';

/** More points than this is almost certainly a mistake in a range's step. */
export const MAX_SWEEP_POINTS = 100_000;

const axisSchema = obj(
  {
    path: z
      .string()
      .min(1, 'give the JSON path of the field to sweep, e.g. "hardware.link.lanes"')
      .describe('JSON path of the swept field, e.g. "hardware.link.lanes" or "hardware.devices[1].computeUnits".'),
    values: z.array(z.unknown()).min(1, 'give at least one value').optional().describe('The values, in order.'),
    from: z.number().optional().describe('First value of a range.'),
    to: z.number().optional().describe('Last value of a range (included when the steps land on it).'),
    step: num('Distance between values of a linear range.', {
      gt: 0,
      max: Number.MAX_SAFE_INTEGER,
      why: 'at most 2^53 - 1, the largest exact whole number',
    }).optional(),
    count: num(
      'Number of values from `from` to `to`, both included (log-spaced whole-number ends give whole numbers).',
      { int: true, min: 2, max: 10000 },
    ).optional(),
    scale: oneOf(
      ['linear', 'log'],
      'an axis scale',
      'How `count` values are spaced: evenly, or by a constant ratio.',
    ).default('linear'),
  },
  'One swept field: `values`, or `from` and `to` with a `step` or a `count`.',
).superRefine((a, ctx) => {
  const range = a.from !== undefined || a.to !== undefined || a.step !== undefined || a.count !== undefined;
  const fail = (message: string, path: string[] = []) => ctx.addIssue({ code: 'custom', message, path });
  if (a.values !== undefined) {
    if (range) fail('give either `values` or a range (`from`, `to`, `step` or `count`), not both');
    return;
  }
  if (a.from === undefined || a.to === undefined) return fail('give `values`, or a range with `from` and `to`');
  if ((a.step === undefined) === (a.count === undefined)) return fail('a range needs exactly one of `step` or `count`');
  if (a.step !== undefined && a.scale === 'log') fail('a log scale takes a `count`, not a `step`', ['step']);
  if (a.step !== undefined && a.to < a.from)
    fail(`${a.to} is below from (${a.from}); a range with a step goes up`, ['to']);
  if (a.scale === 'log' && (a.from <= 0 || a.to <= 0)) fail('a log scale needs `from` and `to` above 0');
});

export const sweepSchema = obj(
  {
    mode: oneOf(
      ['grid', 'zip', 'random'],
      'a sweep mode',
      'How axes combine: every combination (grid), the i-th value of each axis together (zip), or `samples` grid points drawn at random.',
    ).default('grid'),
    samples: num('Points drawn from the grid in random mode.', { int: true, min: 1, max: MAX_SWEEP_POINTS }).optional(),
    samplingSeed: num('Seed of the random draw in random mode (not of the runs).', {
      int: true,
      min: 0,
      max: 2 ** 32 - 1,
    }).default(1),
    repetitions: num(
      'Runs per point, with seeds seed, seed + 1, ...; summaries show the mean and the spread over them.',
      { int: true, min: 1, max: 1000 },
    ).default(1),
    axes: z
      .array(axisSchema)
      .min(1, 'give at least one axis')
      .describe('The swept fields; each point sets one value of each.'),
  },
  'A parameter sweep: every point is an ordinary run of this experiment with the axes set.',
).superRefine((s, ctx) => {
  if (s.mode === 'random' && s.samples === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'random mode needs `samples` (how many points to draw)',
      path: ['samples'],
    });
  }
  if (s.mode !== 'random' && s.samples !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: '`samples` applies to random mode only; set "mode": "random"',
      path: ['samples'],
    });
  }
});

export type Sweep = z.output<typeof sweepSchema>;
export type SweepAxis = Sweep['axes'][number];

/** One point: a value per axis (in axis order) and which repetition. */
export interface SweepPoint {
  /** Position in the sweep, from 0; stable for the same document. */
  index: number;
  values: unknown[];
  repetition: number;
}

/** The values an axis takes. Ranges are computed from `from` so errors do not accumulate. */
export function axisValues(axis: SweepAxis): unknown[] {
  if (axis.values !== undefined) return axis.values;
  const from = axis.from as number;
  const to = axis.to as number;
  if (axis.step !== undefined) {
    const n = Math.floor((to - from) / axis.step + 1e-9) + 1;
    return Array.from({ length: n }, (_, i) => tidy(from + i * (axis.step as number)));
  }
  const count = axis.count as number;
  const whole = axis.scale === 'log' && Number.isInteger(from) && Number.isInteger(to);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = i / (count - 1);
    const v = axis.scale === 'log' ? from * (to / from) ** t : from + (to - from) * t;
    // Log-spaced whole-number ends give whole values (sizes, counts); repeats after rounding are dropped.
    const value = whole ? Math.round(v) : tidy(v);
    if (out[out.length - 1] !== value) out.push(value);
  }
  return out;
}

/** 0.30000000000000004 -> 0.3: values land in experiment documents and tags. */
function tidy(v: number): number {
  return Number(v.toPrecision(12));
}

/**
 * Every point of the sweep, or the issues that prevent it (zip lengths, sample count,
 * size). Points are ordered by combination, then repetition.
 */
export function sweepPoints(sweep: Sweep): { ok: true; points: SweepPoint[] } | { ok: false; issues: ConfigIssue[] } {
  const lists = sweep.axes.map(axisValues);
  let combos: number[][];
  if (sweep.mode === 'zip') {
    const n = lists[0].length;
    const bad = lists.findIndex((l) => l.length !== n);
    if (bad >= 0) {
      return fail(
        `sweep.axes[${bad}]`,
        `${sweep.axes[bad].path} has ${lists[bad].length} values but ${sweep.axes[0].path} has ${n}; zipped axes need the same number of values`,
      );
    }
    combos = Array.from({ length: n }, (_, i) => lists.map(() => i));
  } else {
    const size = lists.reduce((p, l) => p * l.length, 1);
    if (size > MAX_SWEEP_POINTS && sweep.mode === 'grid') return tooMany(size, sweep.repetitions);
    const picks =
      sweep.mode === 'random' ? samplePositions(size, sweep.samples as number, sweep.samplingSeed) : range(size);
    if (picks === null) {
      return fail('sweep.samples', `${sweep.samples} is more than the ${size} points of the grid; use at most ${size}`);
    }
    combos = picks.map((p) => gridPosition(p, lists));
  }
  if (combos.length * sweep.repetitions > MAX_SWEEP_POINTS) return tooMany(combos.length, sweep.repetitions);
  const points: SweepPoint[] = [];
  for (const combo of combos) {
    for (let r = 0; r < sweep.repetitions; r++) {
      points.push({ index: points.length, values: combo.map((i, a) => lists[a][i]), repetition: r });
    }
  }
  return { ok: true, points };
}

function fail(path: string, message: string): { ok: false; issues: ConfigIssue[] } {
  return { ok: false, issues: [{ path, message }] };
}

function tooMany(combos: number, reps: number): { ok: false; issues: ConfigIssue[] } {
  return fail(
    'sweep',
    `${combos} combinations x ${reps} repetitions is more than ${MAX_SWEEP_POINTS} points; use fewer values, a larger step, or "mode": "random" with "samples"`,
  );
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Grid position p -> an index per axis, the last axis varying fastest. */
function gridPosition(p: number, lists: unknown[][]): number[] {
  const out = new Array<number>(lists.length);
  for (let a = lists.length - 1; a >= 0; a--) {
    out[a] = p % lists[a].length;
    p = Math.floor(p / lists[a].length);
  }
  return out;
}

/** `k` distinct positions of `n`, in increasing order (Floyd's algorithm), or null if k > n. */
function samplePositions(n: number, k: number, seed: number): number[] | null {
  if (k > n) return null;
  const rng = new Rng(seed, 'sweep.samples');
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(rng.nextFloat() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** "hardware.devices[1].computeUnits" -> ["hardware", "devices", 1, "computeUnits"], or null. */
export function parseJsonPath(path: string): (string | number)[] | null {
  const keys: (string | number)[] = [];
  const re = /([A-Za-z_$][\w$-]*)|\[(\d+)\]|(\.)/gy;
  let expectKey = true;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path))) {
    if (m[1] !== undefined) {
      if (!expectKey) return null;
      keys.push(m[1]);
      expectKey = false;
    } else if (m[2] !== undefined) {
      if (expectKey) return null;
      keys.push(Number(m[2]));
    } else {
      if (expectKey) return null;
      expectKey = true;
    }
  }
  return re.lastIndex === path.length && !expectKey && keys.length > 0 ? keys : null;
}

const NOT_SWEPT: Record<string, string> = {
  seed: 'sweep seeds with "repetitions"',
  sweep: 'a sweep cannot sweep itself',
  name: 'the name identifies the whole sweep',
};

/**
 * Problems with the axes' paths against the validated experiment (defaults and preset
 * applied): each must name an existing field.
 */
export function checkSweepPaths(sweep: Sweep, experiment: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  sweep.axes.forEach((axis, a) => {
    const at = `sweep.axes[${a}].path`;
    const keys = parseJsonPath(axis.path);
    if (!keys) {
      issues.push({
        path: at,
        message: `${JSON.stringify(axis.path)} is not a JSON path; write keys with dots and indices in brackets, e.g. "hardware.devices[0].computeUnits"`,
      });
      return;
    }
    const why = NOT_SWEPT[String(keys[0])];
    if (why) {
      issues.push({ path: at, message: `${JSON.stringify(axis.path)} cannot be swept: ${why}` });
      return;
    }
    if (sweep.axes.findIndex((b) => b.path === axis.path) < a) {
      issues.push({ path: at, message: `${JSON.stringify(axis.path)} is swept twice; give each field one axis` });
      return;
    }
    const missing = missingField(axis.path, keys, experiment);
    if (missing) issues.push({ path: at, message: missing });
  });
  return issues;
}

/**
 * Why `path` (parsed into `keys`) names no field of `doc`, with the closest valid name or
 * the fields there are; null when it exists. Sweeps and `hetmem run --set` check paths with it.
 */
export function missingField(path: string, keys: readonly (string | number)[], doc: unknown): string | null {
  let v: unknown = doc;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    const next = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[key] : undefined;
    if (next === undefined) {
      const where = k === 0 ? 'the experiment' : JSON.stringify(formatKeys(keys.slice(0, k)));
      const valid = v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
      const near = typeof key === 'string' ? closest(key, valid) : undefined;
      const hint = Array.isArray(v)
        ? `it has ${v.length} entries`
        : near
          ? `did you mean "${formatKeys([...keys.slice(0, k), near])}"?`
          : `its fields are ${valid.map((f) => `"${f}"`).join(', ') || 'none'}`;
      return `${JSON.stringify(path)} does not exist: ${where} has no ${typeof key === 'number' ? `entry ${key}` : `field "${key}"`}; ${hint}`;
    }
    v = next;
  }
  return null;
}

function formatKeys(keys: readonly (string | number)[]): string {
  return keys.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/**
 * The experiment document of one point: the raw document without its sweep, with each
 * axis's value written at its path (objects created on the way, so an override beside a
 * preset works) and the repetition's seed.
 */
export function pointDocument(
  doc: Record<string, unknown>,
  sweep: Sweep,
  point: SweepPoint,
  baseSeed: number,
): Record<string, unknown> {
  const { sweep: _omit, ...rest } = doc;
  const out = structuredClone(rest);
  sweep.axes.forEach((axis, a) => setAt(out, parseJsonPath(axis.path) ?? [], point.values[a]));
  out.seed = baseSeed + point.repetition;
  return out;
}

/** Writes `value` at `keys` in `doc`, creating objects (or arrays, before an index) on the way. */
export function setAt(doc: Record<string, unknown>, keys: readonly (string | number)[], value: unknown): void {
  let v: Record<string | number, unknown> = doc;
  keys.forEach((key, k) => {
    if (k === keys.length - 1) {
      v[key] = structuredClone(value);
      return;
    }
    const next = v[key];
    if (next === null || typeof next !== 'object') v[key] = typeof keys[k + 1] === 'number' ? [] : {};
    v = v[key] as Record<string | number, unknown>;
  });
}

/** "hardware.link.lanes=8 workload.impl=\"gather\"": a point's coordinates for messages and names. */
export function describePoint(sweep: Sweep, point: SweepPoint): string {
  const coords = sweep.axes.map((axis, a) => `${axis.path}=${JSON.stringify(point.values[a])}`);
  return [...coords, ...(sweep.repetitions > 1 ? [`repetition ${point.repetition}`] : [])].join(' ');
}
