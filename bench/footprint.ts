/** Child of the benchmark: a 32 GiB footprint in 4 KiB pages; prints peak RSS. */
import { parseExperiment, simulate } from '../src/sim/index.js';
import { loadPresetMap } from '../src/main/services/presets.js';

const exp = parseExperiment(
  {
    name: 'footprint 32 GiB',
    hardware: { preset: 'gpu-pcie4-hbm2', device: { mmu: { pageSizeBytes: '4KiB' } } },
    strategy: { impl: 'hmm-mirror' },
    workload: { impl: 'gather', tableBytes: '32GiB', accesses: 2_000_000, initOnCpu: false },
  },
  loadPresetMap(),
);
const start = process.hrtime.bigint();
const result = simulate(exp);
const s = Number(process.hrtime.bigint() - start) / 1e9;
const peakMiB = process.resourceUsage().maxRSS / 1024;
console.log(
  `footprint 32 GiB in 4 KiB pages (8 Mi pages, hmm-mirror gather of 2M accesses): peak RSS ${peakMiB.toFixed(0)} MiB, ` +
    `${result.metrics['device.page_faults'].value} device faults, ${s.toFixed(2)} s`,
);
