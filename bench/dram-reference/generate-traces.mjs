#!/usr/bin/env node
/**
 * node bench/dram-reference/generate-traces.mjs [OUTPUT_DIR]: writes the three DRAMSim3-format
 * traces (`<hex address> READ|WRITE <cycle>` per line) that the DRAMSim3 reference figures in
 * results.json were produced from. Deterministic: the random addresses come from a fixed-seed
 * mulberry32, so every run writes byte-identical files. OUTPUT_DIR defaults to this folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEED = 0x5eed2020;
const LINE_BYTES = 64;
const SPAN_LINES = (1024 * 1024 * 1024) / LINE_BYTES; // 1 GiB of 64-byte lines = 2^24

/** mulberry32: a tiny 32-bit PRNG, enough for address scattering and reproducible anywhere. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A uniformly random 64-byte-aligned address in [0, 1 GiB). */
function randomLineAddress(next) {
  return Math.floor((next() / 2 ** 32) * SPAN_LINES) * LINE_BYTES;
}

function line(address, isWrite, cycle) {
  return `0x${address.toString(16).toUpperCase()} ${isWrite ? 'WRITE' : 'READ'} ${cycle}`;
}

/** Each trace: its file name and a function from request index to its line. */
function traces() {
  const sparse = mulberry32(SEED);
  const saturated = mulberry32(SEED + 1);
  return [
    { file: 'sequential.trace', count: 200_000, lineAt: (i) => line(i * LINE_BYTES, false, i) },
    { file: 'sparse-random.trace', count: 100_000, lineAt: (i) => line(randomLineAddress(sparse), false, i * 50) },
    // Every third request (index 2, 5, 8, ...) is a write.
    {
      file: 'saturated-random.trace',
      count: 200_000,
      lineAt: (i) => line(randomLineAddress(saturated), i % 3 === 2, i),
    },
  ];
}

const here = dirname(fileURLToPath(import.meta.url));
const outputDir = resolve(process.argv[2] ?? here);
mkdirSync(outputDir, { recursive: true });
for (const { file, count, lineAt } of traces()) {
  const lines = new Array(count);
  for (let i = 0; i < count; i++) lines[i] = lineAt(i);
  const path = join(outputDir, file);
  // Ends with a newline like any text file; see README.md for what DRAMSim3's reader does with it.
  writeFileSync(path, `${lines.join('\n')}\n`);
  console.log(`${path}: ${count} requests`);
}
