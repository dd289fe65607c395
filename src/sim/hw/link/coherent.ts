/**
 * A cache-coherent CPU-device link: OpenCAPI (CAPI), CXL.mem/CXL.cache, NVLink-C2C.
 *
 * Everything moves in cache lines. A read of S bytes is ceil(S / line) request packets one
 * way and as many data packets (a line plus its header) the other way; a write is as many
 * data packets, answered by as many header-only completions on the opposite direction. A
 * part-line access still moves a whole line: that is the cost of coherence granularity,
 * and the reason small random accesses waste bandwidth on these links.
 *
 * Each direction is a bandwidth server at the raw per-direction rate; packet overheads are
 * wire bytes, so the effective rate is bandwidth x line / (line + dataHeaderBytes).
 *
 * Simplifications: no snoop or back-invalidate traffic (the mm layer decides when coherence
 * actions happen and can send them as messages); no credit stalls; completions of writes
 * are background traffic on the opposite direction (see duplex.ts), like PCIe DLLPs.
 */
import { z } from 'zod';
import { num, obj, oneOf } from '../../schema/fields.js';
import { nsToPs, type Ps } from '../../engine/time.js';
import type { BandwidthServer } from '../bandwidth-server.js';
import { Duplex } from './duplex.js';
import { emptyLinkStats, opposite, type Direction, type Link, type LinkStats } from './types.js';

export const coherentLinkSchema = obj(
  {
    impl: z.literal('coherent').describe('A cache-coherent link that moves cache lines (OpenCAPI, CXL, NVLink-C2C).'),
    protocol: oneOf(
      ['opencapi', 'cxl', 'nvlink-c2c'],
      'a coherent link protocol',
      'Which protocol the numbers describe; it labels results and does not change the model. Defaults are CXL 2.0 over a PCIe 5.0 x16 PHY. Typical figures for the others: OpenCAPI 3.0, 8 lanes x 25 Gb/s = 25 GB/s per direction (IBM POWER9); NVLink-C2C, 10 links x 9 signals x 40 Gb/s = 450 GB/s per direction, 900 GB/s both ways (NVIDIA Grace Hopper, Hot Chips 34).',
    ).default('cxl'),
    bandwidthGBps: num(
      'Raw bandwidth per direction in GB/s, before packet overheads. Default 63: a PCIe 5.0 x16 PHY as CXL 2.0 uses it, 32 GT/s x 16 lanes x 128/130 / 8 = 63.0 GB/s (CXL 2.0 specification). OpenCAPI 3.0 x8: 25; NVLink-C2C: 450.',
      { gt: 0, max: 100000 },
    ).default(63),
    latencyNs: num(
      'One-way latency in ns (port, PHY, controller) from the last byte sent to its arrival. Default 100 ns: two crossings plus a device memory access then put a load at about 250-300 ns, the 2-5x of local DRAM latency measured on CXL memory expanders (Liu et al., "Exploring and Evaluating Real-world CXL", arXiv 2405.14209, 2024). An approximation; measure your part.',
      { min: 0, max: 1e6 },
    ).default(100),
    lineBytes: oneOf(
      [64, 128],
      'a cache-line size',
      'Cache-line size in bytes: the unit of every transfer. 64 for CXL and OpenCAPI hosts on x86; 128 on POWER9 (OpenCAPI) and for NVIDIA GPU caches.',
    ).default(64),
    dataHeaderBytes: num(
      'Wire bytes per line of data beyond the line itself. Default 16, from the CXL 2.0 68-byte flit (2 B protocol ID + 4 x 16 B slots + 2 B CRC): a 64 B line fills the four slots of one flit (4 B of flit overhead) and its response header takes most of a 16 B header slot that it shares with other headers. An approximation of flit packing.',
      { min: 0, max: 4096 },
    ).default(16),
    requestBytes: num(
      'Wire bytes of a header-only packet: a read request, a write completion, a control message before its payload. Default 16: one 16 B CXL slot (an M2S request message is about 11 B) with its share of flit overhead, rounded.',
      { gt: 0, max: 4096 },
    ).default(16),
  },
  'A cache-coherent link (CAPI/OpenCAPI, CXL, NVLink-C2C style): cache-line transfers. Defaults: CXL 2.0 over PCIe 5.0 x16.',
);
export type CoherentLinkConfig = z.infer<typeof coherentLinkSchema>;

