import { loadPresetMap } from '../../src/main/services/presets.js';

/** The shipped hardware presets, for tests (the same loader the CLI uses). */
export const presets = loadPresetMap();
