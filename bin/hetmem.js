#!/usr/bin/env node
// The `hetmem` command. The CLI is TypeScript compiled to dist/ by `npm run build:node`
// (which `npm ci` runs through the `prepare` script); this shim only loads it.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('hetmem: not built; run `npm run build:node`\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
