// ESLint flat config. Besides typescript-eslint's recommended rules (not type-checked, for
// speed), it enforces the layers of DESIGN.md: each folder of src/ may import only what
// its environment has and what lies below it. The layer rules are `no-restricted-imports`
// entries, one block per folder; in a flat config a later block replaces a rule's options
// rather than merging them, so each folder's block lists everything that folder may not
// import. test/lint-layers.test.ts proves the rules bite.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** A restriction: exact module names and regular expressions over the import source. */
const forbid = (names, regexes, message) => ({
  paths: names.map((name) => ({ name, message })),
  patterns: regexes.map((regex) => ({ regex, message, caseSensitive: true })),
});

/** Merges restrictions into one `no-restricted-imports` setting. */
const restrict = (...parts) => [
  'error',
  {
    paths: parts.flatMap((p) => p.paths),
    patterns: parts.flatMap((p) => p.patterns),
  },
];

/** Relative imports into other top folders of src/ (or of src/main), by folder name. */
const folders = (names, message) => forbid([], [`^\\.{1,2}/(.*/)?(${names.join('|')})(/|$)`], message);

const NODE = (where) =>
  forbid(
    builtinModules.filter((m) => !m.startsWith('_')),
    ['^node:'],
    `${where} must not import Node built-ins.`,
  );
const ELECTRON = forbid(
  ['electron'],
  ['^electron/'],
  "Only src/main/electron and src/preload may import 'electron' (under plain Node it throws at import).",
);
const SQLITE = (where) =>
  forbid(['better-sqlite3'], [], `${where} must not touch the database; the store (src/main/services) does.`);
const REACT = (where) =>
  forbid(['react', 'react-dom'], ['^react(-dom)?/'], `${where} has no UI; React belongs in src/renderer.`);

/**
 * The folders of src/sim, lowest first: each may import only folders before it (and
 * itself), so no two folders import each other. Files at src/sim's root (simulate.ts,
 * index.ts) sit above them all.
 */
const SIM_RANKS = ['engine', 'schema', 'hw', 'workload', 'machine', 'mm', 'result', 'config'];

const SIM =
  'src/sim is pure TypeScript (no Node, DOM or Electron) so it runs in a worker, the CLI, a test and a browser alike';
/** What all of src/sim may not import. */
const SIM_BASE = [
  NODE(SIM),
  ELECTRON,
  SQLITE(SIM),
  REACT(SIM),
  folders(['main', 'cli', 'renderer', 'preload', 'shared'], `${SIM}; it imports nothing above it.`),
];
const RENDERER = 'src/renderer is browser code that talks to the services only through the Api in src/shared';
const PRELOAD = 'src/preload is sandboxed: it bundles the channel names and requires nothing but electron';

export default defineConfig([
  globalIgnores(['out/', 'dist/', 'node_modules/', 'coverage/']),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    ignores: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
  },

  // ---- Layers -------------------------------------------------------------------------
  // Everywhere (tests, bench, bin, configs, and any folder not named below): no Electron.
  {
    files: ['**/*.{ts,tsx,mts,cts,js,mjs,cjs}'],
    rules: { 'no-restricted-imports': restrict(ELECTRON) },
  },
  {
    files: ['src/sim/**'],
    rules: { 'no-restricted-imports': restrict(...SIM_BASE) },
  },
  ...SIM_RANKS.map((folder, rank) => ({
    files: [`src/sim/${folder}/**`],
    // Tests are leaves (nothing imports them): they may build a whole simulation.
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrict(
        ...SIM_BASE,
        forbid(
          [],
          [`^(\\.\\./)+(${SIM_RANKS.slice(rank + 1).join('|')})(/|$)`, '^(\\.\\./)+simulate\\.js$'].filter(
            () => rank < SIM_RANKS.length - 1,
          ),
          `src/sim/${folder} may import only ${SIM_RANKS.slice(0, rank).join(', ') || 'nothing else in src/sim'} (the folders of src/sim are ranked ${SIM_RANKS.join(' < ')}, so none imports another that imports it).`,
        ),
      ),
    },
  })),
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': restrict(
        forbid(
          [],
          ['^(?!zod$|zod/|\\./|\\.\\./sim/)'],
          'src/shared is the Api contract, used on both sides: it may import only zod, itself and src/sim.',
        ),
      ),
    },
  },
  {
    files: ['src/renderer/**'],
    rules: {
      'no-restricted-imports': restrict(
        NODE(RENDERER),
        ELECTRON,
        SQLITE(RENDERER),
        folders(['main', 'cli', 'preload'], `${RENDERER}.`),
      ),
    },
  },
  {
    files: ['src/preload/**'],
    rules: {
      'no-restricted-imports': restrict(
        NODE(PRELOAD),
        SQLITE(PRELOAD),
        REACT(PRELOAD),
        folders(['main', 'cli', 'renderer'], `${PRELOAD}.`),
      ),
    },
  },
  {
    files: ['src/main/electron/**'],
    rules: {
      'no-restricted-imports': restrict(
        REACT('src/main'),
        folders(
          ['renderer', 'preload', 'cli'],
          'src/main/electron wires services to windows; it does not import UI, preload or CLI code.',
        ),
      ),
    },
  },
  {
    files: ['src/main/services/**', 'src/main/web/**'],
    rules: {
      'no-restricted-imports': restrict(
        ELECTRON,
        REACT('src/main'),
        folders(
          ['renderer', 'preload', 'cli', 'electron'],
          'src/main/services and src/main/web run under plain Node: no Electron, UI or CLI code.',
        ),
      ),
    },
  },
  {
    files: ['src/cli/**'],
    rules: {
      'no-restricted-imports': restrict(
        ELECTRON,
        REACT('src/cli'),
        folders(
          ['renderer', 'preload', 'electron'],
          'src/cli is headless: it uses the services, never Electron or UI code.',
        ),
      ),
    },
  },
]);
