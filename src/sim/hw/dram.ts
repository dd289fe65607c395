/**
 * Banked device DRAM (HBM or GDDR), cycle-approximate.
 *
 * Address mapping, low bits first: the offset inside an `interleaveBytes` chunk; the
 * channel (chunks rotate over all channels of all devices); then, in the channel's own
 * contiguous address space, the column inside a row, the bank, the row. Consecutive rows'
 * worth of a channel's data therefore land in different banks, so a stream keeps every
 * bank busy and its row misses overlap with other banks' transfers.
 *
 * Timing per request (the part of an access inside one chunk and one row; Dram.decode), in
 * the bank it maps to, with an open-page policy, from the time it is served (Dram.commit;
 * which request a bank serves next is the controller's choice, dram-controller.ts):
 *   command  = max(now, bank ready)
 *   row hit  : column command at `command`
 *   row miss : precharge no earlier than activate + tRAS, last read command + tRTP, last
 *              write data + tWR (if a row is open) and `command`, then tRP; activate;
 *              tRCD later the column command
 *   data     : CL (CWL for a write) after the column command, then the bursts occupy the
 *              channel's data bus (a bandwidth server) for their serialisation time.
 * Row hits and misses are counted per burst (one column access: bus width x burst length,
 * 64 B for HBM, 32 B for GDDR6): the first burst of a piece that opens a row is the miss,
 * the rest are hits.
 *
 * Activates in a channel are at least max(tRRD, tFAW / 4) apart (the steady rate tFAW
 * allows); a bank's activates are at least tRC = tRAS + tRP apart. On the channel's data
 * bus a read after a write waits tWTR + CL after the write data, a write after a read the
 * read-to-write turnaround.
 *
 * Simplifications, chosen so a run stays fast and explainable:
 * - Refresh: every tREFI each channel closes its banks (tRP) and refreshes them for tRFC
 *   (all channels at once, as DRAMSim3 does with one rank per channel); a command or an
 *   activate that falls in it waits for its end, and a refresh closes the open rows. Data
 *   already scheduled is not pushed out of the window.
 * - No bank groups (tRRD and tWTR take their short values, tCCD_L is not modelled); no
 *   command-bus limit (DRAMSim3 issues one command per cycle); the timing constraints look
 *   at the latest commands of a channel, as requests are served in about time order.
 * - Pseudo-channels (HBM2 PC mode, HBM3) are folded into their channel.
 */
import type { z } from 'zod';
import { num, obj, oneOf, size } from '../schema/fields.js';
import { formatBytes } from '../schema/units.js';
import { transferPs, type Ps } from '../engine/time.js';
import { BandwidthServer } from './bandwidth-server.js';

export interface DramStandard {
  /** Devices (HBM stacks, GDDR chips) a default configuration has. */
  readonly devices: number;
  readonly channelsPerDevice: number;
  readonly busWidthBits: number;
  /** Data rate per pin in Gb/s (DDR: 2 / tCK for HBM). */
  readonly dataRateGbps: number;
  /** Command clock period; the cycle counts below are in this clock. */
  readonly tCKNs: number;
  readonly banksPerChannel: number;
  readonly rowBytes: number;
  readonly burstLength: number;
  readonly clCycles: number;
  readonly cwlCycles: number;
  readonly tRCDCycles: number;
  readonly tRPCycles: number;
  readonly tRASCycles: number;
  readonly tRFCCycles: number;
  readonly tREFICycles: number;
  /** Activate to activate in the same channel (tRRD; the short, different-bank-group value). */
  readonly tRRDCycles: number;
  /** Window in which a channel may issue at most four activates. */
  readonly tFAWCycles: number;
  /** Write data end to the next read command (tWTR; short value): the data bus then waits tWTR + CL. */
  readonly tWTRCycles: number;
  /** Read data end to the next write data (the read-to-write bus turnaround, tRTRS in DRAMSim3). */
  readonly tRTWCycles: number;
  /** Write recovery: end of write data to a precharge of the bank. */
  readonly tWRCycles: number;
  /** Read column command to a precharge of the bank. */
  readonly tRTPCycles: number;
  /** Where the numbers come from; says which are approximate. */
  readonly source: string;
  readonly approximate: boolean;
}

export type DramStandardName = 'hbm2' | 'hbm2e' | 'hbm3' | 'gddr6';

/**
 * Timing sets. Cycle counts are in tCK. Where only a nanosecond figure is public, cycles are
 * ceil(ns / tCK) and the row is marked approximate.
 */