export type CoherentTransactionKind = 'write' | 'readRequest' | 'completion' | 'message';

/** Wire bytes in the direction of the transaction for moving `bytes` as `kind`. */
export function coherentWireBytes(
  c: Omit<CoherentLinkConfig, 'impl' | 'protocol'>,
  kind: CoherentTransactionKind,
  bytes: number,
): number {
  const lines = Math.ceil(bytes / c.lineBytes);
  switch (kind) {
    case 'readRequest':
      return lines * c.requestBytes;
    case 'completion':
    case 'write':
      return lines * (c.lineBytes + c.dataHeaderBytes);
    case 'message':
      return c.requestBytes + Math.max(0, bytes);
  }
}

/** Sustained data rate per direction, GB/s, of line-sized reads or writes (the data direction bounds both). */
export function coherentEffectiveBandwidthGBps(c: Omit<CoherentLinkConfig, 'impl' | 'protocol'>): number {
  return (c.bandwidthGBps * c.lineBytes) / (c.lineBytes + c.dataHeaderBytes);
}

export class CoherentLink implements Link {
  readonly name: string;
  readonly stats: LinkStats = emptyLinkStats();
  readonly latencyPs: Ps;
  sentPs: Ps = 0;
  readonly servers: readonly [BandwidthServer, BandwidthServer];
  private readonly duplex: Duplex;
  private readonly line: number;
  private readonly dataPacketBytes: number;
  private readonly requestBytes: number;

  constructor(config: CoherentLinkConfig) {
    this.name = config.protocol;
    this.latencyPs = nsToPs(config.latencyNs);
    this.duplex = new Duplex(config.bandwidthGBps);
    this.servers = this.duplex.servers;
    this.line = config.lineBytes;
    this.dataPacketBytes = config.lineBytes + config.dataHeaderBytes;
    this.requestBytes = config.requestBytes;
  }

  requestsFor(bytes: number): number {
    return Math.ceil(bytes / this.line);
  }

  readRequest(t: Ps, dir: Direction, bytes: number): Ps {
    if (bytes <= 0) return t;
    const lines = Math.ceil(bytes / this.line);
    return this.send(t, dir, lines, lines * this.requestBytes, 0);
  }

  readCompletion(t: Ps, dir: Direction, bytes: number): Ps {
    if (bytes <= 0) return t;
    const lines = Math.ceil(bytes / this.line);
    return this.send(t, dir, lines, lines * this.dataPacketBytes, bytes);
  }

  write(t: Ps, dir: Direction, bytes: number): Ps {
    if (bytes <= 0) return t;
    const lines = Math.ceil(bytes / this.line);
    const arrival = this.send(t, dir, lines, lines * this.dataPacketBytes, bytes);
    // Each line's write is acknowledged; the acknowledgements trickle back while the data streams.
    const back = opposite(dir);
    const wire = lines * this.requestBytes;
    const server = this.servers[dir];
    this.duplex.background(back, wire, server.lastStartPs, server.nextFreePs);
    this.stats.wireBytes[back] += wire;
    this.stats.packets[back] += lines;
    return arrival;
  }

  message(t: Ps, dir: Direction, bytes: number): Ps {
    const payload = bytes > 0 ? bytes : 0;
    return this.send(t, dir, 1, this.requestBytes + payload, payload);
  }

  private send(t: Ps, dir: Direction, packets: number, wire: number, payload: number): Ps {
    this.sentPs = this.duplex.send(this.stats, t, dir, packets, wire, payload);
    return this.sentPs + this.latencyPs;
  }
}
