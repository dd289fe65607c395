/**
 * A PCIe link, after the framing model of pcie-bench/pcie-model (Neugebauer et al.,
 * "Understanding PCIe performance for end host networking", SIGCOMM 2018).
 *
 * Each direction is a bandwidth server running at the raw line rate after encoding
 * (lanes x GT/s x 128/130 / 8 for gen3-5). Nothing else is configured as a bandwidth: the
 * effective throughput of a transfer emerges from the bytes that go on the wire with it:
 *
 * - transaction layer: a header per TLP (16 B for a 64-bit memory read or write, 12 B for a
 *   completion with data, 16 B for a message) and 4 B of ECRC when it is on; payloads are
 *   whole doublewords;
 * - data link layer: per TLP 2 B sequence number + 4 B LCRC, plus 2 B of physical framing,
 *   so a 64-bit MWr or MRd costs 24 B beyond its payload and a completion 20 B;
 * - ACK and UpdateFC DLLPs (8 B each) and SKP ordered sets (4 B per 1538 B): as pcie-model
 *   does, they are deducted from each direction's bandwidth at the spec's intervals (the Ack
 *   limit and the UpdateFC guideline, per link width and MPS), whether or not that
 *   direction carries data. Each direction is a server at that usable TLP bandwidth, so the
 *   event path and the analytic figures below agree by construction;
 * - gen6 FLIT mode: TLPs are packed into 256-byte flits of which 242 bytes are useful
 *   (an approximation); there is no per-TLP sequence/LCRC/framing, and ACK and flow-control
 *   information rides in each flit's data-link bytes, so no DLLPs are deducted.
 *
 * Splitting: a write of S bytes is ceil(S / MPS) TLPs; a read sends ceil(S / MRRS) requests
 * and receives ceil(S / C) completions, C = readCompletionBytes (at most MPS).
 *
 * Simplifications: transfers are taken as aligned to MPS/MRRS/RCB; flow-control credits never
 * run out (UpdateFCs cost bandwidth but never stall); DLLPs cost their share of bandwidth at
 * the spec's intervals even on an idle direction (pcie-model's method: the usable bandwidth
 * of a direction is a constant); no replays (no bit errors).
 */
import { z } from 'zod';
import { bool, num, obj, oneOf, size } from '../../schema/fields.js';
import { formatBytes } from '../../schema/units.js';
import { nsToPs, type Ps } from '../../engine/time.js';
import type { BandwidthServer } from '../bandwidth-server.js';
import { Duplex } from './duplex.js';
import { emptyLinkStats, type Direction, type Link, type LinkStats } from './types.js';

export type PcieEncoding = '8b/10b' | '128b/130b' | 'flit';

export interface PcieGeneration {
  /** Per-lane signalling rate in GT/s. */
  readonly gtPerLane: number;
  readonly encoding: PcieEncoding;
}

/** PCIe generations (PCI-SIG base specifications 1.0 to 6.0; table as in pcie-bench/pcie-model). */
export const PCIE_GENERATIONS: Readonly<Record<1 | 2 | 3 | 4 | 5 | 6, PcieGeneration>> = {
  1: { gtPerLane: 2.5, encoding: '8b/10b' },
  2: { gtPerLane: 5, encoding: '8b/10b' },
  3: { gtPerLane: 8, encoding: '128b/130b' },
  4: { gtPerLane: 16, encoding: '128b/130b' },
  5: { gtPerLane: 32, encoding: '128b/130b' },
  6: { gtPerLane: 64, encoding: 'flit' },
};

/**
 * Fraction of the signalling rate left after line encoding. FLIT mode (gen6, PAM4) has no
 * line code; its flit overhead (CRC, FEC, data-link bytes) is charged as wire bytes instead.
 */
export const PCIE_ENCODING_EFFICIENCY: Readonly<Record<PcieEncoding, number>> = {
  '8b/10b': 8 / 10,
  '128b/130b': 128 / 130,
  flit: 1,
};