export const DRAM_STANDARDS: Readonly<Record<DramStandardName, DramStandard>> = {
  hbm2: {
    devices: 4,
    channelsPerDevice: 8,
    busWidthBits: 128,
    dataRateGbps: 2,
    tCKNs: 1,
    banksPerChannel: 16,
    rowBytes: 2048,
    burstLength: 4,
    clCycles: 14,
    cwlCycles: 4,
    tRCDCycles: 14,
    tRPCycles: 14,
    tRASCycles: 34,
    tRFCCycles: 260,
    tREFICycles: 3900,
    tRRDCycles: 4,
    tFAWCycles: 30,
    tWTRCycles: 6,
    tRTWCycles: 2,
    tWRCycles: 16,
    tRTPCycles: 5,
    source:
      'DRAMSim3 configs/HBM2_8Gb_x128.ini as DRAMSim3 simulates it: 8 channels x 128 bit, 4 bank groups x 4 banks (bank groups not modelled: tRRD and tWTR take the short values), 2 KiB rows (the file says 64 columns, and DRAMSim3 configuration.cc doubles the columns of HBM to 128 x 128 bit), BL 4, tCK 1 ns, CL 14, CWL 4, tRCD 14, tRP 14, tRAS 34 (tRC 48), tRRD_S 4, tFAW 30, tWTR_S 6, tRTRS 2, tWR 16, tRFC 260, tREFI 3900; tRTP 5, the default of DRAMSim3, which reads tRTP while the file sets only tRTP_L and tRTP_S. 4 stacks as on NVIDIA V100.',
    approximate: false,
  },
  hbm2e: {
    devices: 5,
    channelsPerDevice: 8,
    busWidthBits: 128,
    dataRateGbps: 3.2,
    tCKNs: 0.625,
    banksPerChannel: 16,
    rowBytes: 1024,
    burstLength: 4,
    clCycles: 23,
    cwlCycles: 7,
    tRCDCycles: 23,
    tRPCycles: 23,
    tRASCycles: 55,
    tRFCCycles: 560,
    tREFICycles: 6240,
    tRRDCycles: 7,
    tFAWCycles: 48,
    tWTRCycles: 10,
    tRTWCycles: 4,
    tWRCycles: 26,
    tRTPCycles: 8,
    source:
      'Approximate. JEDEC JESD235C HBM2E pin rate up to 3.2 Gb/s (410 GB/s per stack; 5 stacks give the 2 TB/s of NVIDIA A100 80GB); core timings assumed equal in ns to HBM2 (14/14/14/34 ns, tRRD 4, tFAW 30, tWTR 6, tRTRS 2, tWR 16, tRTP 5 ns, tRFC 350 ns, tREFI 3.9 us) at tCK 0.625 ns.',
    approximate: true,
  },
  hbm3: {
    devices: 5,
    channelsPerDevice: 16,
    busWidthBits: 64,
    dataRateGbps: 6.4,
    tCKNs: 0.3125,
    banksPerChannel: 32,
    rowBytes: 1024,
    burstLength: 8,
    clCycles: 45,
    cwlCycles: 13,
    tRCDCycles: 45,
    tRPCycles: 45,
    tRASCycles: 109,
    tRFCCycles: 1120,
    tREFICycles: 12480,
    tRRDCycles: 13,
    tFAWCycles: 96,
    tWTRCycles: 20,
    tRTWCycles: 7,
    tWRCycles: 52,
    tRTPCycles: 16,
    source:
      'Approximate. JEDEC JESD238 HBM3: 16 channels x 64 bit (two 32-bit pseudo-channels of 16 banks each, folded), up to 6.4 Gb/s per pin (819 GB/s per stack), BL 8; core timings (tRRD, tFAW, tWTR, turnaround, tWR and tRTP too) assumed equal in ns to HBM2 at tCK 0.3125 ns. 5 stacks as on NVIDIA H100 SXM.',
    approximate: true,
  },
  gddr6: {
    devices: 8,
    channelsPerDevice: 2,
    busWidthBits: 16,
    dataRateGbps: 16,
    tCKNs: 0.5,
    banksPerChannel: 16,
    rowBytes: 2048,
    burstLength: 16,
    clCycles: 28,
    cwlCycles: 7,
    tRCDCycles: 30,
    tRPCycles: 30,
    tRASCycles: 61,
    tRFCCycles: 240,
    tREFICycles: 3800,
    tRRDCycles: 8,
    tFAWCycles: 60,
    tWTRCycles: 12,
    tRTWCycles: 4,
    tWRCycles: 32,
    tRTPCycles: 10,
    source:
      "Approximate. JEDEC JESD250 GDDR6: 2 channels x 16 bit per chip, BL 16 (32 B per access), 16 banks, 2 KiB rows, 16 Gb/s per pin; core timings in ns from the Ramulator 2 GDDR6_2000 preset (CL 24, tRCD 26, tRP 26, tRAS 53, tRFC 210, tREFI 3333 at tCK 0.57 ns) converted to tCK 0.5 ns; tRRD 4 ns, tFAW 30 ns, tWTR 6 ns, a 2 ns read-to-write turnaround, tWR 16 ns and tRTP 5 ns are assumptions of the order of HBM2's. 8 chips = a 256-bit, 512 GB/s board.",
    approximate: true,
  },
};

