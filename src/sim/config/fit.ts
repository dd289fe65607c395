/**
 * What the schema cannot see field by field: whether the workload's plan fits the
 * machine. Building a plan is cheap (streams are made lazily), so validation builds it
 * and answers here what `simulate` would otherwise discover mid-run.
 */
import { listText } from '../schema/fields.js';
import { formatBytes } from '../schema/units.js';
import type { Experiment } from './experiment.js';
import type { ConfigIssue } from './validate.js';
import { footprintNote, planFootprint } from '../workload/footprint.js';
import { buildWorkload } from '../workload/index.js';
import { adviceDevices, type Advice } from '../workload/advice.js';
import type { TraceSource } from '../workload/types.js';

/** Planning a trace workload reads nothing; its file is opened only when the run starts. */
const UNREAD_TRACE: TraceSource = { name: 'trace', readChunk: () => null };

export function fitProblems(experiment: Experiment): ConfigIssue[] {
  const hw = experiment.hardware;
  if (experiment.strategy.impl === 'ats-sva' && (hw.iommu.mode !== 'translate' || !hw.iommu.ats.enabled)) {
    return [
      {
        path: 'hardware.iommu',
        message: `the ats-sva strategy translates through the IOMMU with ATS; set hardware.iommu.mode to "translate" and hardware.iommu.ats.enabled to true (mode is "${hw.iommu.mode}", ATS ${hw.iommu.ats.enabled ? 'on' : 'off'}), e.g. with the preset "accel-pcie5-ats"`,
      },
    ];
  }
  if (experiment.strategy.impl === 'coherent') {
    const problems = coherentLinkProblems(experiment);
    if (problems.length > 0) return problems;
  }
  const devices = adviceDeviceProblems(experiment);
  if (devices.length > 0) return devices;
  let footprint = 0;
  let note = '';
  try {
    const plan = buildWorkload(experiment.workload, {
      seed: experiment.seed,
      cpuContexts: hw.cpu.cores,
      deviceContexts: hw.devices.reduce((sum, d) => sum + d.computeUnits * d.contextsPerUnit, 0),
      traceSource: UNREAD_TRACE,
    });
    footprint = planFootprint(plan);
    note = footprintNote(plan);
    const unknown = regionNamesProblem(
      experiment,
      plan.regions.map((r) => r.name),
    );
    if (unknown) return [unknown];
  } catch (e) {
    return [{ path: 'workload', message: (e as Error).message }];
  }
  const capacity = hw.cpu.memory.capacityBytes;
  if (footprint <= capacity) return [];
  return [
    {
      path: 'workload',
      message: `the workload maps ${formatBytes(footprint)}${note}, more than the host's memory (hardware.cpu.memory.capacityBytes = ${formatBytes(capacity)}); shrink the workload or raise the capacity`,
    },
  ];
}

/** Device-coherent memory needs a coherent link on every path between the CPU and a device. */
function coherentLinkProblems(experiment: Experiment): ConfigIssue[] {
  const hw = experiment.hardware;
  const issues: ConfigIssue[] = [];
  const why =
    "the coherent strategy puts device memory in the CPU's address space, which needs a cache-coherent link (CXL.mem, OpenCAPI, NVLink-C2C)";
  hw.devices.forEach((dev, i) => {
    const own = dev.link !== undefined;
    const impl = (dev.link ?? hw.link).impl;
    if (impl === 'coherent') return;
    issues.push({
      path: own ? `hardware.devices[${i}].link.impl` : 'hardware.link.impl',
      message: `${why}; ${own ? `device ${i}'s link` : 'the link'} is "${impl}": use "coherent" (e.g. the preset "cxl-coherent"), or a strategy for PCIe such as "hmm-migrate"`,
    });
  });
  const upstream = hw.pcieSwitch?.upstreamLink.impl;
  if (upstream !== undefined && upstream !== 'coherent') {
    issues.push({
      path: 'hardware.pcieSwitch.upstreamLink.impl',
      message: `${why}; the switch's upstream link is "${upstream}": use "coherent", or no switch`,
    });
  }
  return issues;
}

/** Advice names devices by index (gmem's advice list, the scripted advise op): each must be one of hardware.devices. */
function adviceDeviceProblems(experiment: Experiment): ConfigIssue[] {
  const advised: { path: string; advice: Partial<Advice> }[] = [];
  const s = experiment.strategy;
  if (s.impl === 'gmem') s.advice.forEach((advice, i) => advised.push({ path: `strategy.advice[${i}]`, advice }));
  const w = experiment.workload;
  if (w.impl === 'scripted') {
    w.ops.forEach((op, i) => {
      if (op.op === 'advise') advised.push({ path: `workload.ops[${i}]`, advice: op });
    });
  }
  const names = experiment.hardware.devices.map((dev, i) => `${i} is "${dev.name}"`);
  const have = `hardware.devices has ${names.length} (${names.join(', ')})`;
  const issues: ConfigIssue[] = [];
  for (const { path, advice } of advised) {
    for (const { path: field, device } of adviceDevices(advice)) {
      if (device < names.length) continue;
      const at = field.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
      issues.push({ path: `${path}${at}`, message: `there is no device ${device}; ${have}` });
    }
  }
  return issues;
}

/** gmem names regions in its advice and shared list: each must be one of the workload's. */
function regionNamesProblem(experiment: Experiment, names: string[]): ConfigIssue | undefined {
  const s = experiment.strategy;
  if (s.impl !== 'gmem') return undefined;
  const valid = `the workload's regions are ${listText(names.map((n) => `"${n}"`))}`;
  const listed = s.sharedRegions === 'all' ? [] : s.sharedRegions;
  const i = listed.findIndex((n) => !names.includes(n));
  if (i >= 0)
    return {
      path: `strategy.sharedRegions[${i}]`,
      message: `"${listed[i]}" is not a region of the workload; ${valid}`,
    };
  const j = s.advice.findIndex((a) => !names.includes(a.region));
  if (j >= 0)
    return {
      path: `strategy.advice[${j}].region`,
      message: `"${s.advice[j].region}" is not a region of the workload; ${valid}`,
    };
  return undefined;
}
