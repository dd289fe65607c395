/**
 * A real redis-server (Debian's package) for the tests and the bench: 127.0.0.1, a free port, a
 * temporary folder, no persistence. `.ci/run` installs redis-server when it is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  stop: () => Promise<void>;
}

/** A port nobody listens on right now (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.on('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? res(address.port) : rej(new Error('no port'))));
    });
  });
}

/** On `port` if given (a restart on the same address), else on a free port. */
export async function startRedis(port?: number): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} is missing: install Debian's redis-server (.ci/run does)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'hetmem-redis-'));
  // Another process may take the port between freePort and the bind: try a few.
  for (let attempt = 0; ; attempt++) {
    const chosen = port ?? (await freePort());
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const ready = await waitReady(child);
    if (ready === true) {
      return {
        url: `redis://127.0.0.1:${chosen}`,
        port: chosen,
        pid: child.pid as number,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((res) => child.once('exit', res));
            child.kill('SIGTERM');
            await exited;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    if (attempt >= 4 || port !== undefined) throw new Error(`redis-server did not start: ${ready}`);
  }
}

/** True once redis-server says it accepts connections, else its output. */
function waitReady(child: ChildProcess): Promise<true | string> {
  return new Promise((res) => {
    let output = '';
    const timer = setTimeout(() => res(`no "Ready to accept connections" within 10 s:\n${output}`), 10_000);
    const onData = (d: Buffer) => {
      output += d;
      if (/Ready to accept connections/.test(output)) {
        clearTimeout(timer);
        res(true);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res(`exited with ${code}:\n${output}`);
    });
  });
}