const cycles = (what: string) =>
  num(`${what}, in tCK cycles. Default: the standard's value (see DRAM_STANDARDS).`, {
    int: true,
    min: 0,
    max: 1e6,
  }).optional();

export const dramSchema = obj(
  {
    standard: oneOf(
      ['hbm2', 'hbm2e', 'hbm3', 'gddr6'],
      'a device DRAM standard',
      'DRAM standard whose organisation and timings are the defaults of every field below: "hbm2" (DRAMSim3 HBM2_8Gb_x128), "hbm2e", "hbm3", "gddr6" (approximate, from JEDEC pin rates and published timings).',
    ).default('hbm2'),
    capacityBytes: size(
      'Device memory capacity, at most 1 TiB (the largest accelerator memories hold hundreds of GiB). Default 16 GiB (NVIDIA V100 16GB: 4 HBM2 stacks of 4 GiB).',
      { min: 1 << 20, max: 1024 ** 4 },
    ).default(16 * 1024 ** 3),
    devices: num("HBM stacks or GDDR chips. Default: the standard's (hbm2 4, hbm2e 5, hbm3 5, gddr6 8).", {
      int: true,
      min: 1,
      max: 64,
    }).optional(),
    channelsPerDevice: num(
      "Independent channels per stack or chip. Default: the standard's (hbm2/hbm2e 8, hbm3 16, gddr6 2).",
      { int: true, min: 1, max: 64 },
    ).optional(),
    banksPerChannel: num("Banks per channel, each with its own row buffer. Default: the standard's.", {
      int: true,
      min: 1,
      max: 256,
    }).optional(),
    rowBytes: size(
      "Row (page) size of one bank in one channel. Default: the standard's (1 KiB for HBM, 2 KiB for GDDR6).",
      {
        min: 64,
        max: 65536,
        powerOfTwo: true,
      },
    ).optional(),
    busWidthBits: num("Data bus width of one channel in bits. Default: the standard's (HBM2 128, HBM3 64, GDDR6 16).", {
      int: true,
      min: 8,
      max: 1024,
    }).optional(),
    dataRateGbps: num(
      "Data rate per pin in Gb/s; a channel moves busWidthBits x dataRateGbps / 8 GB/s. Default: the standard's.",
      { gt: 0, max: 100 },
    ).optional(),
    tCKNs: num(
      "Command clock period in ns; the timing fields count cycles of it. Default: the standard's (HBM2 1 ns).",
      { gt: 0, max: 100 },
    ).optional(),
    burstLength: num(
      "Burst length in beats; one column access moves busWidthBits / 8 x burstLength bytes. Default: the standard's (HBM2 4, HBM3 8, GDDR6 16).",
      { int: true, min: 1, max: 64 },
    ).optional(),
    clCycles: cycles('CAS (read) latency CL: column command to first data'),
    cwlCycles: cycles('CAS write latency CWL: column command to first write data'),
    tRCDCycles: cycles('tRCD: activate to column command'),
    tRPCycles: cycles('tRP: precharge to activate'),
    tRASCycles: cycles('tRAS: activate to precharge, minimum'),
    tRFCCycles: cycles('tRFC: all-bank refresh time, every tREFI (0 disables refresh)'),
    tREFICycles: cycles('tREFI: refresh interval'),
    tRRDCycles: cycles('tRRD: activate to activate in one channel'),
    tFAWCycles: cycles('tFAW: window with at most four activates in one channel'),
    tWTRCycles: cycles('tWTR: end of write data to a read command; the read data follows CL later'),
    tRTWCycles: cycles('read-to-write turnaround: end of read data to write data on the channel bus'),
    tWRCycles: cycles('tWR: write recovery, end of write data to a precharge of the bank'),
    tRTPCycles: cycles('tRTP: read command to a precharge of the bank'),
    controller: obj(
      {
        scheduler: oneOf(
          ['fr-fcfs', 'fcfs'],
          'a DRAM scheduling policy',
          'How each bank picks its next request among those queued for it: "fr-fcfs" (first ready, first come first served: the oldest request to the open row goes first, at most rowHitCap in a row, then the oldest) or "fcfs" (arrival order). Default "fr-fcfs": DRAMSim3 command_queue.cc (Rixner et al., ISCA 2000).',
        ).default('fr-fcfs'),
        transactionQueueEntries: num(
          "Entries of each channel's read queue and of its write buffer; a requester whose queue is full waits. Default 32: DRAMSim3 HBM2_8Gb_x128.ini trans_queue_size.",
          { int: true, min: 1, max: 4096 },
        ).default(32),
        bankQueueEntries: num(
          'Requests each bank holds for the scheduler to choose from; the transaction queues feed them in order. Default 8: DRAMSim3 HBM2_8Gb_x128.ini cmd_queue_size (queue_structure PER_BANK).',
          { int: true, min: 1, max: 1024 },
        ).default(8),
        rowHitCap: num(
          'FR-FCFS serves row hits until the open row has had this many column commands (bursts); then an older request to another row may close it. Default 4: DRAMSim3 command_queue.cc ArbitratePrecharge.',
          { int: true, min: 1, max: 1024 },
        ).default(4),
        writeDrainLowWatermark: num(
          'Writes wait in the write buffer and are drained all at once when it is full, or when it holds more than this many and no bank has work. Default 8: DRAMSim3 controller.cc ScheduleTransaction.',
          { int: true, min: 0, max: 4096 },
        ).default(8),
      },
      'The memory controller of each channel: read queue, write buffer, per-bank queues and the scheduler (after DRAMSim3).',
    ).prefault({}),
    interleaveBytes: size(
      'Channel interleave granularity: consecutive chunks of this size go to consecutive channels. At least one burst, a power of two. Default 256 B.',
      { min: 32, max: 1 << 20, powerOfTwo: true },
    ).default(256),
  },
  "Device memory (HBM or GDDR): channels, banks, row buffers, timings. Unset fields take the standard's values.",
).superRefine((v, ctx) => {
  const r = resolveDram(v);
  if (r.busWidthBits % 8 !== 0)
    ctx.addIssue({
      code: 'custom',
      path: ['busWidthBits'],
      message: `${r.busWidthBits} is not a whole number of bytes; use a multiple of 8`,
    });
  else if (v.interleaveBytes % r.burstBytes !== 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['interleaveBytes'],
      message: `${formatBytes(v.interleaveBytes)} is smaller than one burst (${formatBytes(r.burstBytes)}); use at least ${formatBytes(r.burstBytes)}`,
    });
  } else if (r.rowBytes % r.burstBytes !== 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['rowBytes'],
      message: `${formatBytes(r.rowBytes)} is not a whole number of bursts of ${formatBytes(r.burstBytes)}`,
    });
  }
  if (r.tREFICycles > 0 && r.tRFCCycles >= r.tREFICycles) {
    ctx.addIssue({
      code: 'custom',
      path: ['tRFCCycles'],
      message: `tRFC (${r.tRFCCycles}) must be shorter than tREFI (${r.tREFICycles})`,
    });
  }
});
export type DramConfig = z.infer<typeof dramSchema>;

