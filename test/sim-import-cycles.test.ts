/**
 * No import cycles inside src/sim, file by file. ESLint ranks the folders (so no two
 * folders import each other); this test covers files within a folder. Type-only imports
 * (`import type`) are left out: they vanish at compile time and cannot change what runs
 * first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const simRoot = fileURLToPath(new URL('../src/sim', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Relative value imports and re-exports of a file, resolved to .ts paths. */
export function valueImports(file: string, text: string): string[] {
  const out: string[] = [];
  const re = /^(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s+'(\.[^']+)'/gms;
  for (const match of text.matchAll(re)) out.push(resolve(dirname(file), match[1].replace(/\.js$/, '.ts')));
  return out;
}

/** The cycles of a graph, each as a list of nodes (one per strongly connected group found by DFS). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('src/sim import graph', () => {
  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
    ]);
    expect(findCycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
    expect(valueImports('/x/a.ts', "import type { T } from './t.js';\nimport { v } from './v.js';")).toEqual([
      '/x/v.ts',
    ]);
  });

  it('has no cycle between files', () => {
    const files = sources(simRoot);
    const graph = new Map(files.map((f) => [f, valueImports(f, readFileSync(f, 'utf8'))]));
    const cycles = findCycles(graph).map((c) => c.map((f) => relative(simRoot, f)).join(' -> '));
    expect(cycles).toEqual([]);
  });
});
