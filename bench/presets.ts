import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Hardware presets from resources/presets/hardware, found from this file (src or dist). */
export function loadHardwarePresets(): Record<string, unknown> {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!readdirSync(dir).includes('resources')) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('resources/presets not found above the bench folder');
    dir = up;
  }
  const folder = path.join(dir, 'resources', 'presets', 'hardware');
  const out: Record<string, unknown> = {};
  for (const f of readdirSync(folder).filter((n) => n.endsWith('.json'))) {
    out[f.replace(/\.json$/, '')] = JSON.parse(readFileSync(path.join(folder, f), 'utf8'));
  }
  return out;
}