/** A configuration with every field decided: the standard's values under the overrides. */
export interface ResolvedDram extends Omit<DramStandard, 'source' | 'approximate'> {
  readonly standard: DramStandardName;
  readonly capacityBytes: number;
  readonly interleaveBytes: number;
  readonly channels: number;
  readonly burstBytes: number;
  /** Per channel. */
  readonly channelBandwidthGBps: number;
  readonly peakBandwidthGBps: number;
  /** Fraction of time a channel is not refreshing ((tRP + tRFC) / tREFI taken off), for reports. */
  readonly refreshAvailability: number;
}

export function resolveDram(c: DramConfig): ResolvedDram {
  const s = DRAM_STANDARDS[c.standard];
  const pick = <K extends keyof DramStandard & keyof DramConfig>(k: K) => (c[k] ?? s[k]) as number;
  const devices = pick('devices');
  const channelsPerDevice = pick('channelsPerDevice');
  const busWidthBits = pick('busWidthBits');
  const burstLength = pick('burstLength');
  const dataRateGbps = pick('dataRateGbps');
  const tRFCCycles = pick('tRFCCycles');
  const tREFICycles = pick('tREFICycles');
  const channels = devices * channelsPerDevice;
  const channelBandwidthGBps = (busWidthBits * dataRateGbps) / 8;
  return {
    standard: c.standard,
    capacityBytes: c.capacityBytes,
    interleaveBytes: c.interleaveBytes,
    devices,
    channelsPerDevice,
    channels,
    busWidthBits,
    dataRateGbps,
    tCKNs: pick('tCKNs'),
    banksPerChannel: pick('banksPerChannel'),
    rowBytes: pick('rowBytes'),
    burstLength,
    burstBytes: (busWidthBits / 8) * burstLength,
    clCycles: pick('clCycles'),
    cwlCycles: pick('cwlCycles'),
    tRCDCycles: pick('tRCDCycles'),
    tRPCycles: pick('tRPCycles'),
    tRASCycles: pick('tRASCycles'),
    tRFCCycles,
    tREFICycles,
    tRRDCycles: pick('tRRDCycles'),
    tFAWCycles: pick('tFAWCycles'),
    tWTRCycles: pick('tWTRCycles'),
    tRTWCycles: pick('tRTWCycles'),
    tWRCycles: pick('tWRCycles'),
    tRTPCycles: pick('tRTPCycles'),
    channelBandwidthGBps,
    peakBandwidthGBps: channelBandwidthGBps * channels,
    // A refresh closes every bank (tRP) and then holds them for tRFC.
    refreshAvailability: tRFCCycles > 0 && tREFICycles > 0 ? 1 - (tRFCCycles + pick('tRPCycles')) / tREFICycles : 1,
  };
}