/** Header of a TLP: 4 B common header + 12 B for a 64-bit memory request. */
export const PCIE_MEM_REQUEST_HEADER_BYTES = 16;
/** Header of a completion with data: 4 B common + 8 B completion fields. */
export const PCIE_COMPLETION_HEADER_BYTES = 12;
/** Header of a message request (4 DW): MSI-less messages, ATS invalidations, PRI page requests. */
export const PCIE_MESSAGE_HEADER_BYTES = 16;
export const PCIE_ECRC_BYTES = 4;
/** Per-TLP data-link and physical overhead outside FLIT mode: 2 B sequence, 4 B LCRC, 2 B framing. */
export const PCIE_TLP_LINK_OVERHEAD_BYTES = 8;
/** A DLLP on the wire (ACK, UpdateFC): 6 B DLLP + 2 B framing. */
export const PCIE_DLLP_BYTES = 8;
export const PCIE_SKP_BYTES = 4;
export const PCIE_SKP_INTERVAL_BYTES = 1538;
export const PCIE_FLIT_BYTES = 256;
export const PCIE_FLIT_USEFUL_BYTES = 242;

/**
 * Intervals, in bytes of link traffic, at which a receiver sends an ACK DLLP (the Ack
 * limit: PCIe Base Spec 5.0 Tables 3-7 to 3-9) and an UpdateFC DLLP (the UpdateFC latency
 * guideline: Tables 2-46 to 2-48), by link width and MPS. The two tables have the same
 * values for gen3 to gen5; the figures are pcie-model's transcription (model/pcie.py),
 * which takes the spec's symbol times as bytes.
 */
export const PCIE_DLLP_INTERVAL_BYTES: Readonly<Record<number, Readonly<Record<number, number>>>> = {
  1: { 128: 333, 256: 512, 512: 655, 1024: 1167, 2048: 2191, 4096: 4239 },
  2: { 128: 224, 256: 313, 512: 385, 1024: 641, 2048: 1153, 4096: 2177 },
  4: { 128: 169, 256: 214, 512: 250, 1024: 378, 2048: 634, 4096: 1146 },
  8: { 128: 163, 256: 203, 512: 182, 1024: 246, 2048: 374, 4096: 630 },
  16: { 128: 144, 256: 168, 512: 182, 1024: 246, 2048: 374, 4096: 630 },
};

/** A TLP size field: bytes, a power of two up to 4 KiB (the largest the spec allows). */
const payloadSize = (def: number, min: number, description: string) =>
  size(`${description} Bytes, a power of two from ${min} to 4096. Default ${def}.`, {
    min,
    max: 4096,
    powerOfTwo: true,
  }).default(def);

