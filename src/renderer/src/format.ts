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
