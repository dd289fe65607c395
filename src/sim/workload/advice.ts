/**
 * Memory advice for a region, in the spirit of hmadvise (GMEM) and cudaMemAdvise: the
 * fields shared by the gmem strategy's `advice` list and the scripted `advise` op.
 * Devices are named by index, as the scripted ops' `device` fields name them (0 is the
 * first of hardware.devices); validation checks the indices against the hardware
 * (config/fit.ts).
 */
import { z } from 'zod';
import { bool, describeInput, num, obj } from '../schema/fields.js';

/** The largest device index: MAX_DEVICES - 1 (config/hardware.ts, which this layer may not import). */
export const LAST_DEVICE = 14;

const deviceIndex = (what: string) =>
  num(`Index of ${what} (0 is the first of hardware.devices).`, { int: true, min: 0, max: LAST_DEVICE });

const PREFERRED_LOCATIONS = '"none", "device", "host" or a device by index such as { "device": 1 }';

const preferredDevice = obj(
  { device: deviceIndex('the device whose memory the pages should live in') },
  'A preferred location on one device, by index (cudaMemAdviseSetPreferredLocation with that device).',
);

/**
 * A union's error: when the input has the shape of its last branch (an object, a list),
 * that branch's own problems, each with where it is; else what is valid.
 */
function unionMessage(iss: { input?: unknown; errors?: unknown }, shape: 'object' | 'list', valid: string): string {
  const all = iss.errors as { path: PropertyKey[]; message: string }[][] | undefined;
  const branch = all?.[all.length - 1];
  const input = iss.input;
  const isObject = input !== null && typeof input === 'object' && !Array.isArray(input);
  const hasShape = shape === 'list' ? Array.isArray(input) : isObject;
  if (!hasShape || branch === undefined || branch.length === 0) return `${describeInput(input)} is not ${valid}`;
  return branch
    .map((b) => {
      const at = b.path.map((k) => (typeof k === 'number' ? `item [${k}]` : String(k))).join('.');
      return at === '' ? b.message : `${at}: ${b.message}`;
    })
    .join('; ');
}

export const adviceFields = {
  preferredLocation: z
    .union([z.literal(['none', 'device', 'host']), preferredDevice], {
      error: (iss) => unionMessage(iss, 'object', `a preferred location; use ${PREFERRED_LOCATIONS}`),
    })
    .describe(
      'Where the pages should live (cudaMemAdviseSetPreferredLocation): "device", the device that faults on them (each device is its own preferred location): they migrate on fault and are evicted last; { "device": k }, device k\'s memory, as the NVIDIA UVM driver does (uvm_va_block.c, block_select_processor_residency): a fault by device k migrates the pages to k (even with accessed-by advice for k), a fault by another device that can reach k\'s memory (strategy.peerToPeer and a route: hardware.pcieSwitch, hardware.peerToPeer) moves them to k and maps them there peer to peer, a device without a route gets them as without advice; read-mostly, accessed-by advice for the faulting device and a block pinned against thrashing come first, in the driver\'s order; their chunks are evicted last on k only; "host" keeps them in system memory and maps them over the link on a device fault instead of migrating them; "none" migrates on fault.',
    ),
  accessedBy: z
    .union([z.boolean(), z.array(deviceIndex('a device that keeps a mapping'))], {
      error: (iss) =>
        unionMessage(
          iss,
          'list',
          'an accessed-by setting; use true (every device), false, or a list of device indices such as [1]',
        ),
    })
    .superRefine((v, ctx) => {
      if (!Array.isArray(v)) return;
      const twice = v.find((x, i) => v.indexOf(x) !== i);
      if (twice !== undefined)
        ctx.addIssue({ code: 'custom', message: `device ${twice} is listed twice; list each device once` });
    })
    .describe(
      "The devices that keep a mapping of these pages wherever they live (cudaMemAdviseSetAccessedBy, once per device): true, every device; a list of device indices, those devices only (e.g. [1]); false, none. A fault by such a device maps the faulting device page where it is, over the link or peer to peer in another device's memory, without migrating it; a page it cannot reach there (no peer route, or strategy.peerToPeer false) comes to the preferred location when that is a device it can reach, else to this device (through system memory), as the NVIDIA UVM driver's block_select_processor_residency falls through; the other devices migrate as without it. Once pages move (another device's fault or prefetch, a CPU fault, an eviction), or another device's fault maps them where they are, each such device that can reach their place maps them there, so it does not fault on them (the NVIDIA UVM driver's uvm_va_block_service_finish, block_service_finish_map_accessed_by). Given by the scripted advise op, each such device maps the pages already resident where they are, if it can reach them (uvm_va_block_set_accessed_by); in the strategy's advice list it applies when the region is created, before any page is resident. Read-mostly advice takes precedence.",
    ),
  readMostly: bool(
    'Read-mostly (cudaMemAdviseSetReadMostly): a device read copies the pages into device memory and keeps the system copy (replication: the CPU page becomes write-protected); a write by either side collapses the copies. Unsetting it drops the device copies.',
  ),
};

export type PreferredLocation = 'none' | 'device' | 'host' | { device: number };

export interface Advice {
  preferredLocation: PreferredLocation;
  /** true: every device; a list: those devices. */
  accessedBy: boolean | number[];
  readMostly: boolean;
}

/** Whether accessed-by advice covers `device`. */
export function accessedByDevice(accessedBy: boolean | readonly number[], device: number): boolean {
  return accessedBy === true || (Array.isArray(accessedBy) && accessedBy.includes(device));
}

/** The device indices an advice names (to check against the hardware), each with the path of its field. */
export function adviceDevices(advice: Partial<Advice>): { path: (string | number)[]; device: number }[] {
  const out: { path: (string | number)[]; device: number }[] = [];
  const pl = advice.preferredLocation;
  if (pl !== undefined && typeof pl === 'object')
    out.push({ path: ['preferredLocation', 'device'], device: pl.device });
  if (Array.isArray(advice.accessedBy))
    advice.accessedBy.forEach((device, i) => out.push({ path: ['accessedBy', i], device }));
  return out;
}
