/// <reference lib="dom" />
/**
 * The workbench end to end, as a user drives it: a real `npm run serve` on a temporary
 * database and Debian's Chromium. Open an example, break the JSON and see the markers
 * (with `hetmem validate`'s messages), fix it, run, watch progress reach 100 %, see the
 * charts drawn, run a second experiment, compare the two with a diff of their
 * experiments, export to SQLite and read the file back, queue a run behind a long one
 * and take it out of the queue, watch the long run's series grow and cancel it (recorded
 * as cancelled), and see requests without the token refused.
 */
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareExperiment } from '../../src/main/services/runner/index.js';
import {
  CHROMIUM,
  eventually,
  inkedPixels,
  launchBrowser,
  ROOT,
  screenshot,
  screenshotOf,
  setEditorText,
  startServe,
  textNow,
  type Serve,
} from './harness.js';

const experiment = (name: string, strategy: string, extra = '') => `{
  // ${name}: a small STREAM triad, so the run takes a second or two.
  "name": "${name}",
  "seed": 1,
  "hardware": { "preset": "gpu-pcie4-hbm2" },
  "strategy": { "impl": "${strategy}" },
  "workload": { "impl": "stream", "arrayBytes": "32MiB", "iterations": 3${extra} }
}
`;
const MIRROR = experiment('e2e mirror', 'hmm-mirror');
const COPY = experiment('e2e copy', 'explicit-copy');
// Many passes over a small array: link traffic (the live series) from the first seconds on.
const LONG = experiment('e2e long', 'hmm-mirror').replace('"32MiB", "iterations": 3', '"64MiB", "iterations": 2000');
const BROKEN = MIRROR.replace(
  '"preset": "gpu-pcie4-hbm2" }',
  '"preset": "gpu-pcie4-hbm2", "link": { "lanes": 3 } }',
).replace('"seed": 1,', '"seed": 1,\n  "sead": 2,');

