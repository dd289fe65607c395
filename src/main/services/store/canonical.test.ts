import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, experimentHash, sha256 } from './canonical.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('drops undefined properties as JSON.stringify does, and writes undefined array items as null', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 'x'] })).toBe('{"b":[null,"x"]}');
  });

  it('writes any JSON value as a plain recursive writer with sorted keys does (property)', () => {
    // The reference: each array and object written from its items, keys sorted. (Not
    // JSON.stringify of a key-sorted copy: objects put integer-like keys first.)
    const reference = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(reference).join(',')}]`
        : v !== null && typeof v === 'object'
          ? `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${reference((v as Record<string, unknown>)[k])}`)
              .join(',')}}`
          : JSON.stringify(v);
    fc.assert(
      fc.property(fc.jsonValue(), (v) => canonicalJson(v) === reference(v)),
      { seed: 10, numRuns: 300 },
    );
  });

  it('refuses values JSON cannot hold, naming where they are', () => {
    expect(() => canonicalJson({ hw: { lat: NaN } })).toThrow(
      '$.hw.lat: NaN cannot be written as JSON; use a finite number',
    );
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/\$\.f: a function cannot be written as JSON/);
  });
});

describe('experimentHash', () => {
  it('is the sha256 of the canonical text, whatever the formatting and key order', () => {
    const h = experimentHash('{ "seed": 1,\n  "name": "x" }');
    expect(h).toBe(sha256('{"name":"x","seed":1}'));
    expect(h).toBe(experimentHash('{"name":"x","seed":1}'));
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(experimentHash('{}')).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('says when the text is not JSON', () => {
    expect(() => experimentHash('{name:')).toThrow(/the experiment is not valid JSON/);
  });
});