/** An access split into pieces (Dram.decode): per piece its channel, global bank, row and bursts. */
export class DramPieces {
  channel = new Int32Array(4);
  bank = new Int32Array(4);
  row = new Float64Array(4);
  bursts = new Int32Array(4);

  grow(): void {
    const n = this.channel.length * 2;
    const copy = <T extends Int32Array | Float64Array>(a: T, b: T): T => (b.set(a), b);
    this.channel = copy(this.channel, new Int32Array(n));
    this.bank = copy(this.bank, new Int32Array(n));
    this.row = copy(this.row, new Float64Array(n));
    this.bursts = copy(this.bursts, new Int32Array(n));
  }
}

export class Dram {
  readonly spec: ResolvedDram;
  readonly capacityBytes: number;
  /** Sum over channels of bus width x data rate, before refresh. */
  readonly peakBandwidthGBps: number;

  rowHits = 0;
  rowMisses = 0;
  readBytes = 0;
  writeBytes = 0;
  accesses = 0;
  /** Read accesses and their summed latency, from the call to the last data beat. */
  reads = 0;
  readLatencyPs: Ps = 0;
  /** The first access's issue and the last one's completion: the span the bandwidth metric is over. */
  firstIssuePs: Ps = Infinity;
  lastDonePs: Ps = 0;
  /** Data-bus busy time per channel. */
  readonly busyPs: Float64Array;

  private readonly buses: BandwidthServer[];
  /** The channels' data buses (for the machine to attach its clock). */
  get servers(): readonly BandwidthServer[] {
    return [...this.buses, ...this.activates];
  }
  /** Each channel's data bus, by channel number (what a timeline shows as the channel's busy time). */
  get dataBuses(): readonly BandwidthServer[] {
    return this.buses;
  }
  /** Per bank (channel * banksPerChannel + bank): open row or -1, last activate time, next command time. */
  private readonly openRow: Float64Array;
  /** Per bank: the earliest precharge (tRAS after its activate, tRTP after a read, tWR after write data). */
  private readonly prechargeAt: Float64Array;
  private readonly bankReady: Float64Array;
  /** Per bank: the refresh interval of its last command (a refresh in between closed its row). */
  private readonly refreshEpoch: Float64Array;
  /** Per channel: a calendar of activate slots (tRRD, tFAW), its latest data end and direction. */
  private readonly activates: BandwidthServer[];
  private readonly dataEnd: Float64Array;
  private readonly dataWrite: Uint8Array;

  readonly channels: number;
  readonly banks: number;
  private readonly rowBytes: number;
  private readonly interleave: number;
  private readonly burstBytes: number;
  private readonly burstPs: Ps;
  /** transferPs of n bursts on a channel's bus, by n: what the bus's reserve would compute. */
  private readonly burstsPs: Float64Array;
  private readonly clPs: Ps;
  private readonly cwlPs: Ps;
  private readonly tRCDPs: Ps;
  private readonly tRPPs: Ps;
  private readonly tRASPs: Ps;
  private readonly tWRPs: Ps;
  private readonly tRTPPs: Ps;
  /** All-bank refresh: every tREFI a channel's banks are blocked for tRFC (0: no refresh). */
  private readonly tREFIPs: Ps;
  private readonly tRFCPs: Ps;
  /** Spacing of a channel's activates: max(tRRD, tFAW / 4). */
  private readonly activateSpacingPs: Ps;
  /**
   * The refresh interval met last, [epochStartPs, epochStartPs + tREFI): most commands fall
   * in it, and a comparison is cheaper than the division that finds an interval. Equal to
   * the division's result: t / tREFI rounds to a wrong integer only for t of 2^53 ps and more.
   */
  private epochStartPs: Ps = 0;
  private epochIndex = 0;
  /**
   * 1 / rowBytes, 1 / banks and 1 / burstBytes when they are powers of two (x * 2^-k is
   * exactly x / 2^k, and a multiplication costs a fraction of a division), else 0.
   */
  private readonly rowInv: number;
  private readonly banksInv: number;
  private readonly burstInv: number;
  /** Bus gap from write data to read data (tWTR + CL) and from read data to write data. */
  private readonly writeToReadPs: Ps;
  private readonly readToWritePs: Ps;

