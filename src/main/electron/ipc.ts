/**
 * The Electron transport, main side: one `ipcMain.handle` per Api request. Before a
 * service sees a request, the sender's frame must be trusted and the arguments must
 * parse with the request's zod schema (`dispatchRequest`, shared with the web server).
 * Every answer is an `ApiResult` envelope.
 *
 * Electron is imported for types only, so this file runs under vitest with a fake ipcMain.
 */
import type { IpcMainInvokeEvent, WebFrameMain } from 'electron';
import { dispatchRequest, REQUESTS, type ApiResult, type HetmemApi, type RequestName } from '../../shared/api.js';

/** The part of ipcMain this module uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export type SenderCheck = (frame: WebFrameMain | null) => boolean;

export interface RegisterOptions {
  /** Called with every failure, for the log; the renderer sees only the envelope. */
  onError?: (channel: string, error: unknown) => void;
}

/**
 * Registers a handler per request and returns a function that removes them all.
 * `api` is the injected services; this module knows nothing of the store behind them.
 */
export function registerApi(
  ipc: IpcMainLike,
  api: HetmemApi,
  isTrustedSender: SenderCheck,
  options: RegisterOptions = {},
): () => void {
  const names = Object.keys(REQUESTS) as RequestName[];
  for (const name of names) {
    const { channel } = REQUESTS[name];
    ipc.handle(channel, async (event, ...args): Promise<ApiResult<unknown>> => {
      if (!isTrustedSender(event.senderFrame)) {
        options.onError?.(channel, new Error(`untrusted sender ${event.senderFrame?.url ?? '(no frame)'}`));
        return {
          ok: false,
          error: { code: 'forbidden', message: 'This request came from a page the workbench did not load.' },
        };
      }
      return dispatchRequest(api, name, args, (error) => options.onError?.(channel, error));
    });
  }
  return () => {
    for (const name of names) ipc.removeHandler(REQUESTS[name].channel);
  };
}
