/**
 * trace: replaying memory traces users already have, in the formats of two public DRAM
 * simulators:
 *
 *   DRAMSim3:   `<hex address> READ|WRITE <cycle>`      e.g. `0x7f3a2c40 READ 1200`
 *   Ramulator:  `LD|ST <address>` or `R|W <address>`    e.g. `LD 0x7f3a2c40`, `W 81920`
 *
 * Keywords are case-insensitive; a DRAMSim3 address is hex with or without `0x`; a
 * Ramulator address is decimal, or hex with `0x` (as Ramulator 2's LoadStoreTrace reads
 * it). Blank lines and lines whose first non-blank character is `#` are skipped.
 *
 * The file is streamed through `TraceSource.readChunk()`, never loaded whole: lines are
 * scanned in place in the current chunk (plus the carried-over tail of a line that a
 * chunk boundary split), so an entry costs no allocation.
 *
 * Addresses become offsets into one region of `regionBytes` after `baseAddress` is
 * subtracted, aligned down to `requestBytes`; each entry is one run of `requestBytes`.
 * With `target: "device"` the runs take the normal path (device MMU, faults, the
 * strategy). With `target: "device-dram"` the stream is marked `target: 'device-dram'`
 * and the machine sends each run's region offset straight to device DRAM as a
 * physical address, with no translation and no strategy: a DRAM-only replay, comparable
 * with DRAMSim3 or Ramulator running the same trace. Such a replay is open loop, through
 * DRAMSim3's front end (hw/dram-front-end.ts): requests are admitted in order, each at
 * its cycle or later, at most `admitPerCycle` per DRAM cycle, and held while their
 * channel's queue is full; no context waits for data.
 *
 * Several contexts share one reader: each context, when it is ready for its next run,
 * takes the next entry of the trace (dynamic dealing, like requests filling a queue), so
 * the file is read once, in order, and nothing is buffered. The plan's trace stream can
 * be drained once: the TraceSource cannot rewind.
 */
import { z } from 'zod';
import { describeInput, num, obj, oneOf, size } from '../schema/fields.js';
import { computeCyclesPerLineField, GiB, linesTouched } from './common.js';
import type { WorkloadEnv } from './env.js';
import type { AccessRun, AccessStream, TraceSource, WorkloadPlan } from './types.js';

export const DRAMSIM3_LINE = '<hex address> READ|WRITE <cycle>';
export const RAMULATOR_LINE = '"LD|ST <address>" or "R|W <address>" (address in decimal, or hex with 0x)';

