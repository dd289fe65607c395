import { describe, expect, it } from 'vitest';
import { drainPlan } from './drain.js';
import { collectRuns } from './testing.js';
import { buildTrace, stringTraceSource, TraceFormatError, TraceReader, traceSchema } from './trace.js';
import { newAccessRun, type StreamSpec, type TraceSource, type WorkloadPlan } from './types.js';

const env = { seed: 1, deviceContexts: 8, cpuContexts: 4 };

function plan(text: string, config: object = {}, chunkChars = 65536, name = 'trace.txt'): WorkloadPlan {
  const c = traceSchema.parse({ impl: 'trace', path: name, regionBytes: '1MiB', ...config });
  return buildTrace(c, { ...env, traceSource: stringTraceSource(text, name, chunkChars) });
}
const spec = (p: WorkloadPlan) => (p.phases[0] as { streams: StreamSpec[] }).streams[0];
const entries = (p: WorkloadPlan) => collectRuns(spec(p)).map((r) => [r.offset, r.write, r.notBeforeCycle]);

/** The error a trace's replay throws. */
function replayError(p: WorkloadPlan): TraceFormatError {
  try {
    collectRuns(spec(p));
  } catch (e) {
    if (e instanceof TraceFormatError) return e;
    throw e;
  }
  throw new Error('expected a TraceFormatError');
}

const DRAMSIM3 = '# DRAMSim3 trace\n0x40 READ 10\n\n80 write 25\r\n   0X1000 Write 30\n0xc0 READ 31';
const DRAMSIM3_ENTRIES = [
  [0x40, false, 10],
  [0x80, true, 25],
  [0x1000, true, 30],
  [0xc0, false, 31],
];

describe('trace schema', () => {
  it('has the documented defaults and reads a hex base address', () => {
    expect(traceSchema.parse({ impl: 'trace', path: 'x.trace' })).toEqual({
      impl: 'trace',
      path: 'x.trace',
      format: 'auto',
      target: 'device',
      agent: 'device',
      contexts: 1,
      regionBytes: 4 * 1024 ** 3,
      baseAddress: 0,
      requestBytes: 64,
      computeCyclesPerLine: 0,
      admitPerCycle: 1,
    });
    expect(traceSchema.parse({ impl: 'trace', path: 'x', baseAddress: '0x7f0000000000' }).baseAddress).toBe(
      0x7f0000000000,
    );
    expect(traceSchema.safeParse({ impl: 'trace', path: 'x', baseAddress: '0xZZ' }).error?.issues[0].message).toMatch(
      /is not an address/,
    );
  });

  it('requires a path and refuses a CPU replay of a DRAM-only trace', () => {
    expect(traceSchema.safeParse({ impl: 'trace' }).success).toBe(false);
    const r = traceSchema.safeParse({ impl: 'trace', path: 'x', target: 'device-dram', agent: 'cpu' });
    expect(r.error?.issues[0]).toMatchObject({
      path: ['agent'],
      message: '"cpu" cannot replay a "device-dram" trace; use agent "device" or target "device"',
    });
  });
});

