/**
 * The hardware section of an experiment. The tree mirrors the machine: one key per
 * component; a component with several implementations picks one with `impl`. Component
 * schemas live beside their models (src/sim/hw, src/sim/mm); this file composes them.
 *
 * Devices: `devices` is a list; `device` is shorthand for a list of one, so every
 * experiment written for one device runs unchanged. The parsed form always has `devices`.
 */
import { z } from 'zod';
import { bool, num, obj } from '../schema/fields.js';
import { cpuSchema } from '../hw/cpu.js';
import { deviceSchema, type DeviceConfig } from '../hw/device.js';
import { linkSchema } from '../hw/link/index.js';
import { iommuSchema } from '../hw/iommu.js';
import { driverSchema } from '../mm/driver-schema.js';

/** Metric prefixes of the whole machine: a device may not take one as its name. */
const RESERVED_NAMES = ['sim', 'cpu', 'device', 'link', 'iommu', 'mm', 'copy', 'dram', 'workload', 'switch', 'p2p'];
export const MAX_DEVICES = 15;

export const pcieSwitchSchema = obj(
  {
    upstreamLink: linkSchema
      .prefault({ impl: 'pcie' })
      .describe('The link from the switch up to the host root port, shared by every device below the switch.'),
    latencyNs: num(
      'Port-to-port forwarding latency of the switch (cut-through), in ns, added to each crossing. Assumption: about 100 ns, the order PCIe switch vendors quote for cut-through forwarding.',
      { min: 0, max: 1e6 },
    ).default(100),
    acsRedirect: bool(
      "ACS P2P Request Redirect on the switch's downstream ports: a peer-to-peer request goes up to the root complex (through the IOMMU, over the shared upstream link twice) instead of across the switch. Linux turns ACS on when an IOMMU isolates devices (pci_enable_acs); GPU servers turn redirection off for peer-to-peer. Default false: the switch routes peer traffic itself.",
    ).default(false),
  },
  'A PCIe switch: every device sits on a downstream port, and their traffic to the host shares the upstream link. Without it, each device has a root port of its own.',
);

export const peerToPeerSchema = obj(
  {
    hostBridge: bool(
      "Whether the root complex forwards peer-to-peer requests between its root ports. Linux maps a peer's memory through a host bridge only if the bridge is known to do it (drivers/pci/p2pdma.c: cpu_supports_p2pdma for AMD Zen and later, pci_p2pdma_whitelist for some Intel Xeon root ports); otherwise devices on different root ports cannot reach each other's memory (p2p.map fails with EREMOTEIO, as dma_map_sgtable does) and strategies bounce the data through system memory. Default true (AMD Zen).",
    ).default(true),
    hostBridgeForwardNs: num(
      'Latency the root complex adds to a peer-to-peer request it forwards from one root port to another, in ns, besides the IOMMU translation (it receives the request whole, translates it, then sends it on). Assumption: 150 ns, a little more than a switch port-to-port crossing (HighPoint puts what a switch saves against the CPU hop at about 115 ns).',
      { min: 0, max: 1e6 },
    ).default(150),
  },
  "Peer-to-peer between devices: one device reading and writing pages that live in another's memory, across their PCIe switch or through the root complex (see docs/model.md, Peer-to-peer).",
);

export const hardwareSchema = obj(
  {
    preset: z
      .string()
      .optional()
      .describe(
        "Start from this hardware preset (`hetmem presets` lists them); the other keys here override its values. Each entry of `devices` starts from the preset's device.",
      ),
    cpu: cpuSchema,
    link: linkSchema
      .prefault({ impl: 'pcie' })
      .describe('The link between the host and each device, unless a device names its own (devices[i].link).'),
    iommu: iommuSchema.prefault({}),
    device: deviceSchema
      .optional()
      .describe('The accelerator, when there is one: shorthand for "devices": [ ... ] with one entry.'),
    devices: z
      .array(deviceSchema)
      .min(1, 'list at least one device')
      .max(MAX_DEVICES, `at most ${MAX_DEVICES} devices`)
      .optional()
      .describe('The accelerators, each with its own MMU, TLBs, fault buffer, copy engines, memory and link.'),
    pcieSwitch: pcieSwitchSchema
      .optional()
      .describe('Put every device under one PCIe switch (shared upstream link); default: each on its own root port.'),
    peerToPeer: peerToPeerSchema.prefault({}),
    driver: driverSchema,
  },
  'The machine: CPU, link, IOMMU, devices and driver.',
)
  .superRefine((hw, ctx) => {
    if (hw.device !== undefined && hw.devices !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['devices'], message: 'give "device" or "devices", not both' });
    }
    const devices = hw.devices ?? [];
    const seen = new Set<string>();
    devices.forEach((d, i) => {
      if (RESERVED_NAMES.includes(d.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'name'],
          message: `"${d.name}" names a metric group; use another name, e.g. "gpu${i}"`,
        });
      } else if (seen.has(d.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'name'],
          message: `"${d.name}" is already the name of another device; give each device its own name, e.g. "gpu${i}"`,
        });
      }
      seen.add(d.name);
    });
  })
  .transform(({ device, devices, ...rest }) => ({
    ...rest,
    devices: devices ?? [device ?? deviceSchema.parse({})],
  }));

export type HardwareConfig = z.output<typeof hardwareSchema>;
export type { DeviceConfig };
