/**
 * A point's outcome as text, for the Redis queue. Plain JSON turns NaN, ±Infinity and -0
 * into null or 0; these are written as `{"$n": "NaN"}` (and "Infinity", "-Infinity", "-0")
 * so a result that crossed the queue is stored bit for bit as the local pool stores it.
 */
import type { PointOutcome } from './protocol.js';

const SPECIAL = ['NaN', 'Infinity', '-Infinity', '-0'] as const;

function special(v: number): string | null {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return null;
}

export function encodeOutcome(outcome: PointOutcome): string {
  return JSON.stringify(outcome, (_key, value: unknown) => {
    if (typeof value !== 'number') return value;
    const s = special(value);
    return s === null ? value : { $n: s };
  });
}

/** Throws when `text` is not an encoded outcome (a job written by something else). */
export function decodeOutcome(text: unknown): PointOutcome {
  if (typeof text !== 'string')
    throw new Error(`the result is not text (${typeof text}), so not an encoded point outcome`);
  const value: unknown = JSON.parse(text, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const keys = Object.keys(v);
    const n = (v as { $n?: unknown }).$n;
    return keys.length === 1 && SPECIAL.includes(n as (typeof SPECIAL)[number]) ? Number(n) : v;
  });
  const o = value as Partial<PointOutcome> | null;
  if (!o || typeof o !== 'object' || typeof o.ok !== 'boolean' || typeof o.wallMs !== 'number') {
    throw new Error('the result is not a point outcome ({ok, wallMs, result | error})');
  }
  return o as PointOutcome;
}
