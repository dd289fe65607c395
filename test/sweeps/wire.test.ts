/** A point's outcome over the Redis queue: every double comes back as the same bits, NaN, ±Infinity and -0 included. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PointOutcome } from '../../src/main/services/sweeps/protocol.js';
import { decodeOutcome, encodeOutcome } from '../../src/main/services/sweeps/wire.js';

const bits = (x: number) => Buffer.from(new Float64Array([x]).buffer).toString('hex');

describe('encodeOutcome / decodeOutcome', () => {
  it('keeps NaN, Infinity and -0 where plain JSON would write null or 0', () => {
    const outcome = {
      ok: true,
      wallMs: 1.5,
      result: {
        metrics: { a: { value: NaN, unit: '' }, b: { value: -0, unit: 'ns' } },
        series: [{ values: [Infinity, -Infinity, 0.1] }],
      },
    };
    const back = decodeOutcome(encodeOutcome(outcome as unknown as PointOutcome)) as unknown as typeof outcome;
    expect(back).toEqual(outcome);
    expect(Object.is(back.result.metrics.b.value, -0)).toBe(true);
    expect(JSON.parse(JSON.stringify(outcome)).result.metrics.a.value).toBeNull(); // what the codec is for
  });

  it('gives back every double bit for bit, anywhere in the result (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double()), fc.dictionary(fc.string(), fc.double()), (values, named) => {
        const outcome = { ok: true, wallMs: 2, result: { values, named } } as unknown as PointOutcome;
        const back = decodeOutcome(encodeOutcome(outcome)) as unknown as {
          result: { values: number[]; named: Record<string, number> };
        };
        return (
          back.result.values.map(bits).join() === values.map(bits).join() &&
          Object.keys(named).every((k) => bits(back.result.named[k]) === bits(named[k]))
        );
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it("carries a timeline's tracks as their JSON text, and refuses text that is not an array's", () => {
    const outcome = (tracksJson: unknown) =>
      ({ ok: true, wallMs: 1, result: { timeline: { maxIntervals: 10, tracksJson } } }) as unknown as PointOutcome;
    const tracksJson = JSON.stringify([{ component: 'gpu0.link.h2d', startNs: [0, NaN] }]);
    expect(decodeOutcome(encodeOutcome(outcome(tracksJson)))).toEqual(outcome(tracksJson));
    for (const bad of ['{"a":1}', 42, '[1,2']) {
      expect(() => decodeOutcome(encodeOutcome(outcome(bad)))).toThrow(
        /the result's timeline is not encoded tracks \(\{maxIntervals, tracksJson: a JSON array's text\}\)/,
      );
    }
  });

  it('refuses a result that is not an encoded outcome, saying what it is', () => {
    expect(() => decodeOutcome({ ok: true })).toThrow(
      /the result is not text \(object\), so not an encoded point outcome/,
    );
    expect(() => decodeOutcome('{"done": 1}')).toThrow(/not a point outcome \(\{ok, wallMs, result \| error\}\)/);
  });
});
