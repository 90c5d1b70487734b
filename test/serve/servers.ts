// The two servers of the conformance suite, as child processes on loopback: our `cli serve` (run as
// a user runs it) and llama.cpp's llama-server (built by scripts/build-llama-cpp.sh, cached).
// startLlamaServer matches test/llama-server.ts (being written beside this) so the two can merge.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let binDir: string | undefined;

/** The directory with llama-server (the script builds it the first time: ~20 min on 2 cores). */
export function llamaBinDir(): string {
  binDir ??= execFileSync('bash', [path.join(root, 'scripts/build-llama-cpp.sh')], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  }).trim().split('\n').pop()!;
  return binDir;
}

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
  url: string;
  proc: ChildProcess;
  /** stderr so far */
  log(): string;
  /** SIGTERM (SIGKILL after 5 s); resolves with the exit code once it exited */
  stop(): Promise<number | null>;
}

function track(proc: ChildProcess, url: string): ServerProcess & { exited: Promise<number | null> } {
  let log = '';
  proc.stderr!.on('data', (d) => { log = (log + String(d)).slice(-50_000); });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    url, proc, exited, log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

async function waitHealthy(p: ServerProcess & { exited: Promise<number | null> }, what: string, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let gone = false;
  void p.exited.then(() => { gone = true; });
  while (Date.now() < until) {
    if (gone) throw new Error(`${what} exited:\n${p.log().slice(-3000)}`);
    if (await fetch(`${p.url}/health`).then((r) => r.status === 200, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  await p.stop();
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s:\n${p.log().slice(-3000)}`);
}

/** llama-server on 127.0.0.1, one thread and one slot (requests wait their turn, as in cli serve). */
export async function startLlamaServer({ model, args = [] }: { model: string; args?: string[] }): Promise<ServerProcess> {
  const port = await freePort();
  const proc = spawn(path.join(llamaBinDir(), 'llama-server'),
    ['-m', model, '--host', '127.0.0.1', '--port', String(port), '-t', '1', '-np', '1', '--no-webui', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  const p = track(proc, `http://127.0.0.1:${port}`);
  await waitHealthy(p, 'llama-server');
  return p;
}

/**
 * `cli serve --port 0` as a child process: the URL comes from its `listening on` line; ready once
 * /health says 200 (the model is loaded). `onListening` sees the URL before that.
 */
export async function startCliServe({ model, args = [], onListening }: {
  model: string; args?: string[]; onListening?: (url: string) => Promise<void> | void;
}): Promise<ServerProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--model', model, '--port', '0', ...args],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const p = track(proc, '');
  p.url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cli serve printed no address:\n${p.log()}`)), 60_000);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(p.log());
      if (m) { clearTimeout(timer); proc.stderr!.off('data', onData); resolve(m[1]); }
    };
    proc.stderr!.on('data', onData);
    void p.exited.then(() => reject(new Error(`cli serve exited:\n${p.log()}`)));
  });
  await onListening?.(p.url);
  await waitHealthy(p, 'cli serve');
  return p;
}
