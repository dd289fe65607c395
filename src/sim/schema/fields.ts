/**
 * Building blocks for the experiment schema. Every object is strict: an unknown key is an
 * error that names the closest valid key. Every field carries a description (meaning,
 * unit, source), which the generated JSON Schema shows as hover documentation.
 */
import { z } from 'zod';
import { formatBytes, isPowerOfTwo, parseSize } from './units.js';

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
  for (const v of valid) {
    const d = editDistance(name.toLowerCase(), v.toLowerCase());
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
  if (typeof input === 'string') return JSON.stringify(input);
  if (typeof input === 'object') return 'an object';
  return String(input);
}

interface NumberOptions {
  min?: number;
  max?: number;
  /** Exclusive lower bound (for quantities that must be positive but may be fractional). */
  gt?: number;
  int?: boolean;
}

/** A number with a range; errors say the range. */
export function num(description: string, options: NumberOptions = {}) {
  const { min, max, gt, int = false } = options;
  const range = rangeText(options);
  return z
    .number({ error: (iss) => `expected ${int ? 'an integer' : 'a number'}${range}, got ${describeInput(iss.input)}` })
    .superRefine((v, ctx) => {
      const bad =
        (int && !Number.isInteger(v)) ||
        (min !== undefined && v < min) ||
        (max !== undefined && v > max) ||
        (gt !== undefined && v <= gt) ||
        !Number.isFinite(v);
      if (bad)
        ctx.addIssue({
          code: 'custom',
          message: `${v} is out of range; use ${int ? 'an integer' : 'a number'}${range}`,
        });
    })
    .describe(description);
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
  const list = listText(values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))));
  return z
    .literal(values, { error: (iss) => `${describeInput(iss.input)} is not ${what}; use ${list}` })
    .describe(description);
}

export function listText(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

interface SizeOptions {
  min?: number;
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
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(raw)} is not a size; use a whole number of bytes or a string such as "4KiB", "64KiB", "2MiB", "16GiB"`,
        });
        return z.NEVER;
      }
      const { min, max, powerOfTwo, multipleOf } = options;
      if (min !== undefined && bytes < min)
        ctx.addIssue({
          code: 'custom',
          message: `${formatBytes(bytes)} is too small; use at least ${formatBytes(min)}`,
        });
      else if (max !== undefined && bytes > max)
        ctx.addIssue({
          code: 'custom',
          message: `${formatBytes(bytes)} is too large; use at most ${formatBytes(max)}`,
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
