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
