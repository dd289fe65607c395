import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const folder = path.resolve(import.meta.dirname, '../../resources/presets/hardware');

/** The shipped hardware presets, for tests. */
export const presets: Record<string, unknown> = Object.fromEntries(
  readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(path.join(folder, f), 'utf8'))]),
);
