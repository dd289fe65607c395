/**
 * A device's path to the host through a PCIe switch: its own downstream link, then the
 * upstream link it shares with the other devices below the switch. The switch forwards
 * cut-through, so a transfer occupies both links over the same interval (each serialises
 * it at its own rate), the upstream one starting after the switch's port-to-port
 * latency, and the transfer arrives when the later of the two delivers it. Queueing on the shared upstream link is what makes
 * devices under one switch slow each other down.
 */
import type { Ps } from '../../engine/time.js';
import type { BandwidthServer } from '../bandwidth-server.js';
import type { Direction, Link, LinkStats } from './types.js';

export class SwitchedLink implements Link {
  readonly name: string;

  constructor(
    readonly downstream: Link,
    readonly upstream: Link,
    private readonly latencyPs: Ps,
  ) {
    this.name = `${downstream.name} via switch`;
  }

  get servers(): readonly BandwidthServer[] {
    return [...this.downstream.servers, ...this.upstream.servers];
  }

  /** The device sends on its own link: its last byte leaves there. */
  get sentPs(): Ps {
    return this.downstream.sentPs;
  }

  requestsFor(bytes: number): number {
    return this.downstream.requestsFor(bytes);
  }

  /** The device's own link's counters (the upstream link keeps its own). */
  get stats(): LinkStats {
    return this.downstream.stats;
  }

  readRequest(t: Ps, dir: Direction, bytes: number): Ps {
    const a = this.downstream.readRequest(t, dir, bytes);
    return Math.max(a + this.latencyPs, this.upstream.readRequest(t + this.latencyPs, dir, bytes));
  }

  readCompletion(t: Ps, dir: Direction, bytes: number): Ps {
    const a = this.downstream.readCompletion(t, dir, bytes);
    return Math.max(a + this.latencyPs, this.upstream.readCompletion(t + this.latencyPs, dir, bytes));
  }

  write(t: Ps, dir: Direction, bytes: number): Ps {
    const a = this.downstream.write(t, dir, bytes);
    return Math.max(a + this.latencyPs, this.upstream.write(t + this.latencyPs, dir, bytes));
  }

  message(t: Ps, dir: Direction, bytes: number): Ps {
    const a = this.downstream.message(t, dir, bytes);
    return Math.max(a + this.latencyPs, this.upstream.message(t + this.latencyPs, dir, bytes));
  }
}
