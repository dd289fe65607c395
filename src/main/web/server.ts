/**
 * The web transport: the built renderer and the Api over HTTP, run events over a
 * WebSocket, on 127.0.0.1 only. Every Api request and every event socket must carry the
 * per-launch token (a random 256-bit value printed in the URL), so no other local page or
 * user can drive the workbench; the Host header must name this server (a DNS-rebound
 * name is refused) and a browser's Origin must be this server's.
 *
 *   GET  /...              the bundled renderer (public code, no token needed)
 *   POST /api/NAME         body: the argument list as JSON; answer: an ApiResult
 *                          header: Authorization: Bearer TOKEN
 *   GET  /events?token=T   WebSocket: one RunEvent per message
 *
 * Numbers that JSON cannot hold (NaN, Infinity) travel in the wire encoding of
 * src/shared/wire.ts.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  dispatchRequest,
  isRequestName,
  type ApiResult,
  type HetmemApi,
  type RunEventSource,
} from '../../shared/api.js';
import { decodeWire, encodeWire } from '../../shared/wire.js';

export interface ServeOptions {
  api: HetmemApi;
  events: RunEventSource;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Default: a fresh random token. */
  token?: string;
  /** Request bodies above this are refused (an import carries a whole database). */
  maxBodyBytes?: number;
  onError?: (error: unknown) => void;
}

export interface RunningServer {
  /** The URL to open, token included. */
  url: string;
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export const HOST = '127.0.0.1';

const MEDIA_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** The same policy as the page's meta tag, sent as a header too. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; font-src 'self' data:; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function startServer(options: ServeOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const maxBody = options.maxBodyBytes ?? 512 << 20;
  const rendererDir = resolve(options.rendererDir);
  let origin = '';
  const allowedHosts = new Set<string>();

  const tokenMatches = (given: string | null | undefined): boolean => {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  /** Host names this server (not a DNS name rebound to 127.0.0.1); Origin, if sent, is this server. */
  const sameSite = (req: IncomingMessage): boolean =>
    allowedHosts.has(req.headers.host ?? '') && (req.headers.origin === undefined || req.headers.origin === origin);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.onError?.(error);
      if (!res.headersSent) reply(res, 500, { ok: false, error: { code: 'internal', message: String(error) } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    if (!sameSite(req)) return reply(res, 403, forbidden('this server answers only pages it served itself'));
    if (url.pathname.startsWith('/api/')) return handleApi(req, res, url.pathname.slice(5));
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, invalid('use GET for files'));
    // Browsers ask for it unprompted; the app has no icon to give.
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    return serveFile(res, url.pathname);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const auth = req.headers.authorization ?? '';
    if (!tokenMatches(auth.startsWith('Bearer ') ? auth.slice(7) : null)) {
      req.resume();
      return reply(res, 401, forbidden('missing or wrong token; open the URL that `npm run serve` printed'));
    }
    if (req.method !== 'POST') return reply(res, 405, invalid('Api requests are POST'));
    if (!isRequestName(name)) return reply(res, 404, invalid(`${JSON.stringify(name)} is not an Api request`));
    const body = await readBody(req, maxBody);
    if (body === null) return reply(res, 413, invalid(`the request is larger than ${maxBody} bytes`));
    let args: unknown;
    try {
      args = decodeWire(body.toString('utf8'));
    } catch (e) {
      return reply(res, 400, invalid(`${name}: the body is not JSON (${(e as Error).message})`));
    }
    if (!Array.isArray(args)) return reply(res, 400, invalid(`${name}: the body must be a JSON array of arguments`));
    const result = await dispatchRequest(options.api, name, args, options.onError);
    reply(res, result.ok ? 200 : result.error.code === 'invalid-request' ? 400 : 500, result);
  }

  function serveFile(res: ServerResponse, pathname: string): void {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return reply(res, 400, invalid('bad path'));
    }
    const file = resolve(join(rendererDir, normalize(decoded === '/' ? '/index.html' : decoded)));
    if (file !== rendererDir && !file.startsWith(rendererDir + sep)) return reply(res, 404, invalid('not found'));
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return reply(res, 404, invalid('not found'));
      size = st.size;
    } catch {
      return reply(res, 404, invalid('not found'));
    }
    res.writeHead(200, {
      'Content-Type': MEDIA_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': size,
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      // The token is in the page's URL: never send it on as a referrer.
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    });
    createReadStream(file).pipe(res);
  }

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const unsubscribe = options.events.onRunEvent((event) => {
    const text = encodeWire(event);
    for (const client of sockets.clients) if (client.readyState === client.OPEN) client.send(text);
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', origin);
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!sameSite(req)) return refuse('403 Forbidden');
    if (url.pathname !== '/events') return refuse('404 Not Found');
    if (!tokenMatches(url.searchParams.get('token'))) return refuse('401 Unauthorized');
    sockets.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      // Events flow one way; anything the page sends is ignored.
      ws.on('message', () => undefined);
    });
  });

  return new Promise((resolvePromise, rejectPromise) => {
    server.once('error', rejectPromise);
    server.listen(options.port ?? 0, HOST, () => {
      const { port } = server.address() as AddressInfo;
      origin = `http://${HOST}:${port}`;
      allowedHosts.add(`${HOST}:${port}`).add(`localhost:${port}`);
      resolvePromise({
        url: `${origin}/?token=${token}`,
        origin,
        port,
        token,
        close: () =>
          new Promise<void>((done) => {
            unsubscribe();
            for (const client of sockets.clients) client.terminate();
            sockets.close();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function forbidden(message: string): ApiResult<never> {
  return { ok: false, error: { code: 'forbidden', message } };
}
function invalid(message: string): ApiResult<never> {
  return { ok: false, error: { code: 'invalid-request', message } };
}

function reply(res: ServerResponse, status: number, body: ApiResult<unknown>): void {
  const text = encodeWire(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(text);
}

/** The whole body, or null once it passes `limit` bytes (the rest is drained, not kept). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolvePromise, rejectPromise) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolvePromise(over ? null : Buffer.concat(chunks)));
    req.on('error', rejectPromise);
  });
}
