import { describe, expect, it } from 'vitest';
import { formatInstant, formatValue, formatWallMs } from '../src/renderer/src/format.js';

describe('renderer formatting', () => {
  it('formats wall time for reading', () => {
    expect(formatWallMs(null)).toBe('\u2014');
    expect(formatWallMs(850.4)).toBe('850 ms');
    expect(formatWallMs(1234)).toBe('1.23 s');
    expect(formatWallMs(12_345)).toBe('12.3 s');
    expect(formatWallMs(245_000)).toBe('4 min 05 s');
    expect(formatWallMs(7_380_000)).toBe('2 h 03 min');
  });
  it('shows an unparseable instant as it is', () => {
    expect(formatInstant(null)).toBe('\u2014');
    expect(formatInstant('yesterday')).toBe('yesterday');
    expect(formatInstant('2026-11-24T07:28:00.000Z')).toMatch(/^2026-11-2[34] \d\d:\d\d:00$/);
  });
  it('formats metric values', () => {
    expect(formatValue(1234567)).toBe('1,234,567');
    expect(formatValue(1073741824)).toBe('1,073,741,824');
    expect(formatValue(12345.678)).toBe('12,345.7');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(0.000123456)).toBe('0.0001235');
    expect(formatValue(Infinity)).toBe('Infinity');
  });
});
