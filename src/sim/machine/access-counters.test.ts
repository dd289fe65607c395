import { describe, expect, it } from 'vitest';
import { AccessCounters } from './access-counters.js';

describe('access counters', () => {
  const make = () => {
    const notes: [number, number, number][] = [];
    const counters = new AccessCounters(512, 256, 2, true, (agent, chunk, t) => notes.push([agent, chunk, t]));
    return { counters, notes };
  };

  it('notify once per threshold lines of one agent in one chunk, then count again from zero', () => {
    const { counters, notes } = make();
    for (let i = 0; i < 255; i++) counters.count(0, 3, 1, i);
    expect(notes).toEqual([]);
    counters.count(0, 100, 1, 255); // page 100 is in chunk 0 too
    expect(notes).toEqual([[0, 0, 255]]);
    for (let i = 0; i < 255; i++) counters.count(0, 7, 1, 300 + i);
    expect(notes).toHaveLength(1);
    counters.count(0, 7, 64, 600);
    expect(notes).toEqual([
      [0, 0, 255],
      [0, 0, 600],
    ]);
    expect(counters.notifications).toBe(2);
  });

  it('keeps agents and chunks apart', () => {
    const { counters, notes } = make();
    counters.count(0, 0, 200, 1);
    counters.count(1, 0, 200, 2);
    counters.count(0, 512, 200, 3);
    expect(notes).toEqual([]);
    counters.count(1, 511, 56, 4);
    expect(notes).toEqual([[1, 0, 4]]);
  });
});