  constructor(config: DramConfig) {
    const r = resolveDram(config);
    if (config.interleaveBytes % r.burstBytes !== 0 || r.rowBytes % r.burstBytes !== 0) {
      throw new RangeError(
        `interleave (${config.interleaveBytes} B) and row (${r.rowBytes} B) must be whole bursts of ${r.burstBytes} B`,
      );
    }
    this.spec = r;
    this.capacityBytes = r.capacityBytes;
    this.peakBandwidthGBps = r.peakBandwidthGBps;
    this.channels = r.channels;
    this.banks = r.banksPerChannel;
    this.rowBytes = r.rowBytes;
    this.interleave = r.interleaveBytes;
    this.burstBytes = r.burstBytes;
    const tCKPs = r.tCKNs * 1000;
    // Cycle counts become picoseconds once, here (tCK may be fractional ps-wise, e.g. 312.5 ps).
    const ps = (n: number) => Math.round(n * tCKPs);
    this.clPs = ps(r.clCycles);
    this.cwlPs = ps(r.cwlCycles);
    this.tRCDPs = ps(r.tRCDCycles);
    this.tRPPs = ps(r.tRPCycles);
    this.tRASPs = ps(r.tRASCycles);
    this.tWRPs = ps(r.tWRCycles);
    this.tRTPPs = ps(r.tRTPCycles);
    this.activateSpacingPs = Math.max(ps(r.tRRDCycles), ps(r.tFAWCycles) / 4);
    this.writeToReadPs = ps(r.tWTRCycles + r.clCycles);
    this.readToWritePs = ps(r.tRTWCycles);
    this.burstPs = transferPs(r.burstBytes, r.channelBandwidthGBps);
    const inverse = (n: number) => ((n & (n - 1)) === 0 ? 1 / n : 0);
    this.rowInv = inverse(r.rowBytes);
    this.banksInv = inverse(r.banksPerChannel);
    this.burstInv = inverse(r.burstBytes);
    // A piece is at most a chunk or a row long (an access that starts mid-burst touches one more).
    const maxBursts = Math.min(r.interleaveBytes, r.rowBytes) / r.burstBytes + 1;
    this.burstsPs = Float64Array.from({ length: maxBursts + 1 }, (_, n) =>
      n > 0 ? transferPs(n * r.burstBytes, r.channelBandwidthGBps) : 0,
    );
    this.buses = Array.from({ length: r.channels }, () => new BandwidthServer(r.channelBandwidthGBps));
    this.tREFIPs = r.tRFCCycles > 0 ? ps(r.tREFICycles) : 0;
    // An all-bank refresh first precharges every bank (tRP), then holds them for tRFC.
    this.tRFCPs = ps(r.tRFCCycles + r.tRPCycles);
    this.busyPs = new Float64Array(r.channels);
    const nBanks = r.channels * r.banksPerChannel;
    this.openRow = new Float64Array(nBanks).fill(-1);
    this.prechargeAt = new Float64Array(nBanks);
    this.bankReady = new Float64Array(nBanks);
    this.refreshEpoch = new Float64Array(nBanks);
    this.activates = Array.from({ length: r.channels }, () => new BandwidthServer(1000));
    this.dataEnd = new Float64Array(r.channels).fill(-Infinity);
    this.dataWrite = new Uint8Array(r.channels);
  }

  /** The channel that device address `addr` maps to. */
  channelOf(addr: number): number {
    return Math.floor(addr / this.interleave) % this.channels;
  }

  /** Throws unless [addr, addr + bytes) lies in device memory. */
  checkRange(addr: number, bytes: number): void {
    const end = addr + bytes;
    if (addr < 0 || end > this.capacityBytes) {
      throw new RangeError(
        `device memory access [${addr}, ${end}) is outside the ${this.capacityBytes}-byte device memory`,
      );
    }
  }

