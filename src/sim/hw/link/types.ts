/**
 * The interface every CPU-device link implements (PCIe, coherent links). Directions are
 * named from the host: H2D carries what the host sends to the device, D2H the reverse. A
 * read of device memory by the CPU sends its requests H2D and its data D2H; a DMA read of
 * host memory by the device sends requests D2H and data H2D.
 *
 * A link is two independent FCFS bandwidth servers (full duplex). Each method serialises
 * its packets on one direction, charges any link-level acknowledgements to the other, and
 * returns when the last byte arrives at the far end: serialisation end + one-way latency.
 */
import type { Ps } from '../../engine/time.js';
import type { BandwidthServer } from '../bandwidth-server.js';

export const H2D = 0;
export const D2H = 1;
export type Direction = 0 | 1;

export function opposite(dir: Direction): Direction {
  return dir === H2D ? D2H : H2D;
}

/** Per-direction counters, indexed by Direction. */
export interface LinkStats {
  /** Bytes of data the callers asked to move (read data, write data, message payloads). */
  payloadBytes: [number, number];
  /** Bytes on the wire: payload plus headers, framing, link-level packets (ACK/UpdateFC DLLPs, write completions). May be fractional: SKP ordered sets and flit overhead are charged pro rata. */
  wireBytes: [number, number];
  /** Transaction-layer packets (TLPs, flits' messages, cache-line packets) sent. */
  packets: [number, number];
  /** Time each direction spent serialising reservations (link-level background traffic counts only where it delayed one). */
  busyPs: [number, number];
}

export function emptyLinkStats(): LinkStats {
  return { payloadBytes: [0, 0], wireBytes: [0, 0], packets: [0, 0], busyPs: [0, 0] };
}

export interface Link {
  readonly name: string;
  readonly stats: LinkStats;
  /** The bandwidth servers the link's traffic occupies (for the machine to attach its clock). */
  readonly servers: readonly BandwidthServer[];
  /** When the last byte of the most recent call left the sender: a posted write's sender is free from then on. */
  readonly sentPs: Ps;
  /** Non-posted requests a read of `bytes` is split into (each holds one of the requester's tags until its data arrives). */
  requestsFor(bytes: number): number;
  /** Read requests for `bytes` of data, sent in `dir` (towards the memory that holds the data); returns arrival time of the last request at the far end. */
  readRequest(t: Ps, dir: Direction, bytes: number): Ps;
  /** The data of that read coming back in `dir`; returns arrival of the last byte. */
  readCompletion(t: Ps, dir: Direction, bytes: number): Ps;
  /** Posted write of `bytes` in `dir`; returns arrival of the last byte. */
  write(t: Ps, dir: Direction, bytes: number): Ps;
  /** A small control message (MSI interrupt, ATS translation request/completion, invalidation, page request) with `bytes` of payload; returns arrival. */
  message(t: Ps, dir: Direction, bytes: number): Ps;
}
