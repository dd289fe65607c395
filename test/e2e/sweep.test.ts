/// <reference lib="dom" />
/**
 * The sweep view end to end: a real `npm run serve` on a temporary database and Debian's
 * Chromium. An experiment with a `sweep` section runs from the editor as a sweep, the
 * sweep view draws a heatmap, lines with their band and parallel coordinates, follows the
 * chosen metric, and clicking a heatmap cell opens that point's run. Running the sweep
 * again runs nothing.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEATMAP_GRID } from '../../src/renderer/src/charts/sweep-options.js';
import {
  eventually,
  inkedPixels,
  launchBrowser,
  screenshot,
  setEditorText,
  startServe,
  type Serve,
} from './harness.js';

const SWEEP = `{
  // Link width against array size, two seeds each: 8 small runs.
  "name": "e2e sweep",
  "seed": 1,
  "hardware": { "preset": "gpu-pcie4-hbm2" },
  "strategy": { "impl": "hmm-mirror" },
  "workload": { "impl": "stream", "arrayBytes": "1MiB", "iterations": 1 },
  "sweep": {
    "repetitions": 2,
    "axes": [
      { "path": "hardware.link.lanes", "values": [4, 16] },
      { "path": "workload.arrayBytes", "values": ["1MiB", "2MiB"] }
    ]
  }
}
`;

/** Pixels of a chart drawn in a colour (not grey, not transparent): its data marks, on whichever of its canvas layers. */
function colouredPixels(chart: Locator): Promise<number> {
  return chart.evaluate((el) => {
    let n = 0;
    for (const canvas of Array.from(el.querySelectorAll('canvas'))) {
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
        if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 40) n++;
      }
    }
    return n;
  });
}

describe('the sweep view in Chromium against npm run serve', () => {
  let serve: Serve;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const errors: string[] = [];
  let sweepId = '';

  const api = async <T>(name: string, args: unknown[]): Promise<T> => {
    const response = await fetch(`${serve.origin}/api/${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${serve.token}` },
      body: JSON.stringify(args),
    });
    const body = (await response.json()) as { ok: boolean; value: T };
    expect(body.ok).toBe(true);
    return body.value;
  };

  beforeAll(async () => {
    serve = await startServe();
    browser = await launchBrowser();
    page = browser.page;
    page.on('pageerror', (e) => errors.push(e.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('runs an experiment with a sweep section from the editor and opens its sweep view', async () => {
    await page.goto(serve.url);
    await setEditorText(page, SWEEP, 'sweep.json');
    await eventually(() => page.getByRole('status').first().textContent()).toBe('valid');
    await page.getByRole('button', { name: 'Run sweep ▶' }).click();
    await page.waitForURL(/#\/sweep\/[0-9a-f]{12}$/);
    sweepId = /#\/sweep\/([0-9a-f]{12})/.exec(page.url())![1]!;
    await eventually(() => page.getByRole('status').first().textContent(), { timeout: 60_000 }).toBe(
      '8 runs: 8 done, 0 failed',
    );
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`Sweep ${sweepId} · e2e sweep`);
    // The table: every combination of the two axes, with the two seeds pooled.
    const rows = page.getByLabel('Sweep points').locator('tbody tr');
    await eventually(() => rows.count()).toBe(4);
    const cells = await rows.first().locator('td').allTextContents();
    expect(cells.slice(0, 2)).toEqual(['4', '1MiB']);
    expect(cells[2]).toMatch(/^[\d,.]+$/); // the mean
    expect(cells[4]).toBe('2'); // over the two seeds
  }, 120_000);

  it('draws a heatmap, lines with a band, and parallel coordinates', async () => {
    const chart = (kind: string) => page.getByLabel(`sweep ${kind} chart`);
    // The axes and grid are grey; the marks are the palette's colours.
    await eventually(() => colouredPixels(chart('heatmap'))).toBeGreaterThan(20_000);
    await screenshot(page, 'sweep-heatmap');
    await page.getByRole('radio', { name: 'Lines' }).check();
    await eventually(() => colouredPixels(chart('lines'))).toBeGreaterThan(2000); // two lines and their bands
    await page.getByLabel('One line per').selectOption({ label: '(one line)' });
    await eventually(() => colouredPixels(chart('lines'))).toBeGreaterThan(300);
    await screenshot(page, 'sweep-lines');
    await page.getByRole('radio', { name: 'Parallel coordinates' }).check();
    await eventually(() => colouredPixels(chart('parallel'))).toBeGreaterThan(1000);
    await screenshot(page, 'sweep-parallel');
  });

  it('follows the chosen metric', async () => {
    await page.getByLabel('Metric').selectOption('link.h2d_bytes');
    await eventually(() => page.getByLabel('Sweep points').locator('thead').textContent()).toContain(
      'link.h2d_bytes (bytes) mean',
    );
  });

  it('opens the run of a heatmap cell that is clicked', async () => {
    await page.getByRole('radio', { name: 'Heatmap' }).check();
    const canvas = page.getByLabel('sweep heatmap chart').locator('canvas').first();
    await eventually(() => inkedPixels(page.getByLabel('sweep heatmap chart'))).toBeGreaterThan(1000);
    const box = (await canvas.boundingBox())!;
    // The centre of the bottom-left cell: x = lanes 4, y = the first array size.
    const plotW = box.width - HEATMAP_GRID.left - HEATMAP_GRID.right;
    const plotH = box.height - HEATMAP_GRID.top - HEATMAP_GRID.bottom;
    await page.mouse.click(box.x + HEATMAP_GRID.left + plotW / 4, box.y + HEATMAP_GRID.top + (plotH * 3) / 4);
    await page.waitForURL(/#\/run\/\d+$/);
    const runId = Number(/#\/run\/(\d+)/.exec(page.url())![1]);
    const sweep = await api<{ points: { runId: number; values: unknown[] }[] }>('getSweep', [sweepId, '']);
    const point = sweep.points.find((p) => p.runId === runId);
    expect(point?.values).toEqual([4, '1MiB']);
    await eventually(() => page.getByLabel(/Run \d+ dashboard/).count(), { timeout: 30_000 }).toBe(1);
  });

  it('lists the sweep, and running it again runs nothing', async () => {
    await page.getByRole('link', { name: 'Sweeps' }).click();
    const row = page.getByLabel('Sweeps').locator('tbody tr');
    await eventually(() => row.count()).toBe(1);
    expect(await row.textContent()).toBe(`${sweepId}e2e sweep880`);
    await page.getByRole('link', { name: 'Experiment editor' }).click();
    await eventually(() => page.getByRole('status').first().textContent()).toBe('valid');
    await page.getByRole('button', { name: 'Run sweep ▶' }).click();
    await page.waitForURL(new RegExp(`#/sweep/${sweepId}$`));
    await eventually(() => page.getByRole('status').first().textContent()).toBe('8 runs: 8 done, 0 failed');
    expect(await api<unknown[]>('listRuns', [])).toHaveLength(8);
  });

  it('raised no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});
