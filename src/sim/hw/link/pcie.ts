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
 * - ACK and UpdateFC DLLPs (8 B each), sent by the receiver on the opposite direction, one
 *   per `ackCoalescing` / `flowControlUpdateTlps` TLPs received, as background traffic
 *   spread over the TLPs' serialisation (see duplex.ts);
 * - SKP ordered sets, about 4 B per 1538 B, charged pro rata;
 * - gen6 FLIT mode: TLPs are packed into 256-byte flits of which 242 bytes are useful
 *   (an approximation); there is no per-TLP sequence/LCRC/framing, and ACK and flow-control
 *   information rides in each flit's data-link bytes, so no separate DLLPs are charged.
 *
 * Splitting: a write of S bytes is ceil(S / MPS) TLPs; a read sends ceil(S / MRRS) requests
 * and receives ceil(S / C) completions, C = readCompletionBytes (at most MPS).
 *
 * Simplifications: transfers are taken as aligned to MPS/MRRS/RCB; flow-control credits never
 * run out (UpdateFCs cost bandwidth but never stall); no replays (no bit errors).
 */
import { z } from 'zod';
import { bool, num, obj, oneOf, size } from '../../schema/fields.js';
import { formatBytes } from '../../schema/units.js';
import { nsToPs, type Ps } from '../../engine/time.js';
import type { BandwidthServer } from '../bandwidth-server.js';
import { Duplex } from './duplex.js';
import { emptyLinkStats, opposite, type Direction, type Link, type LinkStats } from './types.js';

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
    readCompletionBytes: payloadSize(
      64,
      64,
      'Size of the completions that carry read data (at most mpsBytes). A completer may split a read at every Read Completion Boundary (RCB, 64 or 128 B) or send up to MPS; host root complexes commonly return 64-byte, cache-line completions, which pcie-model calls rcb_chunks (Neugebauer et al., SIGCOMM 2018). Use mpsBytes for a completer that fills completions.',
    ),
    ecrc: bool(
      'End-to-end CRC: adds a 4-byte digest to every TLP (PCIe Base Spec, TLP Digest). Default off, as on most systems.',
    ).default(false),
    latencyNs: num(
      'One-way latency in ns from the last byte leaving the sender to its arrival at the far end (PHY, retimers, root complex, switch hops). Default 200 ns: with a host memory access, a 64-byte DMA read then takes about 500 ns round trip, the several hundred ns that pcie-bench measures (Neugebauer et al., SIGCOMM 2018).',
      { min: 0, max: 1e6 },
    ).default(200),
    ackCoalescing: num(
      'TLPs acknowledged by one ACK DLLP (8 B on the opposite direction). The spec bounds the ACK delay per MPS and width (PCIe Base Spec 5.0 Tables 3-7 to 3-9, as tabulated in pcie-model); for gen3-5 x16 and MPS 256 the limit is 168 symbol times, about 2.7 KB or 9 TLPs, so 4 is conservative.',
      { int: true, min: 1, max: 256 },
    ).default(4),
    flowControlUpdateTlps: num(
      'TLPs received per UpdateFC DLLP (8 B on the opposite direction) returning their credits. PCIe Base Spec 5.0 Tables 2-46 to 2-48 give UpdateFC latency guidelines comparable to the ACK limits; 4 is conservative.',
      { int: true, min: 1, max: 256 },
    ).default(4),
  },
  'A PCIe link. Effective bandwidth is not a parameter: it follows from line rate, encoding, TLP and DLLP overheads (pcie-bench/pcie-model, Neugebauer et al., SIGCOMM 2018).',
).superRefine((v, ctx) => {
  if (v.readCompletionBytes > v.mpsBytes) {
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
  | 'ackCoalescing'
  | 'flowControlUpdateTlps'
>;

export type PcieTransactionKind = 'write' | 'readRequest' | 'completion' | 'message';

/** Raw per-direction bandwidth after line encoding: lanes x GT/s x efficiency / 8, in GB/s. */
export function pcieRawBandwidthGBps(generation: number, lanes: number): number {
  const gen = PCIE_GENERATIONS[generation as keyof typeof PCIE_GENERATIONS];
  if (!gen) throw new RangeError(`${generation} is not a PCIe generation`);
  return (gen.gtPerLane * lanes * PCIE_ENCODING_EFFICIENCY[gen.encoding]) / 8;
}

/** Framing constants of a configuration, computed once. */
interface Framing {
  /** Bytes added to every TLP besides its header: ECRC, and outside FLIT mode sequence + LCRC + framing. */
  perTlpBytes: number;
  /** Multiplier from transaction-layer bytes to wire bytes: SKP ordered sets, and flit overhead in FLIT mode. */
  wireFactor: number;
  /** Bytes of one ACK or UpdateFC DLLP; 0 in FLIT mode, where they ride in the flit. */
  dllpBytes: number;
}

function framingOf(p: Pick<PcieParams, 'generation' | 'ecrc'>): Framing {
  const flit = PCIE_GENERATIONS[p.generation].encoding === 'flit';
  const skp = 1 + PCIE_SKP_BYTES / PCIE_SKP_INTERVAL_BYTES;
  return {
    perTlpBytes: (p.ecrc ? PCIE_ECRC_BYTES : 0) + (flit ? 0 : PCIE_TLP_LINK_OVERHEAD_BYTES),
    wireFactor: flit ? (skp * PCIE_FLIT_BYTES) / PCIE_FLIT_USEFUL_BYTES : skp,
    dllpBytes: flit ? 0 : PCIE_DLLP_BYTES,
  };
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
      return Math.ceil(bytes / Math.min(p.readCompletionBytes, p.mpsBytes));
    case 'message':
      return 1;
  }
}

/** Payload rounded up to whole doublewords (TLP payloads are DW-granular). */
function dwBytes(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

/**
 * Bytes on the wire, in the direction of the transaction, for one operation of `kind` that
 * moves `payloadBytes` (for 'readRequest', the bytes requested: the requests carry no data).
 * Includes headers, ECRC, sequence/LCRC/framing, the SKP share and flit overhead; excludes
 * the ACK/UpdateFC DLLPs the receiver returns on the other direction.
 */
export function pcieWireBytes(p: PcieParams, kind: PcieTransactionKind, payloadBytes: number): number {
  const f = framingOf(p);
  const tlps = pcieTlpCount(p, kind, payloadBytes);
  const data = kind === 'readRequest' ? 0 : dwBytes(payloadBytes);
  return (tlps * (headerBytes(kind) + f.perTlpBytes) + data) * f.wireFactor;
}

/** Steady-state wire bytes of the ACK and UpdateFC DLLPs returned for `tlps` received TLPs. */
function dllpWireBytes(p: PcieParams, f: Framing, tlps: number): number {
  return (tlps / p.ackCoalescing + tlps / p.flowControlUpdateTlps) * f.dllpBytes * f.wireFactor;
}

/**
 * Sustained throughput in GB/s of back-to-back transfers of `transferBytes` each, ignoring
 * latency (enough requests outstanding). A write is bounded by its own direction. A read is
 * bounded by the slower of its two directions: the completions with data plus the DLLPs for
 * the requests, or the requests plus the DLLPs for the completions.
 */
export function pcieEffectiveBandwidthGBps(p: PcieParams, op: 'write' | 'read', transferBytes: number): number {
  const raw = pcieRawBandwidthGBps(p.generation, p.lanes);
  const f = framingOf(p);
  if (op === 'write') return (transferBytes * raw) / pcieWireBytes(p, 'write', transferBytes);
  const requests = pcieTlpCount(p, 'readRequest', transferBytes);
  const completions = pcieTlpCount(p, 'completion', transferBytes);
  const requestDirection = pcieWireBytes(p, 'readRequest', transferBytes) + dllpWireBytes(p, f, completions);
  const dataDirection = pcieWireBytes(p, 'completion', transferBytes) + dllpWireBytes(p, f, requests);
  return (transferBytes * raw) / Math.max(requestDirection, dataDirection);
}

export class PcieLink implements Link {
  readonly name: string;
  readonly stats: LinkStats = emptyLinkStats();
  readonly rawBandwidthGBps: number;
  readonly latencyPs: Ps;
  /** One server per direction, indexed by Direction. */
  readonly servers: readonly [BandwidthServer, BandwidthServer];
  private readonly duplex: Duplex;

  // The configuration's numbers the send path reads, held as own fields (not looked up in
  // the parsed config object on every packet).
  private readonly mpsBytes: number;
  private readonly mrrsBytes: number;
  private readonly completionBytes: number;
  private readonly ackCoalescing: number;
  private readonly flowControlUpdateTlps: number;
  private readonly perTlpBytes: number;
  private readonly wireFactor: number;
  private readonly dllpBytes: number;
  /** Per direction: TLPs received that no ACK / UpdateFC has covered yet. */
  private readonly unacked = new Float64Array(2);
  private readonly unreported = new Float64Array(2);

  constructor(config: PcieLinkConfig) {
    const framing = framingOf(config);
    this.mpsBytes = config.mpsBytes;
    this.mrrsBytes = config.mrrsBytes;
    this.completionBytes = Math.min(config.readCompletionBytes, config.mpsBytes);
    this.ackCoalescing = config.ackCoalescing;
    this.flowControlUpdateTlps = config.flowControlUpdateTlps;
    this.perTlpBytes = framing.perTlpBytes;
    this.wireFactor = framing.wireFactor;
    this.dllpBytes = framing.dllpBytes;
    this.rawBandwidthGBps = pcieRawBandwidthGBps(config.generation, config.lanes);
    this.latencyPs = nsToPs(config.latencyNs);
    this.duplex = new Duplex(this.rawBandwidthGBps);
    this.servers = this.duplex.servers;
    this.name = `pcie-gen${config.generation}-x${config.lanes}`;
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
    const wire = (tlps * (header + this.perTlpBytes) + wirePayload) * this.wireFactor;
    const end = this.duplex.send(this.stats, t, dir, tlps, wire, payload);
    if (this.dllpBytes > 0) this.returnDllps(this.servers[dir].lastStartPs, end, dir, tlps);
    return end + this.latencyPs;
  }

  /** The receiver of `tlps` TLPs sent in `dir` over [from, until) answers with ACK and UpdateFC DLLPs on the other direction. */
  private returnDllps(from: Ps, until: Ps, dir: Direction, tlps: number): void {
    const acked = this.unacked[dir] + tlps;
    const reported = this.unreported[dir] + tlps;
    const acks = Math.floor(acked / this.ackCoalescing);
    const updates = Math.floor(reported / this.flowControlUpdateTlps);
    this.unacked[dir] = acked - acks * this.ackCoalescing;
    this.unreported[dir] = reported - updates * this.flowControlUpdateTlps;
    const dllps = acks + updates;
    if (dllps === 0) return;
    const back = opposite(dir);
    const wire = dllps * this.dllpBytes * this.wireFactor;
    this.duplex.background(back, wire, from, until);
    this.stats.wireBytes[back] += wire;
  }
}
