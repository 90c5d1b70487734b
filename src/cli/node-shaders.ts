// The WGSL files for the WebGPU backend when it runs in plain Node (the CLI under tsx), where
// Vite's import.meta.glob does not inline them; read once from shaders/ beside src/.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { provideShaderSources } from '../backends/webgpu/shader-source.ts';

const SHADERS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shaders');

function read(root: string, dir: string): Record<string, string> {
  const d = path.join(root, dir);
  return Object.fromEntries(readdirSync(d).filter((f) => f.endsWith('.wgsl')).map((f) => [f, readFileSync(path.join(d, f), 'utf8')]));
}

let done = false;
/** `root`: another shaders/ folder (bench/gpu-report.ts bundled, away from the repo). */
export function loadShaderFiles(root = SHADERS): void {
  if (done) return;
  provideShaderSources(read(root, 'ops'), read(root, 'quant'));
  done = true;
}
