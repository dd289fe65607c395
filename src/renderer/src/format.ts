/** Formatting for the UI. Pure functions, tested under Node (test/renderer-format.test.ts). */

/** Wall time as a person reads it: "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatWallMs(ms: number | null): string {
  if (ms === null) return '\u2014';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) {
    const m = Math.floor(totalSeconds / 60);
    const s = totalSeconds % 60;
    return `${m} min ${String(s).padStart(2, '0')} s`;
  }
  const totalMinutes = Math.round(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)} h ${String(totalMinutes % 60).padStart(2, '0')} min`;
}

/** An ISO instant as local "YYYY-MM-DD HH:MM:SS"; the ISO text itself if it does not parse. */
export function formatInstant(iso: string | null): string {
  if (iso === null) return '\u2014';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A metric value: integers exactly, with grouping; other values to 4 significant digits (at least). */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return Number(value.toPrecision(4)).toString();
}

/** Simulated time: "850 ns", "12.3 µs", "4.56 ms", "1.23 s". */
export function formatDurationNs(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${Number(ns.toPrecision(3))} ns`;
  if (abs < 1e6) return `${Number((ns / 1e3).toPrecision(3))} µs`;
  if (abs < 1e9) return `${Number((ns / 1e6).toPrecision(3))} ms`;
  return `${Number((ns / 1e9).toPrecision(3))} s`;
}

/** A value with its unit made readable: bytes in KiB/MiB/GiB, ns as durations, others as formatValue. */
export function formatMetric(value: number, unit: string): string {
  if (unit === 'ns') return formatDurationNs(value);
  if ((unit === 'bytes' || unit === 'B') && Number.isFinite(value) && Math.abs(value) >= 1024) {
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    let v = value / 1024;
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${Number(v.toPrecision(4))} ${units[i]}`;
  }
  if (unit === 'fraction') return `${Number((value * 100).toPrecision(3))} %`;
  return `${formatValue(value)}${unit ? ` ${unit}` : ''}`;
}
