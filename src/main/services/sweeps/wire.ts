/**
 * A point's outcome as text, for the Redis queue. Plain JSON turns NaN, ±Infinity and -0
 * into null or 0; these are written as `{"$n": "NaN"}` (and "Infinity", "-Infinity", "-0")
 * so a result that crossed the queue is stored bit for bit as the local pool stores it.
 * The special numbers are swapped by a walk over the data around native JSON.stringify
 * and JSON.parse, not by a replacer or reviver: those call back for every number of the
 * series and took 1-3 ms a point; the walk takes a fraction of that.
 */
import type { PointOutcome } from './protocol.js';

const SPECIAL = new Set(['NaN', 'Infinity', '-Infinity', '-0']);

function special(v: number): string | null {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return null;
}

/** A copy of `v` with each special number as `{$n}`. */
function pack(v: unknown): unknown {
  if (typeof v === 'number') {
    const s = special(v);
    return s === null ? v : { $n: s };
  }
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(pack);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = pack((v as Record<string, unknown>)[k]);
  return out;
}

/** `v` (fresh from JSON.parse) with each `{$n}` back as its number, in place. */
function unpack(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (v[i] !== null && typeof v[i] === 'object') v[i] = unpack(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === '$n' && SPECIAL.has(o.$n as string)) return Number(o.$n);
  for (const k of keys) if (o[k] !== null && typeof o[k] === 'object') o[k] = unpack(o[k]);
  return o;
}

export function encodeOutcome(outcome: PointOutcome): string {
  return JSON.stringify(pack(outcome));
}

/** Throws when `text` is not an encoded outcome (a job written by something else). */
export function decodeOutcome(text: unknown): PointOutcome {
  if (typeof text !== 'string')
    throw new Error(`the result is not text (${typeof text}), so not an encoded point outcome`);
  const o = unpack(JSON.parse(text)) as Partial<PointOutcome> | null;
  if (!o || typeof o !== 'object' || typeof o.ok !== 'boolean' || typeof o.wallMs !== 'number') {
    throw new Error('the result is not a point outcome ({ok, wallMs, result | error})');
  }
  // The timeline's tracks stay the text they came as, for the store; check it is an array's.
  const timeline = o.ok ? (o.result as { timeline?: { tracksJson?: unknown } } | undefined)?.timeline : undefined;
  const tracks = timeline?.tracksJson;
  if (timeline && !(typeof tracks === 'string' && tracks.startsWith('[') && tracks.endsWith(']'))) {
    throw new Error("the result's timeline is not encoded tracks ({maxIntervals, tracksJson: a JSON array's text})");
  }
  return o as PointOutcome;
}