export const pcieLinkSchema = obj(
  {
    impl: z.literal('pcie').describe('A PCIe link (generation 3 to 6).'),
    generation: oneOf(
      [3, 4, 5, 6],
      'a PCIe generation',
      'PCIe generation: 3 (8 GT/s, 128b/130b), 4 (16 GT/s), 5 (32 GT/s) or 6 (64 GT/s PAM4, FLIT mode). PCI-SIG PCIe Base Specifications 3.0-6.0.',
    ).default(4),
    lanes: oneOf(
      [1, 2, 4, 8, 16],
      'a PCIe link width',
      'Link width in lanes. Bandwidth scales linearly with lanes.',
    ).default(16),
    mpsBytes: payloadSize(
      256,
      128,
      'Maximum Payload Size: the largest data payload of one TLP; writes and completions are split at it. The Device Control register allows 128 B to 4 KiB; 128 and 256 B are the values hosts actually use (PCIe Base Spec; Neugebauer et al., SIGCOMM 2018 model both).',
    ),
    mrrsBytes: payloadSize(
      512,
      128,
      'Maximum Read Request Size: the most data one read request may ask for; larger reads are split into several requests. 512 B is the reset value of the Max_Read_Request_Size field of the Device Control register (PCIe Base Spec).',
    ),
    readCompletionBytes: size(
      "Size of the completions that carry read data, bytes (a power of two from 64 to mpsBytes). Default: mpsBytes, a completer that fills completions up to MPS, as pcie-model assumes by default (rcb_chunks off) and as pinned host-to-device copies of 12-13 GB/s on Gen3 x16 and 25-26 GB/s on Gen4 x16 imply. Set 64 for a root complex that returns one cache line per completion (pcie-model's rcb_chunks, seen on older chipsets; Neugebauer et al., SIGCOMM 2018).",
      { min: 64, max: 4096, powerOfTwo: true },
    ).optional(),
    ecrc: bool(
      'End-to-end CRC: adds a 4-byte digest to every TLP (PCIe Base Spec, TLP Digest). Default off, as on most systems.',
    ).default(false),
    atomicOps: bool(
      'The root complex completes PCIe AtomicOps (FetchAdd, Swap, CAS; PCIe Base Spec 3.0+, Device Capabilities 2 "AtomicOp Completer Supported") from this device, so its atomics on system memory go over the link. Default off: an optional capability many root ports and GPUs lack, which is why nouveau implements SVM atomics with device-exclusive access (make_device_exclusive, Linux 5.14, "nouveau/svm: implement atomic SVM access"); a scripted dev.atomic then takes exclusive access first.',
    ).default(false),
    latencyNs: num(
      'One-way latency in ns from the last byte leaving the sender to its arrival at the far end (PHY, retimers, root complex, switch hops). Default 200 ns: with a host memory access, a 64-byte DMA read then takes about 500 ns round trip, the several hundred ns that pcie-bench measures (Neugebauer et al., SIGCOMM 2018).',
      { min: 0, max: 1e6 },
    ).default(200),
    ackIntervalBytes: num(
      'Bytes of received traffic per ACK DLLP (8 B) the receiver returns. Default: the Ack limit of the PCIe Base Spec 5.0 (Tables 3-7 to 3-9) for the generation, width and MPS, as pcie-model tabulates it: 168 for x16 at MPS 256, 144 at MPS 128. Gen6 FLIT mode has no ACK DLLPs and ignores it.',
      { int: true, min: 16, max: 65536 },
    ).optional(),
    flowControlUpdateIntervalBytes: num(
      'Bytes of received traffic per UpdateFC DLLP (8 B) returning flow-control credits. Default: the UpdateFC guideline of the PCIe Base Spec 5.0 (Tables 2-46 to 2-48) for the generation, width and MPS, as pcie-model tabulates it (the same values as the Ack limit for gen3-5). Gen6 FLIT mode ignores it.',
      { int: true, min: 16, max: 65536 },
    ).optional(),
  },
  'A PCIe link. Effective bandwidth is not a parameter: it follows from line rate, encoding, TLP and DLLP overheads (pcie-bench/pcie-model, Neugebauer et al., SIGCOMM 2018).',
).superRefine((v, ctx) => {
  if (v.readCompletionBytes !== undefined && v.readCompletionBytes > v.mpsBytes) {
    ctx.addIssue({
      code: 'custom',
      path: ['readCompletionBytes'],
      message: `${formatBytes(v.readCompletionBytes)} is larger than mpsBytes (${formatBytes(v.mpsBytes)}); a completion cannot carry more than MPS`,
    });
  }
});
export type PcieLinkConfig = z.infer<typeof pcieLinkSchema>;

/** The PCIe parameters the framing maths needs (a subset, so tests and docs can pass plain objects). */
export type PcieParams = Pick<
  PcieLinkConfig,
  | 'generation'
  | 'lanes'
  | 'mpsBytes'
  | 'mrrsBytes'
  | 'readCompletionBytes'
  | 'ecrc'
  | 'ackIntervalBytes'
  | 'flowControlUpdateIntervalBytes'
>;

export type PcieTransactionKind = 'write' | 'readRequest' | 'completion' | 'message';

