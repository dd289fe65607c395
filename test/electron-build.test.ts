/**
 * `npx electron-vite build` must produce the three bundles the app is made of, with the
 * security properties that are easy to lose in a config change: a strict CSP in the
 * page, relative asset URLs (the page is loaded from file://), and a preload that is one
 * CommonJS file requiring nothing but 'electron' (a sandboxed preload can load nothing else).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
// A folder of its own: the end-to-end tests build into out/ (npm run serve) at the same time.
const out = mkdtempSync(join(tmpdir(), 'hetmem-build-'));

describe('electron-vite build', () => {
  beforeAll(() => {
    const build = spawnSync('npx', ['electron-vite', 'build', '--outDir', out], {
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
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes the main bundle, which never trusts a dev server and disables middle-click windows', () => {
    const code = readFileSync(join(out, 'main/index.js'), 'utf8');
    // import.meta.env.DEV is replaced by false in this build, so ELECTRON_RENDERER_URL is ignored.
    expect(code).not.toContain('import.meta.env');
    expect(code).toMatch(/devBuild:\s*false/);
    expect(code).toMatch(/disableBlinkFeatures:\s*["']Auxclick["']/);
  });

  it('writes the main bundle, the serve entry and the simulation worker beside them', () => {
    for (const entry of ['index.js', 'serve.js', 'worker.js'])
      expect(existsSync(join(out, 'main', entry)), entry).toBe(true);
  });

  it('bundles Monaco with its workers and fonts, so the editor works offline', () => {
    const assets = readdirSync(join(out, 'renderer/assets'));
    expect(assets.some((a) => /^editor\.worker.*\.js$/.test(a))).toBe(true);
    expect(assets.some((a) => /^json\.worker.*\.js$/.test(a))).toBe(true);
    expect(assets.some((a) => /^codicon.*\.ttf$/.test(a))).toBe(true);
    const code = assets
      .filter((a) => a.endsWith('.js'))
      .map((a) => readFileSync(join(out, 'renderer/assets', a), 'utf8'));
    expect(code.some((c) => /https:\/\/cdn\.jsdelivr|unpkg\.com/.test(c))).toBe(false);
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
