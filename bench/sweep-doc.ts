/** The experiment of the `sweep-64` bench case: 64 stream points (4 link widths x 4 sizes x 2 iteration counts x 2 seeds). */
export function sweepDoc(quick: boolean): object {
  const sizes = quick ? ['256KiB', '512KiB', '768KiB', '1MiB'] : ['2MiB', '4MiB', '6MiB', '8MiB'];
  return {
    name: 'bench sweep',
    hardware: { preset: 'gpu-pcie4-hbm2' },
    strategy: { impl: 'hmm-mirror' },
    workload: { impl: 'stream', arrayBytes: '1MiB', iterations: 1 },
    sweep: {
      repetitions: 2,
      axes: [
        { path: 'hardware.link.lanes', values: [2, 4, 8, 16] },
        { path: 'workload.arrayBytes', values: sizes },
        { path: 'workload.iterations', values: [1, 2] },
      ],
    },
  };
}