/** Raw per-direction bandwidth after line encoding: lanes x GT/s x efficiency / 8, in GB/s. */
export function pcieRawBandwidthGBps(generation: number, lanes: number): number {
  const gen = PCIE_GENERATIONS[generation as keyof typeof PCIE_GENERATIONS];
  if (!gen) throw new RangeError(`${generation} is not a PCIe generation`);
  return (gen.gtPerLane * lanes * PCIE_ENCODING_EFFICIENCY[gen.encoding]) / 8;
}

/** True for gen6 and later: FLIT mode, no per-TLP link overhead and no DLLPs. */
function isFlit(generation: number): boolean {
  return PCIE_GENERATIONS[generation as keyof typeof PCIE_GENERATIONS].encoding === 'flit';
}

/** Bytes of a completion with data: readCompletionBytes, or MPS when unset. */
export function pcieCompletionBytes(p: Pick<PcieParams, 'mpsBytes' | 'readCompletionBytes'>): number {
  return Math.min(p.readCompletionBytes ?? p.mpsBytes, p.mpsBytes);
}

/**
 * Usable TLP bandwidth of one direction, GB/s: the raw rate less the ACK and UpdateFC DLLPs
 * sent at the spec's intervals and the SKP ordered sets (pcie-model's TLP_bw); in FLIT
 * mode, less the flits' non-TLP bytes and the SKP ordered sets.
 */
export function pcieTlpBandwidthGBps(
  p: Pick<PcieParams, 'generation' | 'lanes' | 'mpsBytes' | 'ackIntervalBytes' | 'flowControlUpdateIntervalBytes'>,
): number {
  const raw = pcieRawBandwidthGBps(p.generation, p.lanes);
  const skp = PCIE_SKP_BYTES / PCIE_SKP_INTERVAL_BYTES;
  if (isFlit(p.generation)) return raw * (1 - skp) * (PCIE_FLIT_USEFUL_BYTES / PCIE_FLIT_BYTES);
  const interval = PCIE_DLLP_INTERVAL_BYTES[p.lanes][p.mpsBytes];
  const ack = PCIE_DLLP_BYTES / (p.ackIntervalBytes ?? interval);
  const updateFc = PCIE_DLLP_BYTES / (p.flowControlUpdateIntervalBytes ?? interval);
  return raw * (1 - ack - updateFc - skp);
}

/** Bytes added to every TLP besides its header: ECRC, and outside FLIT mode sequence + LCRC + framing. */
function perTlpBytes(p: Pick<PcieParams, 'generation' | 'ecrc'>): number {
  return (p.ecrc ? PCIE_ECRC_BYTES : 0) + (isFlit(p.generation) ? 0 : PCIE_TLP_LINK_OVERHEAD_BYTES);
}

function headerBytes(kind: PcieTransactionKind): number {
  switch (kind) {
    case 'write':
    case 'readRequest':
      return PCIE_MEM_REQUEST_HEADER_BYTES;
    case 'completion':
      return PCIE_COMPLETION_HEADER_BYTES;
    case 'message':
      return PCIE_MESSAGE_HEADER_BYTES;
  }
}

/** Number of TLPs that move `bytes` of data as `kind`. */
export function pcieTlpCount(p: PcieParams, kind: PcieTransactionKind, bytes: number): number {
  switch (kind) {
    case 'write':
      return Math.ceil(bytes / p.mpsBytes);
    case 'readRequest':
      return Math.ceil(bytes / p.mrrsBytes);
    case 'completion':
      return Math.ceil(bytes / pcieCompletionBytes(p));
    case 'message':
      return 1;
  }
}

