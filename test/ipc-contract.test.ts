/**
 * The Electron transport, both halves, without Electron: main's handlers with a fake
 * ipcMain, and the preload with 'electron' mocked. Checks that every channel has exactly
 * one handler and one preload function, that untrusted senders and malformed payloads
 * never reach a service, and that failures arrive as plain messages.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CHANNELS,
  REQUESTS,
  RUN_EVENT_CHANNEL,
  type ApiResult,
  type HetmemApi,
  type RunEventSource,
  type RunSummary,
} from '../src/shared/api.js';
import { registerApi, type IpcMainLike } from '../src/main/electron/ipc.js';
import { isTrustedFrame, rendererEntry } from '../src/main/electron/trust.js';

type Listener = (event: unknown, ...args: unknown[]) => Promise<unknown>;

const electron = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoke: vi.fn<(channel: string, ...args: unknown[]) => Promise<unknown>>(),
  on: vi.fn(),
  removeListener: vi.fn(),
}));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => electron.exposed.set(key, value) },
  ipcRenderer: { invoke: electron.invoke, on: electron.on, removeListener: electron.removeListener },
}));

const run: RunSummary = {
  id: 7,
  name: 'stream',
  strategy: 'hmm-mirror',
  workload: 'stream',
  seed: 1,
  status: 'done',
  startedAt: '2026-11-24T07:28:00.000Z',
  endedAt: '2026-11-24T07:28:01.500Z',
  wallMs: 1500,
  error: null,
  tags: ['baseline'],
  keyMetrics: { 'sim.time_ns': { value: 1e6, unit: 'ns' } },
};

function fakeIpc() {
  const handlers = new Map<string, Listener>();
  const ipc: IpcMainLike = {
    handle: (channel, listener) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener as Listener);
    },
    removeHandler: (channel) => void handlers.delete(channel),
  };
  return { ipc, handlers };
}

const trusted = { senderFrame: { url: 'file:///app/out/renderer/index.html', parent: null } };

describe('the contract', () => {
  it('has one channel per request, all distinct', () => {
    expect(Object.keys(CHANNELS).sort()).toEqual(Object.keys(REQUESTS).sort());
    const channels = Object.values(REQUESTS).map((r) => r.channel);
    expect(new Set(channels).size).toBe(channels.length);
  });

  it('validates a run summary and rejects a malformed one', () => {
    expect(REQUESTS.listRuns.response.safeParse([run]).success).toBe(true);
    expect(REQUESTS.listRuns.response.safeParse([{ ...run, status: 'finished' }]).success).toBe(false);
  });
});

describe('main: registerApi', () => {
  let api: { [K in keyof HetmemApi]: ReturnType<typeof vi.fn> } & HetmemApi;
  let handlers: Map<string, Listener>;
  let unregister: () => void;

  beforeEach(() => {
    // Every request answers something plausible; the tests below look at what reaches them.
    api = Object.fromEntries(
      Object.keys(CHANNELS).map((name) => [name, vi.fn(async () => null)]),
    ) as unknown as typeof api;
    api.getInfo.mockResolvedValue({ databasePath: '/tmp/h.sqlite', modelVersion: '0.1.0' });
    api.listRuns.mockResolvedValue([run]);
    const fake = fakeIpc();
    handlers = fake.handlers;
    unregister = registerApi(fake.ipc, api, (frame) =>
      isTrustedFrame({ kind: 'file', path: '/app/out/renderer/index.html' }, frame),
    );
  });

  it('registers exactly one handler per channel and removes them all', () => {
    expect([...handlers.keys()].sort()).toEqual(Object.values(CHANNELS).sort());
    unregister();
    expect(handlers.size).toBe(0);
  });

  it('answers a valid request with the service result', async () => {
    const result = (await handlers.get(CHANNELS.listRuns)!(trusted, { status: 'done' })) as ApiResult<unknown>;
    expect(result).toEqual({ ok: true, value: [run] });
    expect(api.listRuns).toHaveBeenCalledWith({ status: 'done' });
    expect(await handlers.get(CHANNELS.listRuns)!(trusted, undefined)).toEqual({ ok: true, value: [run] });
    expect(await handlers.get(CHANNELS.listRuns)!(trusted)).toEqual({ ok: true, value: [run] });
  });

  it.each([
    [CHANNELS.getRun, ['7']],
    [CHANNELS.getRun, [1.5]],
    [CHANNELS.getRun, [-1]],
    [CHANNELS.getRun, []],
    [CHANNELS.getRun, [1, 2]],
    [CHANNELS.listRuns, [{ status: 'finished' }]],
    [CHANNELS.listRuns, [{ status: 'failed', sql: 'DROP TABLE runs' }]],
    [CHANNELS.getInfo, ['extra']],
    [CHANNELS.startRun, [{ name: 'not text' }]],
    [CHANNELS.startRun, ['x'.repeat((4 << 20) + 1)]],
    [CHANNELS.cancelRun, [0]],
    [CHANNELS.tagRun, [1, { add: [''] }]],
    [CHANNELS.tagRun, [1, { add: ['a,b'] }]],
    [CHANNELS.tagRun, [1, { add: ['x'], rename: 'y' }]],
    [CHANNELS.deleteRuns, [[]]],
    [CHANNELS.deleteRuns, [[1, 'all']]],
    [CHANNELS.exportRuns, [[1], 'xlsx']],
    [CHANNELS.importDatabase, [{ fileName: 'a.sqlite', mediaType: 'x', base64: 'not base64!' }]],
  ])('rejects %s with arguments %j before any service sees them', async (channel, args) => {
    const result = (await handlers.get(channel)!(trusted, ...args)) as ApiResult<unknown>;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('invalid-request');
    for (const fn of Object.values(api)) expect(fn).not.toHaveBeenCalled();
  });

  it('passes validated arguments, defaults filled in, to the service', async () => {
    await handlers.get(CHANNELS.tagRun)!(trusted, 3, { add: [' fast '] });
    expect(api.tagRun).toHaveBeenCalledWith(3, { add: ['fast'], remove: [] });
    await handlers.get(CHANNELS.exportRuns)!(trusted, [1, 2], 'csv-wide');
    expect(api.exportRuns).toHaveBeenCalledWith([1, 2], 'csv-wide');
  });

  it.each([
    ['another file', { url: 'file:///tmp/evil.html', parent: null }],
    ['a subframe', { url: 'file:///app/out/renderer/index.html', parent: {} }],
    ['a web page', { url: 'https://example.com/', parent: null }],
    ['no frame', null],
  ])('refuses a request from %s', async (_what, senderFrame) => {
    const result = (await handlers.get(CHANNELS.getRun)!({ senderFrame }, 7)) as ApiResult<unknown>;
    expect(result).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(api.getRun).not.toHaveBeenCalled();
  });

  it('turns a service failure into an internal error with its message', async () => {
    api.getRun.mockRejectedValueOnce(new Error('database is locked'));
    const result = (await handlers.get(CHANNELS.getRun)!(trusted, 7)) as ApiResult<unknown>;
    expect(result).toEqual({ ok: false, error: { code: 'internal', message: 'getRun failed: database is locked' } });
  });
});

describe('trust', () => {
  const file = { kind: 'file', path: '/app/out/renderer/index.html' } as const;
  it('accepts the loaded file with a hash or query, and the dev server origin', () => {
    expect(isTrustedFrame(file, { url: 'file:///app/out/renderer/index.html#/runs', parent: null })).toBe(true);
    expect(isTrustedFrame(file, { url: 'file:///app/out/renderer/index.html?x=1', parent: null })).toBe(true);
    const dev = { kind: 'url', url: 'http://localhost:5173/' } as const;
    expect(isTrustedFrame(dev, { url: 'http://localhost:5173/index.html', parent: null })).toBe(true);
    expect(isTrustedFrame(dev, { url: 'http://localhost:5174/', parent: null })).toBe(false);
  });
  it('refuses a file elsewhere that merely shares the name', () => {
    expect(isTrustedFrame(file, { url: 'file:///app/out/renderer/../../index.html', parent: null })).toBe(false);
    expect(isTrustedFrame(file, { url: 'not a url', parent: null })).toBe(false);
  });
  it('refuses, without throwing, file URLs with a host', () => {
    for (const url of ['file://host/app/out/renderer/index.html', 'file://evil.example/x', 'file://localhost:80/x']) {
      expect(isTrustedFrame(file, { url, parent: null })).toBe(false);
    }
  });
  it('trusts the dev server only in an unpackaged development build, and only on this machine', () => {
    const options = { indexPath: '/app/out/renderer/index.html', devUrl: 'http://localhost:5173/' };
    const dev = { kind: 'url', url: 'http://localhost:5173/' };
    expect(rendererEntry({ ...options, isPackaged: false, devBuild: true })).toEqual(dev);
    expect(rendererEntry({ ...options, isPackaged: false, devBuild: false })).toEqual(file);
    expect(rendererEntry({ ...options, isPackaged: true, devBuild: true })).toEqual(file);
    expect(rendererEntry({ ...options, isPackaged: false, devBuild: true, devUrl: undefined })).toEqual(file);
    for (const devUrl of ['http://evil.example:5173/', 'https://localhost/', 'not a url']) {
      expect(rendererEntry({ ...options, isPackaged: false, devBuild: true, devUrl })).toEqual(file);
    }
  });
});

describe('preload', () => {
  it('exposes exactly one function per channel as window.hetmem', async () => {
    await import('../src/preload/index.js');
    expect([...electron.exposed.keys()]).toEqual(['hetmem']);
    const hetmem = electron.exposed.get('hetmem') as Record<string, unknown>;
    expect(Object.keys(hetmem).sort()).toEqual([...Object.keys(CHANNELS), 'onRunEvent'].sort());
    for (const fn of Object.values(hetmem)) expect(typeof fn).toBe('function');
  });

  it('invokes the request channel and unwraps the envelope', async () => {
    await import('../src/preload/index.js');
    const hetmem = electron.exposed.get('hetmem') as HetmemApi;

    electron.invoke.mockResolvedValueOnce({ ok: true, value: [run] });
    await expect(hetmem.listRuns({ status: 'done' })).resolves.toEqual([run]);
    expect(electron.invoke).toHaveBeenLastCalledWith(CHANNELS.listRuns, { status: 'done' });

    electron.invoke.mockResolvedValueOnce({ ok: false, error: { code: 'internal', message: 'getRun failed: boom' } });
    await expect(hetmem.getRun(3)).rejects.toThrow('getRun failed: boom');
    expect(electron.invoke).toHaveBeenLastCalledWith(CHANNELS.getRun, 3);
  });

  it('passes run events to the page without the IPC event, and stops on unsubscribe', async () => {
    await import('../src/preload/index.js');
    const hetmem = electron.exposed.get('hetmem') as RunEventSource;
    const seen: unknown[] = [];
    const unsubscribe = hetmem.onRunEvent((e) => seen.push(e));
    const [channel, handler] = electron.on.mock.calls.at(-1) as [string, (...a: unknown[]) => void];
    expect(channel).toBe(RUN_EVENT_CHANNEL);
    handler({ sender: 'secret' }, { type: 'started', runId: 1, name: 'x' });
    expect(seen).toEqual([{ type: 'started', runId: 1, name: 'x' }]);
    unsubscribe();
    expect(electron.removeListener).toHaveBeenCalledWith(RUN_EVENT_CHANNEL, handler);
  });
});

describe('run detail', () => {
  it('accepts the numbers results really hold: NaN metrics and an Infinity bound', () => {
    const detail = {
      ...run,
      modelVersion: '0.1.0',
      experimentHash: 'abc',
      experiment: { name: 'stream' },
      metrics: { 'fault.rate': { value: NaN, unit: '1/s' } },
      series: [],
      histograms: [
        {
          name: 'faultServiceNs',
          unit: 'ns',
          bounds: [10, Infinity],
          counts: [1, 2],
          count: 3,
          sum: 40,
          min: 5,
          max: 20,
        },
      ],
      attribution: [],
      ops: [],
      snapshots: [],
    };
    expect(REQUESTS.getRun.response.safeParse(detail).success).toBe(true);
    expect(REQUESTS.getRun.response.safeParse({ ...detail, metrics: { x: { value: '1', unit: '' } } }).success).toBe(
      false,
    );
  });
});
