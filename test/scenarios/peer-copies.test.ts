/**
 * explicit-copy's peerCopies (issue 7): with several devices, each input crosses from host
 * memory to the first device once and goes on device to device (cudaMemcpyPeer), instead of
 * every device copying every input from host memory. It pays where a shared PCIe switch
 * uplink is the bottleneck; it costs where each device has its own link to the host; without
 * a peer route it falls back to host copies and says so in copy.no_peer_route_h2d_bytes.
 * Directions and ratios, not exact numbers.
 */
import { describe, expect, it } from 'vitest';
import { parseExperiment, simulate, type RunResult } from '../../src/sim/index.js';
import { presets } from '../sim/presets.js';

type Topology = 'switch' | 'switch-x8' | 'switch-acs' | 'root-ports' | 'no-route';

const MiB = 2 ** 20;
/** The triad's two inputs, b and c, of 16 MiB each. */
const INPUT_BYTES = 2 * 16 * MiB;

function run(topology: Topology, peerCopies: boolean, devices = 2): RunResult {
  const underSwitch = topology.startsWith('switch');
  return simulate(
    parseExperiment(
      {
        name: `peer copies, ${topology}`,
        hardware: {
          preset: 'gpu-pcie4-hbm2',
          devices: Array.from({ length: devices }, () => ({})),
          ...(underSwitch
            ? {
                pcieSwitch: {
                  upstreamLink: { impl: 'pcie', generation: 4, lanes: topology === 'switch-x8' ? 8 : 16 },
                  acsRedirect: topology === 'switch-acs',
                },
              }
            : {}),
          ...(topology === 'no-route' ? { peerToPeer: { hostBridge: false } } : {}),
        },
        strategy: { impl: 'explicit-copy', peerCopies },
        workload: { impl: 'stream', arrayBytes: '16MiB', iterations: 1, initOnCpu: true, readBackOnCpu: false },
      },
      presets,
    ),
  );
}

const metric = (r: RunResult, name: string) => r.metrics[name]?.value;
/** The triad's phase: its input copies, then the kernel. */
const triad = (r: RunResult) => r.ops.find((o) => o.op.startsWith('triad'))!.durationNs;

describe('explicit copies between devices (peerCopies)', () => {
  it('each input crosses the shared uplink once, and reaches the other device peer to peer', () => {
    const host = run('switch', false);
    const peer = run('switch', true);
    expect(metric(host, 'switch.upstream_h2d_bytes')).toBeGreaterThan(2 * INPUT_BYTES);
    expect(metric(peer, 'switch.upstream_h2d_bytes')).toBeLessThan(1.01 * INPUT_BYTES);
    expect(metric(peer, 'copy.h2d_bytes')).toBe(INPUT_BYTES);
    expect(metric(peer, 'gpu0.copy.peer_bytes')).toBe(INPUT_BYTES);
    expect(metric(peer, 'gpu0.p2p.bytes')).toBe(INPUT_BYTES);
    expect(metric(peer, 'gpu1.copy.h2d_bytes')).toBe(0);
    expect(metric(peer, 'copy.no_peer_route_h2d_bytes')).toBe(0);
    // A peer copy moves at the device links' rate (Gen4 x16, about 26 GB/s).
    expect(metric(peer, 'copy.peer_GBps')).toBeGreaterThan(0.9 * metric(peer, 'copy.h2d_GBps'));
    // Runs without peer copies keep their metric set.
    expect(metric(host, 'copy.peer_bytes')).toBeUndefined();
  });

  it('beats host copies when the uplink is the bottleneck: narrower than the device links, or shared by four devices', () => {
    // Two devices under an x8 uplink: host copies move 2 inputs x 2 devices at the x8 rate;
    // peer copies 2 inputs at the x8 rate, then 2 at the x16 rate.
    expect(triad(run('switch-x8', true))).toBeLessThan(triad(run('switch-x8', false)) * 0.85);
    // Four devices under an x16 uplink: a broadcast tree (0 to 1, then 0 to 2 and 1 to 3).
    const host4 = run('switch', false, 4);
    const peer4 = run('switch', true, 4);
    expect(triad(peer4)).toBeLessThan(triad(host4) * 0.85);
    expect(metric(peer4, 'gpu0.copy.peer_bytes')).toBe(2 * INPUT_BYTES);
    expect(metric(peer4, 'gpu1.copy.peer_bytes')).toBe(INPUT_BYTES);
    // Two devices under an x16 uplink: as long either way (one input's two copies cross the uplink, or one crosses it and one the switch).
    const ratio = triad(run('switch', true)) / triad(run('switch', false));
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.1);
  });

  it('gains nothing with ACS redirection: the peer copies cross the uplink up and down', () => {
    const host = run('switch-acs', false, 4);
    const peer = run('switch-acs', true, 4);
    // Three peer copies, each up the uplink to the root complex and down again.
    expect(metric(peer, 'switch.upstream_d2h_bytes')).toBe(3 * INPUT_BYTES);
    expect(triad(peer)).toBeGreaterThan(triad(host) * 0.95);
    // Through the root complex the IOMMU translates the peer writes too: four times the pages of the first device's copy in.
    const acrossSwitch = run('switch', true, 4);
    expect(triad(acrossSwitch)).toBeLessThan(triad(peer) * 0.85);
    expect(metric(peer, 'iommu.iotlb_misses')).toBe(4 * metric(acrossSwitch, 'iommu.iotlb_misses'));
  });

  it('costs time when each device has a link of its own to the host', () => {
    // Host copies run over both links at once; a peer copy is a second step after the first.
    expect(triad(run('root-ports', true))).toBeGreaterThan(triad(run('root-ports', false)) * 1.5);
  });

  it('falls back to host copies where the first device cannot reach another, and counts them', () => {
    const host = run('no-route', false);
    const fallback = run('no-route', true);
    expect(metric(fallback, 'copy.no_peer_route_h2d_bytes')).toBe(INPUT_BYTES);
    expect(metric(fallback, 'gpu1.copy.no_peer_route_h2d_bytes')).toBe(INPUT_BYTES);
    expect(metric(fallback, 'copy.peer_bytes')).toBe(0);
    expect(metric(fallback, 'p2p.bytes')).toBe(0);
    expect(metric(fallback, 'copy.h2d_bytes')).toBe(metric(host, 'copy.h2d_bytes'));
    expect(triad(fallback)).toBe(triad(host));
  });

  it('leaves single-device runs and copies back to the host as they were', () => {
    for (const topology of ['switch', 'root-ports'] as const) {
      const host = run(topology, false);
      const peer = run(topology, true);
      expect(metric(peer, 'copy.d2h_bytes')).toBe(metric(host, 'copy.d2h_bytes'));
    }
    const one = (peerCopies: boolean) =>
      simulate(
        parseExperiment(
          {
            name: 'one device',
            hardware: { preset: 'gpu-pcie4-hbm2' },
            strategy: { impl: 'explicit-copy', peerCopies },
            workload: { impl: 'stream', arrayBytes: '16MiB', iterations: 1, initOnCpu: true, readBackOnCpu: true },
          },
          presets,
        ),
      ).metrics;
    expect(one(true)).toEqual(one(false));
  });
});