  /**
   * Splits an access into pieces, each inside one interleave chunk and one row: fills `out`
   * (channel, global bank, row, bursts per piece) and returns the number of pieces.
   */
  decode(addr: number, bytes: number, out: DramPieces): number {
    const il = this.interleave;
    const rowBytes = this.rowBytes;
    const channels = this.channels;
    const end = addr + bytes;
    let n = 0;
    let a = addr;
    while (a < end) {
      const chunk = Math.floor(a / il);
      const inChunk = a - chunk * il;
      const channel = chunk % channels;
      const local = Math.floor(chunk / channels) * il + inChunk;
      const rowIndex = Math.floor(local / rowBytes);
      const inRow = local - rowIndex * rowBytes;
      // The piece ends at the nearest of the chunk's end, the row's end and the access's end.
      let pieceEnd = a + (il - inChunk);
      const rowEnd = a + (rowBytes - inRow);
      if (rowEnd < pieceEnd) pieceEnd = rowEnd;
      if (end < pieceEnd) pieceEnd = end;
      if (n === out.channel.length) out.grow();
      out.channel[n] = channel;
      out.bank[n] = channel * this.banks + (rowIndex % this.banks);
      out.row[n] = Math.floor(rowIndex / this.banks);
      out.bursts[n] =
        Math.floor((local + (pieceEnd - a) - 1) / this.burstBytes) - Math.floor(local / this.burstBytes) + 1;
      n++;
      a = pieceEnd;
    }
    return n;
  }

  /**
   * Completion time of the last data beat of an access of `bytes` at device address
   * `addr`, issued at `t` and served at once, in call order (FCFS): the copy engines' path,
   * which streams whole rows and does not go through the controller's queues.
   */
  access(t: Ps, addr: number, bytes: number, write: boolean): Ps {
    if (bytes <= 0) return t;
    this.checkRange(addr, bytes);
    this.count(bytes, write);
    // The pieces decode() would give, in its order, each committed as it is found: the
    // position moves piece by piece instead of being divided out of the address each time.
    const il = this.interleave;
    const rowBytes = this.rowBytes;
    const banks = this.banks;
    const burstBytes = this.burstBytes;
    const end = addr + bytes;
    const chunk = Math.floor(addr / il);
    let channel = chunk % this.channels;
    let inChunk = addr - chunk * il;
    /** Where the piece starts in its channel's own address space. */
    let local = ((chunk - channel) / this.channels) * il + inChunk;
    let a = addr;
    let done = t;
    const rowInv = this.rowInv;
    const banksInv = this.banksInv;
    const burstInv = this.burstInv;
    while (a < end) {
      const rowIndex = Math.floor(rowInv > 0 ? local * rowInv : local / rowBytes);
      const chunkLeft = il - inChunk;
      const rowLeft = rowBytes - (local - rowIndex * rowBytes);
      let length = chunkLeft < rowLeft ? chunkLeft : rowLeft;
      if (end - a < length) length = end - a;
      const row = Math.floor(banksInv > 0 ? rowIndex * banksInv : rowIndex / banks);
      const bankInChannel = rowIndex - row * banks;
      const bursts =
        burstInv > 0
          ? Math.floor((local + length - 1) * burstInv) - Math.floor(local * burstInv) + 1
          : Math.floor((local + length - 1) / burstBytes) - Math.floor(local / burstBytes) + 1;
      const finished = this.commit(t, channel, channel * banks + bankInChannel, row, bursts, write);
      if (finished > done) done = finished;
      a += length;
      if (length === chunkLeft) {
        // The next chunk is the next channel's; after the last channel, the next chunk of the first.
        inChunk = 0;
        if (++channel === this.channels) {
          channel = 0;
          local += length;
        } else local += length - il;
      } else {
        inChunk += length;
        local += length;
      }
    }
    if (!write) this.countRead(t, done);
    this.noteSpan(t, done);
    return done;
  }

  /** Counts an access's bytes. */
  count(bytes: number, write: boolean): void {
    if (write) this.writeBytes += bytes;
    else this.readBytes += bytes;
    this.accesses++;
  }

  /** Counts a read served from `issued` to `done`. */
  countRead(issued: Ps, done: Ps): void {
    this.reads++;
    this.readLatencyPs += done - issued;
  }

  /** Widens the span the bandwidth metric is over. */
  noteSpan(issued: Ps, done: Ps): void {
    if (issued < this.firstIssuePs) this.firstIssuePs = issued;
    if (done > this.lastDonePs) this.lastDonePs = done;
  }

  /** When `bank` (global index) can take its next column command. */
  bankReadyAt(bank: number): Ps {
    return this.bankReady[bank];
  }

  /** The row open in `bank` at `t` (-1: none, or a refresh since its last command closed it). */
  openRowAt(bank: number, t: Ps): number {
    if (this.tREFIPs > 0 && this.refreshIntervalOf(this.afterRefresh(t)) !== this.refreshEpoch[bank]) return -1;
    return this.openRow[bank];
  }