describe('trace parsing', () => {
  it('reads DRAMSim3 lines: hex with or without 0x, any case, cycles as notBeforeCycle', () => {
    expect(entries(plan(DRAMSIM3, { format: 'dramsim3' }))).toEqual(DRAMSIM3_ENTRIES);
    expect(entries(plan(DRAMSIM3))).toEqual(DRAMSIM3_ENTRIES); // auto
  });

  it('reads Ramulator lines: LD/ST and R/W, decimal or 0x hex, no cycle', () => {
    const text = 'LD 0x40\nST 128\n# note\nR 4096\nw 0X2000\n';
    const expected = [
      [0x40, false, -1],
      [128, true, -1],
      [4096, false, -1],
      [0x2000, true, -1],
    ];
    expect(entries(plan(text, { format: 'ramulator' }))).toEqual(expected);
    expect(entries(plan(text))).toEqual(expected);
  });

  it('gives the same entries whatever the chunk size, including chunks that split lines', () => {
    for (let chunk = 1; chunk <= 40; chunk++) expect(entries(plan(DRAMSIM3, {}, chunk))).toEqual(DRAMSIM3_ENTRIES);
    // A chunk boundary in the middle of the address "0x80" (split after "0x").
    const text = 'LD 0x40\nST 0x80\n';
    const chunks = ['LD 0x40\nST 0x', '80\n'];
    const source: TraceSource = { name: 't', readChunk: () => chunks.shift() ?? null };
    const p = buildTrace(traceSchema.parse({ impl: 'trace', path: 't', regionBytes: '1MiB' }), {
      ...env,
      traceSource: source,
    });
    expect(entries(p)).toEqual([
      [0x40, false, -1],
      [0x80, true, -1],
    ]);
    expect(text.length).toBe(16);
  });

  it('reads the source chunk by chunk, never ahead of need', () => {
    let reads = 0;
    const lines = Array.from({ length: 1000 }, (_, i) => `LD ${i * 64}\n`);
    const source: TraceSource = {
      name: 'lazy',
      readChunk: () => {
        reads++;
        return lines.shift() ?? null;
      },
    };
    const p = buildTrace(traceSchema.parse({ impl: 'trace', path: 'lazy', regionBytes: '1MiB' }), {
      ...env,
      traceSource: source,
    });
    const stream = spec(p).create(0, 1);
    const run = newAccessRun();
    for (let i = 0; i < 10; i++) stream.next(run);
    expect(reads).toBeLessThanOrEqual(11);
  });

  it('names the file and line of a malformed line and says what a valid line looks like', () => {
    const text = '# header\n0x40 READ 1\n\n0xZZ READ 5\n0x80 READ 6\n';
    for (const chunk of [3, 65536]) {
      const e = replayError(plan(text, { format: 'dramsim3' }, chunk));
      expect(e.message).toBe(
        'trace.txt line 4: "0xZZ READ 5" is not a DRAMSim3 line; expected "<hex address> READ|WRITE <cycle>"',
      );
      expect([e.line, e.text, e.source, e.name]).toEqual([4, '0xZZ READ 5', 'trace.txt', 'TraceFormatError']);
    }
    expect(replayError(plan('0x40 READ\n', { format: 'dramsim3' })).line).toBe(1);
    expect(replayError(plan('0x40 FETCH 3\n', { format: 'dramsim3' })).message).toMatch(/is not a DRAMSim3 line/);
    expect(replayError(plan('LD 0x40\nLD 12ab\n', { format: 'ramulator' })).message).toBe(
      'trace.txt line 2: "LD 12ab" is not a Ramulator line; expected "LD|ST <address>" or "R|W <address>" (address in decimal, or hex with 0x)',
    );
    expect(replayError(plan('LD 0x40\n0x80 READ 3\n')).message).toMatch(
      /^trace\.txt line 2: "0x80 READ 3" is not a Ramulator line/,
    );
    expect(replayError(plan('\n# c\nhello world\n')).message).toBe(
      'trace.txt line 3: "hello world" is neither a DRAMSim3 line ("<hex address> READ|WRITE <cycle>") nor a Ramulator line ("LD|ST <address>" or "R|W <address>" (address in decimal, or hex with 0x)); fix the line or set format',
    );
  });

  it('stops at a line longer than 4 KiB, naming it, after reading only a few chunks', () => {
    let reads = 0;
    const source: TraceSource = {
      name: 'huge.trace',
      // The second line never ends: a 600 MB line would be 10,000 chunks of 64 KiB.
      readChunk: () => (reads++ === 0 ? 'LD 0x40\n' : 'x'.repeat(65536)),
    };
    const p = buildTrace(traceSchema.parse({ impl: 'trace', path: 'huge.trace', regionBytes: '1MiB' }), {
      ...env,
      traceSource: source,
    });
    const e = replayError(p);
    expect(e.message).toMatch(/^huge\.trace line 2 is longer than 4096 characters; a trace line is one access/);
    expect(e.line).toBe(2);
    expect(reads).toBeLessThanOrEqual(3);
    // A long line inside one chunk is caught too.
    expect(replayError(plan(`LD 0x40\n${'LD 0x80 '.repeat(1000)}\n`)).line).toBe(2);
  });

  it('accepts a UTF-8 byte order mark at the start, whatever the chunk size', () => {
    for (const chunk of [1, 2, 65536]) {
      expect(entries(plan(`\ufeff${DRAMSIM3}`, {}, chunk))).toEqual(DRAMSIM3_ENTRIES);
    }
  });

  it('subtracts the base address, aligns down to the request size, and rejects addresses outside the region', () => {
    const text = 'LD 0x10000050\nST 0x10000fff\n';
    const p = plan(text, { baseAddress: '0x10000000', requestBytes: 128, computeCyclesPerLine: 3 });
    expect(collectRuns(spec(p)).map((r) => [r.offset, r.bytes, r.computeCycles])).toEqual([
      [0, 128, 6],
      [0xf80, 128, 6],
    ]);
    const e = replayError(plan('LD 0x40\nLD 0x100000\n', { regionBytes: '1MiB' }));
    expect(e.message).toBe(
      'trace.txt line 2: address 0x100000 is outside the traced region, which covers 0x0 to 0xfffff (baseAddress 0x0, regionBytes 1048576); set baseAddress and regionBytes to cover the trace',
    );
    expect(replayError(plan('LD 0x40\n', { baseAddress: 4096 })).line).toBe(1);
  });
});

