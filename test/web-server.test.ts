/**
 * The web transport of `npm run serve`, in process, over real sockets with a real store:
 * the token guards every Api request and the event socket, a DNS-rebound Host or another
 * site's Origin is refused, bad bodies get an error reply and never a crash, files
 * outside the renderer are not served, and NaN and Infinity survive the wire.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../src/shared/api.js';
import { decodeWire, encodeWire } from '../src/shared/wire.js';
import { startServer, type RunningServer } from '../src/main/web/server.js';
import { Store } from '../src/main/services/store/store.js';
import { experiment, meta, sampleResult, tempDir } from '../src/main/services/store/test-fixtures.js';
import { createWorkbench, type Workbench } from '../src/main/services/workbench/index.js';

/** A raw request, so tests can send what fetch would not (a foreign Host header). */
function send(
  server: RunningServer,
  path: string,
  { method = 'POST', body = '[]', headers = {} as Record<string, string> } = {},
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? body : undefined);
  });
}

describe('the web server', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let workbench: Workbench;
  let server: RunningServer;
  let auth: Record<string, string>;

  beforeEach(async () => {
    tmp = tempDir();
    const renderer = join(tmp.dir, 'renderer');
    mkdirSync(renderer);
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(tmp.dir, 'secret.txt'), 'not for the web');
    store = Store.open(tmp.file('db.sqlite'));
    workbench = createWorkbench(
      store,
      { databasePath: tmp.file('db.sqlite'), modelVersion: '0.1.0' },
      { progressIntervalMs: 10 },
    );
    server = await startServer({
      api: workbench.api,
      events: workbench.events,
      rendererDir: renderer,
      port: 0,
      maxBodyBytes: 1 << 16,
    });
    auth = { Authorization: `Bearer ${server.token}` };
  });

  afterEach(async () => {
    await server.close();
    await workbench.stop();
    store.close();
    tmp.remove();
  });

  it('listens on 127.0.0.1 and prints a URL with a fresh 256-bit token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(Buffer.from(server.token, 'base64url')).toHaveLength(32);
  });

  it('answers 401 without the token or with a wrong one, and changes nothing', async () => {
    const text = JSON.stringify(JSON.parse(experiment('x')));
    for (const headers of [{}, { Authorization: 'Bearer nope' }, { Authorization: server.token }] as Record<
      string,
      string
    >[]) {
      const r = await send(server, '/api/startRun', { body: JSON.stringify([text]), headers });
      expect(r.status).toBe(401);
      expect(JSON.parse(r.text)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect(store.listRuns()).toEqual([]);
  });

  it('refuses a DNS-rebound Host and a foreign Origin even with the token', async () => {
    expect(
      (await send(server, '/api/listRuns', { headers: { ...auth, Host: `evil.example:${server.port}` } })).status,
    ).toBe(403);
    expect((await send(server, '/api/listRuns', { headers: { ...auth, Origin: 'http://evil.example' } })).status).toBe(
      403,
    );
    expect((await send(server, '/api/listRuns', { headers: { ...auth, Origin: server.origin } })).status).toBe(200);
  });

  it('answers malformed requests with an error and keeps serving', async () => {
    const bad = [
      ['/api/getRun', '[1', 400],
      ['/api/getRun', '{"id": 1}', 400],
      ['/api/getRun', '["1"]', 400],
      ['/api/dropTables', '[]', 404],
      ['/api/__proto__', '[]', 404],
      ['/api/listRuns', `["${'x'.repeat(1 << 17)}"]`, 413],
    ] as const;
    for (const [path, body, status] of bad) {
      const r = await send(server, path, { body, headers: auth });
      expect(r.status, `${path} ${body.slice(0, 20)}`).toBe(status);
      expect(JSON.parse(r.text).ok).toBe(false);
    }
    expect((await send(server, '/api/getRun', { method: 'GET', headers: auth })).status).toBe(405);
    expect(JSON.parse((await send(server, '/api/listRuns', { headers: auth })).text)).toEqual({ ok: true, value: [] });
  });

  it('serves the renderer with its CSP, and nothing outside it', async () => {
    const page = await send(server, '/', { method: 'GET' });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/nope.js']) {
      expect((await send(server, path, { method: 'GET' })).status, path).toBe(404);
    }
  });

  it('carries NaN and Infinity in results', async () => {
    const id = store.beginRun(experiment('x'), meta());
    store.finishRun(id, sampleResult(), 1);
    const r = decodeWire((await send(server, '/api/getRun', { body: encodeWire([id]), headers: auth })).text) as {
      value: { metrics: Record<string, { value: number }>; histograms: { min: number }[] };
    };
    expect(r.value.metrics['nan.metric']!.value).toBeNaN();
    expect(r.value.metrics['inf.metric']!.value).toBe(Infinity);
    expect(r.value.histograms[1]!.min).toBe(Infinity);
  });

  it('streams run events to a socket that has the token, and refuses one without', async () => {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=wrong`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
    });
    expect(refused).toBe(401);

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events?token=${server.token}`, { origin: server.origin });
    await new Promise((resolve) => ws.on('open', resolve));
    const received: RunEvent[] = [];
    const ended = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        const event = decodeWire(String(data)) as RunEvent;
        received.push(event);
        if (event.type === 'ended') resolve();
      }),
    );
    const text = `{"name": "tiny", "hardware": {"preset": "gpu-pcie4-hbm2"}, "strategy": {"impl": "hmm-mirror"},
      "workload": {"impl": "stream", "arrayBytes": "1MiB", "iterations": 1}}`;
    const started = JSON.parse(
      (await send(server, '/api/startRun', { body: JSON.stringify([text]), headers: auth })).text,
    );
    expect(started).toMatchObject({ ok: true, value: { ok: true } });
    await ended;
    ws.close();
    expect(received[0]).toMatchObject({ type: 'started', name: 'tiny' });
    expect(received.at(-1)).toMatchObject({ type: 'ended', status: 'done' });
  });
});
