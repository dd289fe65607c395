/**
 * Public reference figures the model is checked against, each with its source. The
 * validation report (validate-model.ts) prints the model beside them; tests assert the
 * ones the issue tracker made requirements. These are numbers taken from the sources,
 * never computed with the model's own formulas.
 */

/**
 * pcie-model's effective DMA bandwidth in GB/s for PCIe x16 (pcie-bench/pcie-model,
 * Neugebauer et al., SIGCOMM 2018): printed by running its model/mem_bw.py `write` and
 * `read` (rcb_chunks off, 64-bit addresses, no ECRC, MRRS 512, 1 MiB transfers, BW_RAW at
 * the configuration's TLP_bw).
 */
export const PCIE_MODEL_X16: readonly { generation: 3 | 4 | 5; mps: 128 | 256; write: number; read: number }[] = [
  { generation: 3, mps: 128, write: 11.7578, read: 12.0756 },
  { generation: 3, mps: 256, write: 12.9943, read: 13.1826 },
  { generation: 4, mps: 128, write: 23.5157, read: 24.1513 },
  { generation: 4, mps: 256, write: 25.9886, read: 26.3652 },
  { generation: 5, mps: 128, write: 47.0314, read: 48.3025 },
  { generation: 5, mps: 256, write: 51.9772, read: 52.7305 },
];

/**
 * Pinned cudaMemcpy throughput on PCIe Gen3 x16 as a function of the transfer size, as
 * UVMSmart fits it to measurements on a GTX 1080 Ti (Ganguly et al., ISCA 2019,
 * `calculate_transfer_time`): (2 x 12 / pi) x atan(0.07292 x KiB) GB/s.
 */
export function uvmSmartCopyGBps(bytes: number): number {
  return ((2 * 12) / Math.PI) * Math.atan(0.07292 * (bytes / 1024));
}

/** Ranges from measurements, as [low, high], with where they come from. */
export const MEASURED = {
  zeroCopyReadLatencyNs: {
    range: [1000, 2000],
    source: 'GPU loads from pinned host memory over PCIe: about 1-2 us unloaded (zero-copy microbenchmarks)',
  },
  cpuSingleCoreStreamGBps: {
    range: [10, 15],
    source: 'single-core STREAM on current Xeon servers; bounded by L1D fill buffers x 64 B / memory latency',
  },
  faultBatchServiceUs: {
    range: [10, 100],
    source:
      'tens of microseconds per batch: simulation papers assume 20-50 us per far fault, UVMSmart 45 us (Ganguly et al., ISCA 2019), an upper figure for a batch that services its faults together',
  },
  cxlLoadLatencyRatio: {
    range: [2.18, 2.88],
    source:
      "load latency of CXL-attached memory over local DDR: 2.18x on an ASIC CXL device, 2.88x on an FPGA one (CXL-DMSim's validation, Wang et al., arXiv 2411.02282)",
  },
  p2pWriteGBpsGen5x16: {
    range: [53, 56.6],
    source:
      'p2pBandwidthLatencyTest, unidirectional P2P writes between RTX PRO 6000 GPUs on PCIe Gen5 x16: about 54 GB/s through Broadcom PEX890xx switches, 53-56.6 GB/s between root ports of one AMD EPYC Turin or Genoa socket (public measurements collected in voipmonitor/rtx6kpro, hardware/pcie-bandwidth.md)',
  },
} as const;