describe('buildTrace', () => {
  it('plans one premapped region and one phase on the chosen agent', () => {
    const p = plan(DRAMSIM3, { agent: 'cpu', target: 'device' });
    expect(p.regions).toEqual([{ name: 'trace', sizeBytes: 1024 * 1024, prot: 'read-write', shared: false }]);
    expect(p.premapped).toEqual([0]);
    expect(p.phases.map((ph) => ph.label)).toEqual(['replay trace.txt']);
    expect([spec(p).agent, spec(p).contexts]).toEqual(['cpu', 1]);
  });

  it('shares one reader between contexts: each takes the next entry when it asks', () => {
    const p = plan('LD 0\nLD 64\nLD 128\nLD 192\nLD 256\n', { contexts: 2 });
    const s = spec(p);
    const a = s.create(0, 2);
    const b = s.create(1, 2);
    const run = newAccessRun();
    const got: string[] = [];
    for (const [name, stream] of [
      ['a', a],
      ['b', b],
      ['b', b],
      ['a', a],
      ['a', a],
      ['b', b],
    ] as const) {
      got.push(stream.next(run) ? `${name}:${run.offset}` : `${name}:end`);
    }
    expect(got).toEqual(['a:0', 'b:64', 'b:128', 'a:192', 'a:256', 'b:end']);
  });

  it('drains once, reading each line once', () => {
    expect(drainPlan(plan(DRAMSIM3, { contexts: 3 }))).toEqual({ runs: 4, bytes: 256, lines: 4 });
  });

  it('needs a trace source', () => {
    const c = traceSchema.parse({ impl: 'trace', path: 'missing.trace' });
    expect(() => buildTrace(c, env)).toThrow(/open "missing\.trace" as a TraceSource/);
  });

  it('reads a large trace without trouble', () => {
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) lines.push(`0x${(i * 64).toString(16)} ${i % 3 ? 'READ' : 'WRITE'} ${i}`);
    const reader = new TraceReader(stringTraceSource(lines.join('\n'), 'big', 4093), 'auto');
    let n = 0;
    let writes = 0;
    while (reader.next()) {
      if (reader.address !== n * 64 || reader.cycle !== n) throw new Error(`entry ${n} read wrong`);
      if (reader.write) writes++;
      n++;
    }
    expect([n, writes, reader.lineNumber]).toEqual([50_000, 16_667, 50_000]);
  });
});
