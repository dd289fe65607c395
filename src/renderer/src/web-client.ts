/**
 * The web transport, browser side: the Api over `fetch` (POST /api/NAME with the token as
 * a bearer credential) and run events over a WebSocket that reconnects when it drops.
 * The token comes from the URL that `npm run serve` printed; it is kept in this tab's
 * sessionStorage and removed from the address bar, so a reload still works and the token
 * is not left on screen.
 */
import { CHANNELS, type ApiResult, type HetmemApi, type RunEvent, type RunEventSource } from '../../shared/api.js';
import { decodeWire, encodeWire } from '../../shared/wire.js';

const TOKEN_KEY = 'hetmem.token';

export function takeToken(): string | null {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export function webClient(token: string): HetmemApi & RunEventSource {
  async function call<T>(name: string, ...args: unknown[]): Promise<T> {
    const response = await fetch(`/api/${name}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: encodeWire(args),
    });
    const result = decodeWire(await response.text()) as ApiResult<T>;
    if (result.ok) return result.value;
    throw new Error(result.error.message);
  }

  const listeners = new Set<(event: RunEvent) => void>();
  let socket: WebSocket | null = null;
  const connect = () => {
    if (socket || listeners.size === 0) return;
    const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/events?token=${encodeURIComponent(token)}`);
    socket = ws;
    ws.onmessage = (m) => {
      const event = decodeWire(String(m.data)) as RunEvent;
      for (const l of listeners) l(event);
    };
    ws.onclose = () => {
      socket = null;
      // The server restarted or the network blinked: try again while someone listens.
      if (listeners.size > 0) setTimeout(connect, 1000);
    };
  };

  const api = Object.fromEntries(
    Object.keys(CHANNELS).map((name) => [name, (...args: unknown[]) => call(name, ...args)]),
  ) as unknown as HetmemApi;
  return {
    ...api,
    onRunEvent(listener) {
      listeners.add(listener);
      connect();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) socket?.close();
      };
    },
  };
}
