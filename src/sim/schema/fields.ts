/**
 * Building blocks for the experiment schema. Every object is strict: an unknown key is an
 * error that names the closest valid key. Every field carries a description (meaning,
 * unit, source), which the generated JSON Schema shows as hover documentation.
 */
import { z } from 'zod';
import { formatBytes, isPowerOfTwo, parseSize, sizeProblem } from './units.js';

/** A strict object whose unknown-key error suggests the nearest valid key. */
export function obj<T extends z.ZodRawShape>(shape: T, description?: string) {
  const keys = Object.keys(shape);
  const schema = z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') {
        return iss.keys.map((k) => unknownKeyMessage(k, keys)).join('; ');
      }
      if (iss.code === 'invalid_type') return `expected an object, got ${describeInput(iss.input)}`;
      return undefined;
    },
  });
  return description ? schema.describe(description) : schema;
}

export function unknownKeyMessage(key: string, valid: readonly string[]): string {
  const near = closest(key, valid);
  const hint = near ? `did you mean "${near}"?` : `valid keys: ${valid.map((v) => `"${v}"`).join(', ')}`;
  return `unknown field "${key}"; ${hint}`;
}

/** The valid name nearest to `name` by edit distance, if it is near enough to be a typo. */
export function closest(name: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const v of valid) {
    // The distance is at least the difference in length: skip names too far to be a typo.
    if (Math.abs(name.length - v.length) > Math.max(2, Math.floor(v.length / 3))) continue;
    const d = editDistance(lower, v.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = v;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

export function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'string') return JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input);
  if (typeof input === 'object') return 'an object';
  return String(input);
}

/**
 * Upper bounds shared by many fields, each with the reason the user is told. Every number
 * has a finite bound, so that what validates also runs: no time past the simulated-time
 * horizon (2^53 ps) from one step, no table too large to allocate.
 */
export const BOUND = {
  /** Latencies and software costs, in ns. */
  ns: { max: 1e9, why: 'at most 1 s: no single hardware or driver step takes longer' },
  /** Latencies in cycles of a clock. */
  cycles: { max: 1e6, why: 'at most a million cycles: no single hardware step takes longer' },
  /** Entries of a hardware table or queue. */
  entries: { max: 1 << 20, why: 'at most 2^20: hardware tables and queues hold thousands of entries' },
} as const;

interface NumberOptions {
  min?: number;
  /** Every number has an upper bound; `why` says what makes larger values meaningless. */
  max: number;
  why?: string;
  /** Exclusive lower bound (for quantities that must be positive but may be fractional). */
  gt?: number;
  int?: boolean;
}

/** A number with a range; errors say the range, and why the upper bound is what it is. */
export function num(description: string, options: NumberOptions) {
  const { min, max, gt, int = false, why } = options;
  const range = rangeText(options) + (why ? ` (${why})` : '');
  return (
    z
      .number({
        error: (iss) => `expected ${int ? 'an integer' : 'a number'}${range}, got ${describeInput(iss.input)}`,
      })
      .superRefine((v, ctx) => {
        const bad =
          (int && !Number.isInteger(v)) ||
          (min !== undefined && v < min) ||
          v > max ||
          (gt !== undefined && v <= gt) ||
          !Number.isFinite(v);
        if (bad)
          ctx.addIssue({
            code: 'custom',
            message: `${v} is out of range; use ${int ? 'an integer' : 'a number'}${range}`,
          });
      })
      // The range in the generated JSON Schema too, for editors and schema-driven tools.
      .meta({
        description,
        ...(int ? { type: 'integer' as const } : {}),
        maximum: max,
        ...(min !== undefined ? { minimum: min } : {}),
        ...(gt !== undefined ? { exclusiveMinimum: gt } : {}),
      })
  );
}

function rangeText({ min, max, gt }: NumberOptions): string {
  if (gt !== undefined && max !== undefined) return ` greater than ${gt} and at most ${max}`;
  if (gt !== undefined) return ` greater than ${gt}`;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

/** One of a fixed set of values, with a sentence naming what the value is. */
export function oneOf<const T extends readonly [string | number, ...(string | number)[]]>(
  values: T,
  what: string,
  description: string,
) {
  // A fixed set of choices is short: name them all.
  const list = listText(
    values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))),
    values.length,
    values.length,
  );
  return z
    .literal(values, { error: (iss) => `${describeInput(iss.input)} is not ${what}; use ${list}` })
    .describe(description);
}

/** Alternatives shown in one message; error output stays small however many there are. */
const LIST_MAX = 8;

/**
 * "a, b or c"; `total` counts items left out of `items` (a caller may pass only the first
 * few); at most `max` are named.
 */
export function listText(items: string[], total = items.length, max = LIST_MAX): string {
  // "or 1 more" would hide a name in the space it takes to say so, unless the caller left it out.
  if (total > max + 1 || total > items.length) {
    const shown = items.slice(0, max);
    return `${shown.join(', ')} or ${total - shown.length} more`;
  }
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** The largest size anywhere: the largest host memory modelled (hardware.cpu.memory.capacityBytes). */
export const MAX_SIZE_BYTES = 4 * 1024 ** 4;

interface SizeOptions {
  min?: number;
  /** Default MAX_SIZE_BYTES. */
  max?: number;
  powerOfTwo?: boolean;
  multipleOf?: number;
}

/** A size in bytes: a number, or a string such as "64KiB" or "16GiB". Parses to a number. */
export function size(description: string, options: SizeOptions = {}) {
  return z
    .union([z.number(), z.string()], {
      error: (iss) =>
        `expected a size (bytes as a number, or a string such as "64KiB"), got ${describeInput(iss.input)}`,
    })
    .transform((raw, ctx) => {
      const bytes = parseSize(raw);
      if (bytes === undefined) {
        ctx.addIssue({ code: 'custom', message: sizeProblem(raw) });
        return z.NEVER;
      }
      const { min, max = MAX_SIZE_BYTES, powerOfTwo, multipleOf } = options;
      if (min !== undefined && bytes < min)
        ctx.addIssue({
          code: 'custom',
          message: `${formatBytes(bytes)} is too small; use at least ${formatBytes(min)}`,
        });
      else if (max !== undefined && bytes > max)
        ctx.addIssue({
          code: 'custom',
          message: `${formatBytes(bytes)} is too large; use at most ${formatBytes(max)}${max === MAX_SIZE_BYTES ? ' (the largest host memory modelled)' : ''}`,
        });
      else if (powerOfTwo && !isPowerOfTwo(bytes))
        ctx.addIssue({
          code: 'custom',
          message: `${formatBytes(bytes)} is not a power of two; use e.g. 4KiB, 64KiB or 2MiB`,
        });
      else if (multipleOf !== undefined && bytes % multipleOf !== 0)
        ctx.addIssue({
          code: 'custom',
          message: `${formatBytes(bytes)} is not a multiple of ${formatBytes(multipleOf)}`,
        });
      return bytes;
    })
    .describe(description);
}

export function bool(description: string) {
  return z.boolean({ error: (iss) => `expected true or false, got ${describeInput(iss.input)}` }).describe(description);
}
