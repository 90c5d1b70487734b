// Where scripts/build-llama-cpp.sh puts llama.cpp's tools (it builds them the first time: ~20 min on
// 2 cores). Shared by the tests (llama-server, llama-quantize, …) and `npm run bench` (llama-bench).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let binDir: string | undefined;

/** The directory with the tools (runs the build script, which only prints it once they are built). */
export function llamaBinDir(): string {
  binDir ??= execFileSync('bash', [path.join(root, 'scripts/build-llama-cpp.sh')], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20,
  }).trim().split('\n').pop()!;
  return binDir;
}