/** An address: a number, or a hex string such as "0x7f0000000000". */
function address(description: string) {
  return z
    .union([z.number(), z.string()], {
      error: (iss) =>
        `expected an address (a number, or hex such as "0x7f0000000000"), got ${describeInput(iss.input)}`,
    })
    .transform((raw, ctx) => {
      const v =
        typeof raw === 'number'
          ? raw
          : /^\s*0[xX][0-9a-fA-F]+\s*$/.test(raw)
            ? parseInt(raw, 16)
            : /^\s*\d+\s*$/.test(raw)
              ? Number(raw)
              : NaN;
      if (!Number.isSafeInteger(v) || v < 0) {
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(raw)} is not an address; use a whole number of at least 0, or hex such as "0x7f0000000000" (at most 2^53 - 1)`,
        });
        return z.NEVER;
      }
      return v;
    })
    .describe(description);
}

export const traceSchema = obj(
  {
    impl: z.literal('trace').describe('The workload generator.'),
    path: z
      .string({ error: 'expected the path of a trace file' })
      .min(1, 'give the path of the trace file')
      .describe(
        "Trace file to replay; a relative path is resolved against the experiment file's folder by the caller.",
      ),
    format: oneOf(
      ['auto', 'dramsim3', 'ramulator'],
      'a trace format',
      `Line format: "dramsim3" (${DRAMSIM3_LINE}), "ramulator" (${RAMULATOR_LINE}), or "auto" (detected from the first line that is neither blank nor a comment).`,
    ).default('auto'),
    target: oneOf(
      ['device', 'device-dram'],
      'a trace target',
      '"device": addresses are virtual addresses of one region, accessed through the device MMU and the strategy. "device-dram": a DRAM-only replay; each address goes straight to device DRAM, with no translation and no strategy.',
    ).default('device'),
    agent: oneOf(['device', 'cpu'], 'an agent', "Who issues the trace's accesses.").default('device'),
    contexts: num(
      'Contexts that replay the trace together; each takes the next entry when it is ready for one (the file is read once, in order).',
      { int: true, min: 1, max: 1 << 16 },
    ).default(1),
    regionBytes: size(
      'Size of the region the trace addresses fall in, after subtracting baseAddress; a multiple of 4 KiB. An address outside it is an error naming the line.',
      {
        min: 4096,
        multipleOf: 4096,
      },
    ).default(4 * GiB),
    baseAddress: address(
      'Subtracted from every trace address to give the offset into the region: a number, or hex such as "0x7f0000000000".',
    ).default(0),
    requestBytes: size(
      'Bytes each trace entry reads or writes (a cache line); a power of two up to 4 KiB. Addresses are aligned down to it.',
      {
        min: 1,
        max: 4096,
        powerOfTwo: true,
      },
    ).default(64),
    computeCyclesPerLine: computeCyclesPerLineField(
      0,
      'Traces usually carry their own timing (DRAMSim3 cycles), so the default is none.',
    ),
    admitPerCycle: num(
      'For target "device-dram": requests the front end admits into the DRAM controllers per DRAM cycle, over all channels. Default 1, as DRAMSim3\'s trace-driven front end (cpu.cc), so a replay compares with DRAMSim3 like for like; raise it to feed a many-channel device at its full rate.',
      { int: true, min: 1, max: 1024 },
    ).default(1),
    queueDepth: num(
      "For target \"device-dram\": entries of each channel's read queue and of its write buffer for this replay; a request whose queue is full holds up the trace (in order, as DRAMSim3's front end). Unset: the device's dram.controller.transactionQueueEntries (32, DRAMSim3's trans_queue_size).",
      { int: true, min: 1, max: 4096 },
    ).optional(),
  },
  'Replay of a DRAMSim3 or Ramulator memory trace, streamed from a file.',
).superRefine((t, ctx) => {
  if (t.target === 'device-dram' && t.agent !== 'device') {
    ctx.addIssue({
      code: 'custom',
      path: ['agent'],
      message: '"cpu" cannot replay a "device-dram" trace; use agent "device" or target "device"',
    });
  }
});

export type TraceConfig = z.output<typeof traceSchema>;

/** A trace line that is not valid, or an address the region does not cover. */
export class TraceFormatError extends Error {
  constructor(
    message: string,
    /** The trace's name (its file path). */
    readonly source: string,
    /** 1-based line number. */
    readonly line: number,
    /** The line, trimmed. */
    readonly text: string,
  ) {
    super(message);
    this.name = 'TraceFormatError';
  }
}

/** A TraceSource over a string, handed out in chunks of `chunkChars` (tests, the browser). */
export function stringTraceSource(text: string, name: string, chunkChars = 64 * 1024): TraceSource {
  let pos = 0;
  return {
    name,
    readChunk() {
      if (pos >= text.length) return null;
      const chunk = text.slice(pos, pos + chunkChars);
      pos += chunkChars;
      return chunk;
    },
  };
}

/** Longest trace line accepted; real lines are a few dozen characters. */
export const MAX_LINE_CHARS = 4096;

const AUTO = 0;
const DRAMSIM3 = 1;
const RAMULATOR = 2;
const FORMATS = { auto: AUTO, dramsim3: DRAMSIM3, ramulator: RAMULATOR } as const;

const CH_0 = 48;
const CH_9 = 57;
const CH_HASH = 35;

/**
 * Reads entries one by one. After `next()` returns true, `address`, `write` and `cycle`
 * (-1 when the format has none) describe the entry and `lineNumber` is its line.
 */
export class TraceReader {
  address = 0;
  write = false;
  cycle = -1;
  lineNumber = 0;
  private format: number;
  private buf = '';
  private pos = 0;
  private eof = false;
  private started = false;
  private lineStart = 0;
  private lineEnd = 0;
  // Token bounds of the current line (up to three; `tokens` counts up to four).
  private tokens = 0;
  private s0 = 0;
  private e0 = 0;
  private s1 = 0;
  private e1 = 0;
  private s2 = 0;
  private e2 = 0;

  constructor(
    private readonly source: TraceSource,
    format: 'auto' | 'dramsim3' | 'ramulator',
  ) {
    this.format = FORMATS[format];
  }

  next(): boolean {
    for (;;) {
      let nl = this.buf.indexOf('\n', this.pos);
      while (nl < 0 && !this.eof) {
        const searched = this.buf.length - this.pos;
        // No trace line is this long: stop before a line without end fills memory.
        if (searched > MAX_LINE_CHARS) throw this.tooLong();
        if (!this.fill()) break;
        nl = this.buf.indexOf('\n', searched);
      }
      if ((nl < 0 ? this.buf.length : nl) - this.pos > MAX_LINE_CHARS) throw this.tooLong();
      if (nl < 0 && this.pos >= this.buf.length) return false;
      this.lineStart = this.pos;
      this.lineEnd = nl < 0 ? this.buf.length : nl;
      this.pos = nl < 0 ? this.buf.length : nl + 1;
      this.lineNumber++;
      if (this.parseLine()) return true;
    }
  }

  private tooLong(): TraceFormatError {
    const line = this.lineNumber + 1;
    const where = `${this.source.name} line ${line}`;
    return new TraceFormatError(
      `${where} is longer than ${MAX_LINE_CHARS} characters; a trace line is one access ("${DRAMSIM3_LINE}" or ${RAMULATOR_LINE}); check that this is a text trace`,
      this.source.name,
      line,
      this.buf.slice(this.pos, this.pos + 40),
    );
  }

  /** The trace's name, for messages. */
  get sourceName(): string {
    return this.source.name;
  }

  /** Appends the next chunk to the unread tail of the buffer; false at the end of the source. */
  private fill(): boolean {
    let chunk = this.source.readChunk();
    if (chunk === null) {
      this.eof = true;
      return false;
    }
    // A UTF-8 byte order mark (some editors write one) is not part of the first line.
    if (!this.started && chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    this.started = true;
    this.buf = this.pos < this.buf.length ? this.buf.slice(this.pos) + chunk : chunk;
    this.pos = 0;
    return true;
  }

  /** An error about the current line. */
  fail(message: (where: string, text: string) => string): TraceFormatError {
    let text = this.buf.slice(this.lineStart, this.lineEnd).trim();
    if (text.length > 120) text = `${text.slice(0, 117)}...`;
    const where = `${this.source.name} line ${this.lineNumber}`;
    return new TraceFormatError(message(where, text), this.source.name, this.lineNumber, text);
  }

  /** Parses the current line; false for a blank or comment line. */
  private parseLine(): boolean {
    this.tokenize();
    if (this.tokens === 0 || this.buf.charCodeAt(this.s0) === CH_HASH) return false;
    if (this.format === AUTO) {
      if (this.tokens === 2 && this.isRamulatorOp()) this.format = RAMULATOR;
      else if (this.tokens === 3 && this.isDramsimOp()) this.format = DRAMSIM3;
      else
        throw this.fail(
          (where, text) =>
            `${where}: "${text}" is neither a DRAMSim3 line ("${DRAMSIM3_LINE}") nor a Ramulator line (${RAMULATOR_LINE}); fix the line or set format`,
        );
    }
    if (this.format === DRAMSIM3) {
      const address = this.tokens === 3 ? parseHex(this.buf, this.s0, this.e0) : -1;
      const cycle = address >= 0 && this.isDramsimOp() ? parseDecimal(this.buf, this.s2, this.e2) : -1;
      if (cycle < 0)
        throw this.fail((where, text) => `${where}: "${text}" is not a DRAMSim3 line; expected "${DRAMSIM3_LINE}"`);
      this.address = address;
      this.write = this.e1 - this.s1 === 5; // WRITE, not READ
      this.cycle = cycle;
    } else {
      const address =
        this.tokens === 2 && this.isRamulatorOp() ? parseRamulatorAddress(this.buf, this.s1, this.e1) : -1;
      if (address < 0)
        throw this.fail((where, text) => `${where}: "${text}" is not a Ramulator line; expected ${RAMULATOR_LINE}`);
      this.address = address;
      const c = this.buf.charCodeAt(this.s0) | 0x20;
      this.write = c === 0x73 /* s */ || c === 0x77; /* w */
      this.cycle = -1;
    }
    return true;
  }

  private isDramsimOp(): boolean {
    return wordIs(this.buf, this.s1, this.e1, 'READ') || wordIs(this.buf, this.s1, this.e1, 'WRITE');
  }

  private isRamulatorOp(): boolean {
    const b = this.buf;
    const s = this.s0;
    const e = this.e0;
    return wordIs(b, s, e, 'LD') || wordIs(b, s, e, 'ST') || wordIs(b, s, e, 'R') || wordIs(b, s, e, 'W');
  }

  private tokenize(): void {
    const b = this.buf;
    const end = this.lineEnd;
    let i = this.lineStart;
    let n = 0;
    while (n < 4) {
      while (i < end && isSpace(b.charCodeAt(i))) i++;
      if (i >= end) break;
      const start = i;
      while (i < end && !isSpace(b.charCodeAt(i))) i++;
      if (n === 0) {
        this.s0 = start;
        this.e0 = i;
      } else if (n === 1) {
        this.s1 = start;
        this.e1 = i;
      } else if (n === 2) {
        this.s2 = start;
        this.e2 = i;
      }
      n++;
    }
    this.tokens = n;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Whether b[s, e) equals `upper`, ignoring ASCII case. */
function wordIs(b: string, s: number, e: number, upper: string): boolean {
  if (e - s !== upper.length) return false;
  for (let i = 0; i < upper.length; i++) {
    const c = b.charCodeAt(s + i);
    if ((c >= 97 && c <= 122 ? c - 32 : c) !== upper.charCodeAt(i)) return false;
  }
  return true;
}

function hexDigit(c: number): number {
  if (c >= CH_0 && c <= CH_9) return c - CH_0;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

function hasHexPrefix(b: string, s: number, e: number): boolean {
  return e - s > 2 && b.charCodeAt(s) === CH_0 && (b.charCodeAt(s + 1) | 0x20) === 0x78;
}

/** Hex digits, with an optional 0x; -1 if not a hex number up to 2^53 - 1. */
function parseHex(b: string, s: number, e: number): number {
  let i = hasHexPrefix(b, s, e) ? s + 2 : s;
  if (i >= e) return -1;
  let v = 0;
  for (; i < e; i++) {
    const d = hexDigit(b.charCodeAt(i));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : -1;
}

/** Decimal digits; -1 if not a decimal number up to 2^53 - 1. */
function parseDecimal(b: string, s: number, e: number): number {
  if (s >= e) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = b.charCodeAt(i);
    if (c < CH_0 || c > CH_9) return -1;
    v = v * 10 + (c - CH_0);
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : -1;
}

function parseRamulatorAddress(b: string, s: number, e: number): number {
  return hasHexPrefix(b, s, e) ? parseHex(b, s, e) : parseDecimal(b, s, e);
}

/** One context's view of the shared reader: takes the next entry whenever it is asked. */
class TraceStream implements AccessStream {
  constructor(
    private readonly reader: TraceReader,
    private readonly base: number,
    private readonly regionBytes: number,
    private readonly requestBytes: number,
    private readonly cyclesPerLine: number,
  ) {}

  next(out: AccessRun): boolean {
    const r = this.reader;
    if (!r.next()) return false;
    const offset = r.address - this.base;
    if (offset < 0 || offset >= this.regionBytes) throw this.outside(r.address);
    const aligned = offset - (offset % this.requestBytes);
    out.region = 0;
    out.offset = aligned;
    out.bytes = this.requestBytes;
    out.write = r.write;
    out.computeCycles = this.cyclesPerLine * linesTouched(aligned, this.requestBytes);
    out.notBeforeCycle = r.cycle;
    return true;
  }

  describeLast(): string {
    return `${this.reader.sourceName} line ${this.reader.lineNumber}`;
  }

  private outside(address: number): TraceFormatError {
    const hex = (v: number) => `0x${v.toString(16)}`;
    const lo = this.base;
    const hi = this.base + this.regionBytes - 1;
    return this.reader.fail(
      (where) =>
        `${where}: address ${hex(address)} is outside the traced region, which covers ${hex(lo)} to ${hex(hi)} (baseAddress ${hex(lo)}, regionBytes ${this.regionBytes}); set baseAddress and regionBytes to cover the trace`,
    );
  }
}

export function buildTrace(config: TraceConfig, env: WorkloadEnv): WorkloadPlan {
  const source = env.traceSource;
  if (!source)
    throw new Error(
      `the trace workload needs its trace: the caller must open "${config.path}" as a TraceSource (WorkloadEnv.traceSource)`,
    );
  // One reader for all contexts, made when the first context's stream is created.
  let reader: TraceReader | undefined;
  const dramOnly = config.target === 'device-dram';
  return {
    regions: [{ name: 'trace', sizeBytes: config.regionBytes, prot: 'read-write', shared: false }],
    // A DRAM-level trace bypasses translation and strategy: nothing to map or copy.
    premapped: dramOnly ? [] : [0],
    phases: [
      {
        kind: 'streams',
        label: `replay ${source.name}`,
        streams: [
          {
            agent: config.agent,
            contexts: config.contexts,
            create: () => {
              reader ??= new TraceReader(source, config.format);
              return new TraceStream(
                reader,
                config.baseAddress,
                config.regionBytes,
                config.requestBytes,
                config.computeCyclesPerLine,
              );
            },
            reads: dramOnly ? [] : [0],
            writes: dramOnly ? [] : [0],
            // Unknown until the trace has been read: a trace is streamed, never measured first.
            plannedBytes: 0,
            target: dramOnly ? 'device-dram' : 'mmu',
            frontEnd: { admitPerCycle: config.admitPerCycle, queueDepth: config.queueDepth },
          },
        ],
      },
    ],
    opNames: [],
  };
}
