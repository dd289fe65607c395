/**
 * Sizes: a whole number of bytes, or a string in one grammar: a number and a binary unit
 * with no space, `<n>B`, `<n>KiB`, `<n>MiB`, `<n>GiB` or `<n>TiB` ("64KiB", "1.5GiB").
 * Decimal units ("16GB") and bare letters ("16G") are refused rather than guessed: GB
 * means 10^9 bytes to a disk vendor and 2^30 to many users, so the user picks.
 */
const BINARY_UNITS: Record<string, number> = {
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/;
const LOOSE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/;

/** Parses a size; returns undefined when the text is not a size (sizeProblem says why). */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = SIZE_PATTERN.exec(value);
  if (!m) return undefined;
  const factor = m[2] === '' ? 1 : BINARY_UNITS[m[2].toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Number(m[1]) * factor;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Why `value` is not a size, with the spelling the user most likely meant. */
export function sizeProblem(value: string | number): string {
  const examples = 'use a whole number of bytes or a string such as "4KiB", "64KiB", "2MiB", "16GiB"';
  if (typeof value === 'number') return `${value} is not a whole number of bytes; ${examples}`;
  const m = LOOSE_PATTERN.exec(value);
  if (!m) return `${JSON.stringify(value)} is not a size; ${examples}`;
  const [, amount, unit] = m;
  const lower = unit.toLowerCase();
  const binary = { k: 'KiB', m: 'MiB', g: 'GiB', t: 'TiB' }[lower.replace(/i?b$/, '')];
  if (BINARY_UNITS[lower] !== undefined || unit === '') {
    const whole = `${amount}${BINARY_UNITS[lower] !== undefined ? unit : ''}`;
    if (whole !== value) return `${JSON.stringify(value)}: write sizes without spaces, as "${whole}"`;
    return `${JSON.stringify(value)} is not a whole number of bytes up to 2^53; ${examples}`;
  }
  if (binary !== undefined) {
    const decimal = lower.endsWith('b')
      ? ` (${unit} would mean 10^${{ k: 3, m: 6, g: 9, t: 12 }[lower[0]]} bytes to some and 2^${{ k: 10, m: 20, g: 30, t: 40 }[lower[0]]} to others)`
      : '';
    return `${JSON.stringify(value)} is ambiguous${decimal}; write "${amount}${binary}" for binary units, or the number of bytes`;
  }
  return `${JSON.stringify(value)} is not a size; ${examples}`;
}

/** Formats bytes with a binary unit: 65536 -> "64 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(2)} ${units[i]}`;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && Number.isInteger(Math.log2(n));
}
