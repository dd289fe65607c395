/**
 * `npx electron-vite build` must produce the three bundles the app is made of, with the
 * security properties that are easy to lose in a config change: a strict CSP in the
 * page, relative asset URLs (the page is loaded from file://), and a preload that is one
 * CommonJS file requiring nothing but 'electron' (a sandboxed preload can load nothing else).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'out');

describe('electron-vite build', () => {
  beforeAll(() => {
    const build = spawnSync('npx', ['electron-vite', 'build'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
    });
    if (build.error) throw build.error;
    if (build.status !== 0) {
      throw new Error(`electron-vite build exited with ${build.status}:\n${build.stdout}\n${build.stderr}`);
    }
  }, 130_000);

  it('writes the main bundle, which never trusts a dev server and disables middle-click windows', () => {
    const code = readFileSync(join(out, 'main/index.js'), 'utf8');
    // import.meta.env.DEV is replaced by false in this build, so ELECTRON_RENDERER_URL is ignored.
    expect(code).not.toContain('import.meta.env');
    expect(code).toMatch(/devBuild:\s*false/);
    expect(code).toMatch(/disableBlinkFeatures:\s*["']Auxclick["']/);
  });

  it('writes a preload that a sandbox can run: CommonJS, requiring only electron', () => {
    const candidates = ['index.cjs', 'index.js', 'index.mjs'].map((f) => join(out, 'preload', f));
    const preload = candidates.find((p) => existsSync(p));
    expect(preload, `one of ${candidates.join(', ')}`).toBeDefined();
    const code = readFileSync(preload!, 'utf8');
    expect(code).not.toMatch(/^\s*(import|export)\s/m);
    const required = [...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(new Set(required)).toEqual(new Set(['electron']));
    expect(code).toContain('exposeInMainWorld("hetmem"');
  });

  it('writes the renderer page with a strict CSP and relative asset URLs', () => {
    const html = readFileSync(join(out, 'renderer/index.html'), 'utf8');
    const meta = html.match(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/);
    expect(meta, 'a CSP meta tag').not.toBeNull();
    const directives = new Map(
      meta![1]
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .filter((d) => d[0])
        .map(([name, ...values]) => [name, values] as const),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(meta![1]).not.toContain('unsafe-eval');
    expect(meta![1]).not.toMatch(/https?:/);

    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset).toMatch(/^\.\//);
      expect(existsSync(join(out, 'renderer', asset))).toBe(true);
    }
  });
});