describe('the workbench in Chromium against npm run serve', () => {
  let serve: Serve;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const errors: string[] = [];

  const api = async (name: string, args: unknown[], token: string | null = serve.token) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(`${serve.origin}/api/${name}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(args),
    });
    return {
      status: response.status,
      body: (await response.json()) as { ok: boolean; value?: unknown; error?: { code: string } },
    };
  };
  const runIdFromUrl = () => Number(new URL(page.url()).hash.match(/#\/run\/(\d+)/)?.[1]);

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
    serve = await startServe();
    browser = await launchBrowser();
    page = browser.page;
    page.on('pageerror', (e) => errors.push(e.message));
    // Records every value the progress bar shows, however briefly.
    await page.addInitScript(() => {
      const seen: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('[role=progressbar]');
        if (bar) seen.push(Number(bar.getAttribute('aria-valuenow')));
      }).observe(document, { subtree: true, childList: true, attributes: true });
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('refuses requests without the token, and survives malformed ones', async () => {
    expect(await api('listRuns', [], null)).toMatchObject({
      status: 401,
      body: { ok: false, error: { code: 'forbidden' } },
    });
    expect((await api('startRun', [MIRROR], 'wrong-token')).status).toBe(401);
    for (const query of ['', '?token=wrong']) {
      const socket = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`${serve.origin.replace('http', 'ws')}/events${query}`);
        ws.on('open', () => resolve('open'));
        ws.on('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
        ws.on('error', () => resolve('error'));
      });
      expect(socket).toBe('refused 401');
    }
    // A request from another site's page is refused even with the token.
    const foreign = await fetch(`${serve.origin}/api/listRuns`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${serve.token}`, Origin: 'http://evil.example' },
      body: '[]',
    });
    expect(foreign.status).toBe(403);
    expect(await api('getRun', ['seven'])).toMatchObject({ status: 400, body: { error: { code: 'invalid-request' } } });
    const notJson = await fetch(`${serve.origin}/api/getRun`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${serve.token}` },
      body: '[1',
    });
    expect(notJson.status).toBe(400);
    // Nothing was run or written, and the server still answers.
    expect(await api('listRuns', [])).toEqual({ status: 200, body: { ok: true, value: [] } });
  });

  it('shows the validator’s messages as markers, and will not run a broken experiment', async () => {
    await page.goto(serve.url);
    await page.locator('.monaco-editor').waitFor();
    expect(new URL(page.url()).searchParams.get('token'), 'the token is taken out of the address bar').toBeNull();
    await page.getByLabel('Start from an example').selectOption({ index: 1 });
    await setEditorText(page, BROKEN);
    const problems = page.getByLabel('Problems');
    await problems.waitFor();
    const expected = prepareExperiment(BROKEN);
    expect(expected.ok).toBe(false);
    if (expected.ok) return;
    for (const issue of expected.issues) await eventually(() => problems.textContent()).toContain(issue.message);
    await eventually(() => page.locator('.squiggly-error').count()).toBeGreaterThan(0);
    await eventually(() => page.getByRole('button', { name: /Run/ }).isDisabled()).toBe(true);
    await screenshot(page, 'editor-markers');

    await setEditorText(page, '{ "name": "x",, }');
    await eventually(() => problems.textContent()).toMatch(/line 1, column 15: invalid JSON/);
  });

  it('completes enums and shows hover docs from the schema generated from zod', async () => {
    const text = `{
  "name": "complete me",
  "seed": 1,
  "hardware": { "preset": "gpu-pcie4-hbm2", "cpu": { "memory": { "latencyNs": 90 } } },
  "strategy": { "impl": "" },
  "workload": { "impl": "stream", "arrayBytes": "4MiB", "iterations": 1 }
}
`;
    await setEditorText(page, text);
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+Home');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('End');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft'); // between the quotes of "impl": ""
    const suggestions = page.locator('.suggest-widget');
    // Asks again while no list is shown: a request made before the JSON worker is ready can go unanswered.
    await eventually(async () => {
      if (!(await suggestions.isVisible())) await page.keyboard.press('Control+Space');
      return textNow(suggestions);
    }).toContain('explicit-copy');
    expect(await suggestions.textContent()).toContain('hmm-mirror');
    await screenshot(page, 'editor-completion');
    await page.keyboard.press('Escape');

    const token = page.locator('.view-lines span span', { hasText: /^"latencyNs"$/ });
    const hover = page.locator('.monaco-hover').filter({ hasText: 'Load-to-use latency' });
    // Hovers again while no card is shown: a hover the closing suggestion list swallowed shows nothing.
    await eventually(async () => {
      if (!(await hover.isVisible())) {
        await page.mouse.move(0, 0);
        await token.hover({ timeout: 2_000 });
      }
      return textNow(hover);
    }).toMatch(/in ns\. Default 90: Intel Memory Latency Checker/);
  });

  it('runs a fixed experiment with Ctrl+Enter, shows progress to 100 % and a dashboard with charts', async () => {
    await setEditorText(page, MIRROR);
    await eventually(() => page.getByRole('status').first().textContent()).toBe('valid');
    await page.locator('.monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+Enter');
    await page.waitForURL(/#\/run\/\d+/);
    const dashboard = page.getByLabel(/Run \d+ dashboard/);
    await dashboard.waitFor({ timeout: 60_000 });
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBe(100);

    await eventually(() => page.getByLabel('Where the time went').first().textContent()).toMatch(
      /Most time went to|computing/,
    );
    const charts = page.locator('.chart');
    await eventually(() => charts.count()).toBeGreaterThanOrEqual(4);
    for (const label of [
      'Time attribution per agent',
      'link.h2d_bandwidth over simulated time',
      'device.fault_latency_ns histogram',
    ]) {
      await eventually(() => inkedPixels(page.getByLabel(label)), { message: label }).toBeGreaterThan(1000);
    }
    expect(await page.getByLabel('Headline metrics').textContent()).toContain('sim.time_ns');
    await screenshot(page, 'dashboard');
  });

  it('shows the component timeline, zooms into it, and names what a bar is', async () => {
    const panel = page.getByLabel('Timeline of the components');
    const chart = page.getByLabel('Component timeline');
    await eventually(() => inkedPixels(chart)).toBeGreaterThan(1000);
    await panel.scrollIntoViewIfNeeded();
    await screenshotOf(panel, 'timeline');
    const canvas = () =>
      chart
        .locator('canvas')
        .first()
        .evaluate((c: HTMLCanvasElement) => c.toDataURL());
    const whole = await canvas();
    const box = (await chart.boundingBox())!;
    // The wheel zooms the time axis around the pointer.
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.45);
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, -300);
    await eventually(canvas).not.toBe(whole);
    await eventually(() => inkedPixels(chart)).toBeGreaterThan(1000);
    // The top row is the run's phases: its tooltip names one, with its start and length.
    await page.mouse.move(box.x + box.width * 0.55, box.y + 36 + 8);
    const tooltip = chart.locator('div').filter({ hasText: /lasts/ }).last();
    await eventually(() => tooltip.textContent()).toMatch(/(cpu|triad|setup).*start .* lasts /);
    await screenshotOf(panel, 'timeline-zoomed');
  });

  it('runs a second experiment and compares the two, with a diff of their experiments', async () => {
    await page.getByRole('link', { name: 'Experiment editor' }).click();
    await setEditorText(page, COPY);
    await eventually(() => page.getByRole('status').first().textContent()).toBe('valid');
    await page.getByRole('button', { name: /Run/ }).click();
    await page.getByLabel(/Run \d+ dashboard/).waitFor({ timeout: 60_000 });

    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.getByLabel('Select all').check();
    await screenshot(page, 'runs');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByLabel('Metrics side by side').waitFor();
    const table = await page.getByLabel('Metrics side by side').textContent();
    expect(table).toContain('hmm-mirror');
    expect(table).toContain('explicit-copy');
    const diff = page.getByTestId('experiment-diff');
    await eventually(() =>
      diff.locator('.line-insert, .char-insert, .line-delete, .char-delete').count(),
    ).toBeGreaterThan(0);
    await eventually(() => diff.textContent()).toContain('explicit-copy');
    await eventually(() => inkedPixels(page.getByLabel('Chosen metrics, grouped by run'))).toBeGreaterThan(1000);
    await screenshot(page, 'compare');
  });

  it('leaves a dashboard while its timeline is still painting without an error', async () => {
    // The explicit-copy run's timeline (every DRAM channel) paints over several frames.
    const runs = (await api('listRuns', [])).body.value as { id: number; strategy: string }[];
    const copy = runs.find((r) => r.strategy === 'explicit-copy')!;
    const before = errors.length;
    for (let i = 0; i < 8; i++) {
      await page.goto(`${serve.origin}/#/run/${copy.id}`);
      await page.getByLabel('Component timeline').waitFor();
      await page.waitForTimeout(15 * i);
      await page.goto(`${serve.origin}/#/runs`);
    }
    // zrender's next frames come after the navigation: give them time to throw.
    await page.waitForTimeout(1500);
    expect(errors.slice(before)).toEqual([]);
  });

  it('exports the two runs to SQLite, which better-sqlite3 reads back, and imports it without duplicates', async () => {
    const runs = (await api('listRuns', [])).body.value as { id: number }[];
    await page.goto(`${serve.origin}/#/export/${runs.map((r) => r.id).join(',')}`);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'SQLite database' }).click();
    const file = join(serve.dir, 'exported.sqlite');
    await (await download).saveAs(file);
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare('SELECT name, strategy, status FROM runs ORDER BY id').all();
      expect(rows).toEqual([
        { name: 'e2e mirror', strategy: 'hmm-mirror', status: 'done' },
        { name: 'e2e copy', strategy: 'explicit-copy', status: 'done' },
      ]);
      expect((db.prepare('SELECT count(*) AS n FROM metrics').get() as { n: number }).n).toBeGreaterThan(10);
    } finally {
      db.close();
    }
    await screenshot(page, 'export');
    // Importing the file back into the database it came from adds nothing.
    await page.getByLabel('Import a database file').setInputFiles(file);
    await eventually(() => page.getByRole('status').last().textContent()).toBe(
      'Imported 0 run(s) from exported.sqlite; skipped 2.',
    );
  });

  it('queues a run started while one runs, shows series growing live, and cancels both', async () => {
    await page.getByRole('link', { name: 'Experiment editor' }).click();
    await setEditorText(page, LONG);
    await eventually(() => page.getByRole('status').first().textContent()).toBe('valid');
    await page.getByRole('button', { name: /Run/ }).click();
    await page.waitForURL(/#\/run\/\d+/);
    const id = runIdFromUrl();
    const bar = page.getByRole('progressbar');
    await eventually(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 60_000 }).toBeGreaterThan(
      0,
    );

    // A second run while the first runs waits in the queue, recorded nowhere yet.
    await page.getByRole('link', { name: 'Experiment editor' }).click();
    await setEditorText(page, MIRROR);
    await eventually(() => page.getByRole('status').first().textContent()).toBe('valid');
    await page.getByRole('button', { name: /Run/ }).click();
    await page.waitForURL(/#\/queued\/\d+/);
    await eventually(() => page.locator('.run-queued').textContent()).toMatch(
      /Queued: e2e mirror.*Next to start.*Running: run \d+ e2e long/,
    );
    await screenshot(page, 'queued');
    // Recorded: the two runs before and the long one; not the queued one.
    expect(((await api('listRuns', [])).body.value as unknown[]).length).toBe(3);
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    const queuedRow = page.locator('table.runs tbody tr.queued');
    await eventually(() => queuedRow.textContent()).toMatch(/e2e mirror.*queued, next to start.*queued/);
    await screenshot(page, 'runs-queued');
    await queuedRow.getByRole('button', { name: 'Remove e2e mirror from the queue' }).click();
    await eventually(() => queuedRow.count()).toBe(0);
    expect(await api('activeRuns', [])).toMatchObject({ body: { value: [{ runId: id, state: 'running' }] } });

    // The model's series grow while the run runs: bandwidth each way, device memory, faults.
    await page.goto(`${serve.origin}/#/run/${id}`);
    const h2dLive = async () => {
      const [active] = (await api('activeRuns', [])).body.value as {
        series: { series: { name: string; values: number[] }[] } | null;
      }[];
      return active?.series?.series.find((x) => x.name === 'link.h2d_bandwidth')?.values.filter((v) => v > 0).length;
    };
    await eventually(h2dLive, { timeout: 60_000 }).toBeGreaterThan(0);
    const before = (await h2dLive())!;
    await eventually(h2dLive, { timeout: 30_000 }).toBeGreaterThan(before);
    await eventually(() => inkedPixels(page.getByLabel('link.h2d_bandwidth so far, live'))).toBeGreaterThan(1000);
    await eventually(() => page.locator('.progress-facts').textContent()).toMatch(/events\/s/);
    await eventually(() => inkedPixels(page.getByLabel('Simulated time against wall time, live'))).toBeGreaterThan(100);
    await eventually(() => inkedPixels(page.getByLabel('Events per second, live'))).toBeGreaterThan(100);
    await screenshot(page, 'run-progress');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await eventually(() => page.locator('p[role=alert]').textContent(), { timeout: 30_000 }).toContain('was cancelled');
    const run = (await api('getRun', [id])).body.value as { status: string; error: string };
    expect(run).toMatchObject({ status: 'cancelled', error: 'cancelled by the user' });
    // The run taken out of the queue never ran.
    expect(((await api('listRuns', [])).body.value as { name: string }[]).map((r) => r.name)).toEqual([
      'e2e mirror',
      'e2e copy',
      'e2e long',
    ]);
  });

  it('shows the error of a run that fails, in its view and in the list', async () => {
    await page.getByRole('link', { name: 'Experiment editor' }).click();
    // Valid (every value within its bound), but the run passes the simulated-time horizon.
    const slow = experiment('e2e too slow', 'hmm-mirror')
      .replace('"gpu-pcie4-hbm2" }', '"gpu-pcie4-hbm2", "driver": { "perFaultNs": 1e9, "perPageNs": 1e9 } }')
      .replace(
        '"stream", "arrayBytes": "32MiB", "iterations": 3',
        '"gather", "tableBytes": "64MiB", "accesses": 20000',
      );
    await setEditorText(page, slow);
    await eventually(() => page.getByRole('status').first().textContent()).toBe('valid');
    await page.getByRole('button', { name: /Run/ }).click();
    await eventually(() => page.locator('p[role=alert]').textContent(), { timeout: 30_000 }).toMatch(
      /This run failed: .*past the horizon of 2\^53 ps/,
    );
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    const row = page.locator('table.runs tbody tr', { hasText: 'e2e too slow' });
    await eventually(() => row.textContent()).toContain('past the horizon');
    expect(await row.locator('.status').textContent()).toBe('failed');
    // Out of the way of the next test, which counts the runs.
    await row.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
    await eventually(() => row.count()).toBe(0);
  });

  it('tags runs, filters by tag, and deletes a run only after confirmation', async () => {
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    const rows = page.locator('table.runs tbody tr');
    await eventually(() => rows.count()).toBe(3);
    await page.getByLabel('Select run 1').check();
    await page.getByLabel('Tag for the selected runs').fill('baseline');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await eventually(() => rows.filter({ hasText: 'baseline' }).count()).toBe(1);
    await page.getByLabel('Filter by tag').fill('baseline');
    await eventually(() => rows.count()).toBe(1);
    await page.getByLabel('Filter by tag').fill('');
    await page.getByLabel('Filter by name').fill('long');
    await eventually(() => rows.count()).toBe(1);
    await page.getByLabel('Select all').check();
    await page.getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Confirm delete' });
    await eventually(() => confirm.textContent()).toMatch(/Delete run 3 with their results\? This cannot be undone/);
    await screenshot(page, 'runs-delete-confirm');
    await page.getByRole('button', { name: 'Keep them' }).click();
    expect((await api('listRuns', [])).body.value).toHaveLength(3);
    await page.getByRole('button', { name: 'Delete…' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await eventually(async () =>
      ((await api('listRuns', [])).body.value as { name: string }[]).map((r) => r.name),
    ).toEqual(['e2e mirror', 'e2e copy']);
  });

  it('follows a dark system theme', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${serve.origin}/#/run/1`);
    await page.getByLabel('Run 1 dashboard').waitFor();
    await eventually(() => inkedPixels(page.getByLabel('Time attribution per agent'))).toBeGreaterThan(1000);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(21, 24, 30)');
    await screenshot(page, 'dashboard-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('refuses a file that is not a workbench database, and leaves it untouched', () => {
    const notes = join(serve.dir, 'notes.sqlite');
    writeFileSync(notes, 'my notes, not a database\n');
    const r = spawnSync('node', ['out/main/serve.js', '--db', notes, '--port', '0'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`hetmem serve: cannot open the database ${notes}`);
    expect(readFileSync(notes, 'utf8')).toBe('my notes, not a database\n');
  });

  it('refuses a database another program holds locked, saying so, and leaves it untouched', () => {
    const locked = join(serve.dir, 'locked.sqlite');
    const holder = new Database(locked);
    holder.exec('CREATE TABLE mine (x); BEGIN EXCLUSIVE; INSERT INTO mine VALUES (1);');
    try {
      const r = spawnSync('node', ['out/main/serve.js', '--db', locked, '--port', '0'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /cannot open the database .*locked\.sqlite: .*locked\.sqlite is locked: another program/,
      );
    } finally {
      holder.exec('COMMIT');
    }
    expect(holder.prepare('SELECT x FROM mine').all()).toEqual([{ x: 1 }]);
    expect(holder.prepare(`SELECT name FROM sqlite_master`).all()).toEqual([{ name: 'mine' }]);
    holder.close();
  });

  it('raised no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});
