/**
 * The layer rules of DESIGN.md live in eslint.config.js as `no-restricted-imports`
 * entries. This test lints small snippets as if they sat in each folder, proving that the
 * rules bite where they must and stay quiet where an import is allowed.
 */
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({
    cwd: root,
    overrideConfigFile: fileURLToPath(new URL('../eslint.config.js', import.meta.url)),
  });
});

/** The no-restricted-imports messages for `import ... from source` in a file at filePath. */
async function restricted(filePath: string, source: string): Promise<string[]> {
  const code = `import * as m from '${source}';\nexport const used = m;\n`;
  const [result] = await eslint.lintText(code, { filePath });
  expect(result?.fatalErrorCount ?? 0).toBe(0);
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rules', () => {
  it("forbid 'node:fs' in src/sim and allow it in src/main/services", async () => {
    const inSim = await restricted('src/sim/x.ts', 'node:fs');
    expect(inSim).toHaveLength(1);
    expect(inSim[0]).toMatch(/src\/sim/);
    expect(await restricted('src/main/services/x.ts', 'node:fs')).toEqual([]);
  });

  // [file, import source, allowed?]
  const cases: [string, string, boolean][] = [
    ['src/sim/engine/x.ts', 'fs', false],
    ['src/sim/engine/x.ts', 'worker_threads', false],
    ['src/sim/engine/x.ts', 'electron', false],
    ['src/sim/engine/x.ts', 'better-sqlite3', false],
    ['src/sim/engine/x.ts', 'react', false],
    ['src/sim/engine/x.ts', '../../main/services/store/store.js', false],
    ['src/sim/engine/x.ts', '../../renderer/src/api.js', false],
    ['src/sim/engine/x.ts', '../../shared/api.js', false],
    ['src/sim/engine/x.ts', 'zod', true],
    ['src/sim/engine/x.ts', './time.js', true],
    ['src/sim/engine/x.ts', '../schema/units.js', false],

    // The folders of src/sim are ranked: each imports only those below it.
    ['src/sim/hw/x.ts', '../engine/time.js', true],
    ['src/sim/hw/link/x.ts', '../../schema/fields.js', true],
    ['src/sim/hw/x.ts', '../machine/machine.js', false],
    ['src/sim/machine/x.ts', '../mm/driver.js', false],
    ['src/sim/machine/x.ts', '../workload/types.js', true],
    ['src/sim/mm/strategies/x.ts', '../../machine/page-state.js', true],
    ['src/sim/mm/strategies/x.ts', '../../config/experiment.js', false],
    ['src/sim/mm/x.ts', '../result/types.js', false],
    ['src/sim/result/x.ts', '../mm/phase.js', true],
    ['src/sim/result/x.ts', '../simulate.js', false],
    ['src/sim/config/x.ts', '../mm/strategies/index.js', true],
    ['src/sim/schema/x.ts', '../config/validate.js', false],
    ['src/sim/x.ts', './config/experiment.js', true],

    ['src/shared/x.ts', 'zod', true],
    ['src/shared/x.ts', './channels.js', true],
    ['src/shared/x.ts', '../sim/result/types.js', true],
    ['src/shared/x.ts', 'node:path', false],
    ['src/shared/x.ts', 'react', false],
    ['src/shared/x.ts', '../main/services/store/store.js', false],

    ['src/renderer/src/x.tsx', 'react', true],
    ['src/renderer/src/x.tsx', '../../shared/api.js', true],
    ['src/renderer/src/x.tsx', 'electron', false],
    ['src/renderer/src/x.tsx', 'node:path', false],
    ['src/renderer/src/x.tsx', 'better-sqlite3', false],
    ['src/renderer/src/x.tsx', '../../main/services/store/store.js', false],
    ['src/renderer/src/x.tsx', '../../cli/index.js', false],
    ['src/renderer/src/x.tsx', '../../preload/index.js', false],

    ['src/preload/x.ts', 'electron', true],
    ['src/preload/x.ts', '../shared/channels.js', true],
    ['src/preload/x.ts', 'node:fs', false],
    ['src/preload/x.ts', '../main/electron/ipc.js', false],

    ['src/main/electron/x.ts', 'electron', true],
    ['src/main/electron/x.ts', '../services/store/store.js', true],
    ['src/main/electron/x.ts', '../../renderer/src/api.js', false],

    ['src/main/services/store/x.ts', 'electron', false],
    ['src/main/services/store/x.ts', 'better-sqlite3', true],
    ['src/main/services/store/x.ts', '../../../renderer/src/api.js', false],
    ['src/main/web/x.ts', 'electron', false],

    ['src/cli/x.ts', 'electron', false],
    ['src/cli/x.ts', '../main/services/store/store.js', true],
    ['src/cli/x.ts', '../renderer/src/api.js', false],

    ['test/x.test.ts', 'electron', false],
    ['bench/x.ts', 'electron/main', false],
  ];

  it.each(cases)('%s importing %s: allowed=%s', async (file, source, allowed) => {
    const messages = await restricted(file, source);
    if (allowed) expect(messages).toEqual([]);
    else expect(messages.length).toBeGreaterThan(0);
  });
});
