// llama.cpp's llama-server and RPC worker for tests: the binaries come from scripts/build-llama-cpp.sh
// (built once into a cache, so a fresh machine pays for it once); processes bind loopback on free ports.
// Also the process plumbing the `cli serve` tests share (test/serve/cli-serve.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { llamaBinDir } from '../scripts/llama-cpp.ts';

export { llamaBinDir };

/** A port nothing listens on right now (the OS picks it; closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  /** http://127.0.0.1:PORT (for llama-server; the RPC worker's address is 127.0.0.1:PORT) */
  url: string;
  port: number;
  proc: ChildProcess;
  /** the process's output so far (the last 20 kB) */
  log(): string;
  /** SIGTERM, SIGKILL after 3 s; resolves with the exit code once it exited */
  stop(): Promise<number | null>;
  /** SIGKILL now, as a crash or a pulled plug would: resolves once it exited */
  kill(): Promise<number | null>;
}

/** Keeps a child's output and gives it stop/kill; `port` is where it listens (0: not known yet). */
export function trackProcess(proc: ChildProcess, url: string, port: number): ServerProcess {
  let log = '';
  const keep = (d: Buffer): void => { log = (log + String(d)).slice(-20_000); };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.exitCode);
    else proc.once('exit', (code) => resolve(code));
  });
  const end = async (signal: NodeJS.Signals): Promise<number | null> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const t = signal === 'SIGTERM' ? setTimeout(() => proc.kill('SIGKILL'), 3000) : undefined;
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  return { url, port, proc, log: () => log, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

function spawnServer(bin: string, args: string[], port: number, url: string): ServerProcess {
  return trackProcess(spawn(path.join(llamaBinDir(), bin), args, { stdio: ['ignore', 'pipe', 'pipe'] }), url, port);
}

/** Polls `ready` until it says yes; fails with the process's output if it exits or the time runs out. */
export async function waitUntil(p: ServerProcess, what: string, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (p.proc.exitCode !== null || p.proc.signalCode !== null) throw new Error(`${what} exited (${p.proc.exitCode ?? p.proc.signalCode}):\n${p.log().slice(-3000)}`);
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  await p.kill();
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s:\n${p.log().slice(-3000)}`);
}

export interface LlamaServerOptions {
  /** the GGUF to serve; without it pass --models-dir (router mode) in args */
  model?: string;
  /** more llama-server flags (--api-key K, --rpc …, -ngl 99 …) */
  args?: string[];
  port?: number;
}

/**
 * llama-server on 127.0.0.1, ready once GET /health answers 200 (the model is loaded). One thread and
 * one slot by default: the test machines are small, and a second request then waits for the first.
 */
export async function startLlamaServer({ model, args = [], port }: LlamaServerOptions): Promise<ServerProcess> {
  const p = port ?? await freePort();
  const url = `http://127.0.0.1:${p}`;
  const server = spawnServer('llama-server', [...(model ? ['-m', model] : []), '--host', '127.0.0.1', '--port', String(p),
    '-t', '1', '-np', '1', '--no-webui', ...args], p, url);
  await waitUntil(server, 'llama-server', () => fetch(`${url}/health`).then((r) => r.status === 200, () => false));
  return server;
}

/** llama.cpp's RPC worker (a backend another machine's llama-server offloads to), on 127.0.0.1. */
export async function startRpcServer({ port, args = [] }: { port?: number; args?: string[] } = {}): Promise<ServerProcess> {
  const p = port ?? await freePort();
  const server = spawnServer('ggml-rpc-server', ['-H', '127.0.0.1', '-p', String(p), ...args], p, `127.0.0.1:${p}`);
  const listening = (): Promise<boolean> => new Promise((resolve) => {
    const s = net.connect(p, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
  await waitUntil(server, 'ggml-rpc-server', listening);
  return server;
}