  /**
   * Serves `bursts` of one row in one bank, the bank's commands no earlier than `t`: opens
   * the row if needed, then moves the data over the channel bus. Returns the last beat's time.
   */
  commit(t: Ps, channel: number, bank: number, row: number, bursts: number, write: boolean): Ps {
    const ready = this.bankReady[bank];
    let command = t > ready ? t : ready;
    const period = this.tREFIPs;
    if (period > 0) {
      // afterRefresh(command), and the refresh interval it falls in (a refresh moves the
      // command to its end, in the same interval since tRFC < tREFI).
      const epoch = this.refreshIntervalOf(command);
      if (epoch > 0) {
        const intoPeriod = command - this.epochStartPs;
        if (intoPeriod < this.tRFCPs) command += this.tRFCPs - intoPeriod;
      }
      // A refresh since the bank's last command closed its row.
      if (epoch !== this.refreshEpoch[bank]) {
        this.refreshEpoch[bank] = epoch;
        this.openRow[bank] = -1;
      }
    }
    let column: Ps;
    const open = this.openRow[bank];
    if (open === row) {
      this.rowHits += bursts;
      column = command;
    } else {
      this.rowMisses++;
      this.rowHits += bursts - 1;
      let activate = command;
      if (open >= 0) {
        const earliestPrecharge = this.prechargeAt[bank];
        activate = (command > earliestPrecharge ? command : earliestPrecharge) + this.tRPPs;
      }
      // No activate inside a refresh: the rank is closed for tRFC.
      activate = this.activateSlot(channel, this.afterRefresh(activate));
      this.prechargeAt[bank] = activate + this.tRASPs;
      this.openRow[bank] = row;
      column = activate + this.tRCDPs;
    }
    // Column commands to this bank pipeline one burst apart; the last one delays a precharge.
    const lastColumn = column + (bursts - 1) * this.burstPs;
    const precharge = write ? lastColumn + this.cwlPs + this.burstPs + this.tWRPs : lastColumn + this.tRTPPs;
    if (precharge > this.prechargeAt[bank]) this.prechargeAt[bank] = precharge;
    this.bankReady[bank] = column + bursts * this.burstPs;
    const bus = this.buses[channel];
    let data = column + (write ? this.cwlPs : this.clPs);
    if ((this.dataWrite[channel] === 1) !== write) {
      // The bus turns around: read data waits tWTR + CL after write data, write data the read-to-write gap.
      const turned = this.dataEnd[channel] + (write ? this.readToWritePs : this.writeToReadPs);
      if (turned > data) data = turned;
    }
    const finished =
      bursts < this.burstsPs.length
        ? bus.reserveTimed(data, bursts * this.burstBytes, this.burstsPs[bursts])
        : bus.reserve(data, bursts * this.burstBytes);
    if (finished > this.dataEnd[channel]) {
      this.dataEnd[channel] = finished;
      this.dataWrite[channel] = write ? 1 : 0;
    }
    this.busyPs[channel] = bus.busyPs;
    return finished;
  }

  /** `t`, or the end of the all-bank refresh `t` falls in (every channel refreshes every tREFI from tREFI on, as DRAMSim3's do). */
  private afterRefresh(t: Ps): Ps {
    const period = this.tREFIPs;
    // The first refresh is due one tREFI after power-up.
    if (period === 0 || t < period) return t;
    this.refreshIntervalOf(t);
    const intoPeriod = t - this.epochStartPs;
    return intoPeriod < this.tRFCPs ? t + (this.tRFCPs - intoPeriod) : t;
  }

  /** The refresh interval `t` falls in, Math.floor(t / tREFI) (tREFI > 0); its start is then epochStartPs. */
  private refreshIntervalOf(t: Ps): number {
    const start = this.epochStartPs;
    if (t < start || t >= start + this.tREFIPs) {
      this.epochIndex = Math.floor(t / this.tREFIPs);
      this.epochStartPs = this.epochIndex * this.tREFIPs;
    }
    return this.epochIndex;
  }

  /**
   * The earliest time from `t` at which `channel` may activate a row. Activates are booked
   * on a calendar at least max(tRRD, tFAW / 4) apart: the rate tFAW allows in steady
   * state (a burst of four at tRRD spacing is not modelled), kept correct when calls come
   * out of time order.
   */
  private activateSlot(channel: number, t: Ps): Ps {
    const slots = this.activates[channel];
    slots.occupy(t, this.activateSpacingPs);
    return slots.lastStartPs;
  }

  /** Total queueing delay on the channel data buses (a DRAM-wait attribution input). */
  queueWaitPs(): Ps {
    let w = 0;
    for (const b of this.buses) w += b.queueWaitPs;
    return w;
  }
}