/** Payload rounded up to whole doublewords (TLP payloads are DW-granular). */
function dwBytes(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

/**
 * Bytes one operation of `kind` that moves `payloadBytes` puts on its direction (for
 * 'readRequest', the bytes requested: the requests carry no data): headers, ECRC,
 * sequence/LCRC/framing and data. The DLLPs and SKP ordered sets are not here: they are
 * deducted from the direction's bandwidth (pcieTlpBandwidthGBps).
 */
export function pcieWireBytes(p: PcieParams, kind: PcieTransactionKind, payloadBytes: number): number {
  const tlps = pcieTlpCount(p, kind, payloadBytes);
  const data = kind === 'readRequest' ? 0 : dwBytes(payloadBytes);
  return tlps * (headerBytes(kind) + perTlpBytes(p)) + data;
}

/**
 * Sustained throughput in GB/s of back-to-back transfers of `transferBytes` each, ignoring
 * latency (enough requests outstanding), by pcie-model's method (mem_bw.write and read): a
 * write is bounded by its own direction, a read by the slower of the completions' and the
 * requests' directions.
 */
export function pcieEffectiveBandwidthGBps(p: PcieParams, op: 'write' | 'read', transferBytes: number): number {
  const usable = pcieTlpBandwidthGBps(p);
  if (op === 'write') return (transferBytes * usable) / pcieWireBytes(p, 'write', transferBytes);
  const requests = pcieWireBytes(p, 'readRequest', transferBytes);
  const completions = pcieWireBytes(p, 'completion', transferBytes);
  return (transferBytes * usable) / Math.max(requests, completions);
}

export class PcieLink implements Link {
  readonly name: string;
  readonly stats: LinkStats = emptyLinkStats();
  readonly rawBandwidthGBps: number;
  /** Each direction's usable TLP bandwidth: the servers' rate. */
  readonly tlpBandwidthGBps: number;
  readonly latencyPs: Ps;
  sentPs: Ps = 0;
  /** One server per direction, indexed by Direction. */
  readonly servers: readonly [BandwidthServer, BandwidthServer];
  private readonly duplex: Duplex;

  // The configuration's numbers the send path reads, held as own fields (not looked up in
  // the parsed config object on every packet).
  private readonly mpsBytes: number;
  private readonly mrrsBytes: number;
  private readonly completionBytes: number;
  private readonly perTlpBytes: number;

  constructor(config: PcieLinkConfig) {
    this.mpsBytes = config.mpsBytes;
    this.mrrsBytes = config.mrrsBytes;
    this.completionBytes = pcieCompletionBytes(config);
    this.perTlpBytes = perTlpBytes(config);
    this.rawBandwidthGBps = pcieRawBandwidthGBps(config.generation, config.lanes);
    this.tlpBandwidthGBps = pcieTlpBandwidthGBps(config);
    this.latencyPs = nsToPs(config.latencyNs);
    this.duplex = new Duplex(this.tlpBandwidthGBps);
    this.servers = this.duplex.servers;
    this.name = `pcie-gen${config.generation}-x${config.lanes}`;
  }

  requestsFor(bytes: number): number {
    return Math.ceil(bytes / this.mrrsBytes);
  }

  readRequest(t: Ps, dir: Direction, bytes: number): Ps {
    if (bytes <= 0) return t;
    return this.send(t, dir, Math.ceil(bytes / this.mrrsBytes), PCIE_MEM_REQUEST_HEADER_BYTES, 0, 0);
  }

  readCompletion(t: Ps, dir: Direction, bytes: number): Ps {
    if (bytes <= 0) return t;
    const tlps = Math.ceil(bytes / this.completionBytes);
    return this.send(t, dir, tlps, PCIE_COMPLETION_HEADER_BYTES, dwBytes(bytes), bytes);
  }

  write(t: Ps, dir: Direction, bytes: number): Ps {
    if (bytes <= 0) return t;
    return this.send(t, dir, Math.ceil(bytes / this.mpsBytes), PCIE_MEM_REQUEST_HEADER_BYTES, dwBytes(bytes), bytes);
  }

  message(t: Ps, dir: Direction, bytes: number): Ps {
    const payload = bytes > 0 ? bytes : 0;
    return this.send(t, dir, 1, PCIE_MESSAGE_HEADER_BYTES, dwBytes(payload), payload);
  }

  private send(t: Ps, dir: Direction, tlps: number, header: number, wirePayload: number, payload: number): Ps {
    const wire = tlps * (header + this.perTlpBytes) + wirePayload;
    this.sentPs = this.duplex.send(this.stats, t, dir, tlps, wire, payload);
    return this.sentPs + this.latencyPs;
  }
}
