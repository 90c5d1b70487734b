// WebGPU in Node: Dawn (the `webgpu` npm package, the engine inside Chromium) on Vulkan. Node-only:
// the CLI and tests import it, the app never does (the browser has navigator.gpu).
// Without a system Vulkan loader we fall back to the one Debian's chromium ships, with its
// SwiftShader driver, so it runs on machines without a GPU too.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { EngineError } from '../shared/errors.ts';

const CHROMIUM_DIR = '/usr/lib/chromium';
const SWIFTSHADER_ICD = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;
const ENV_HINT = `install a Vulkan driver, or use SwiftShader: LD_LIBRARY_PATH=${CHROMIUM_DIR} VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`;
// glibc's; not in os.constants.dlopen. Keeps a library mapped after process.dlopen gives up on it.
const RTLD_NODELETE = 0x1000;

/**
 * Loads libvulkan.so.1 into the process so that Dawn's dlopen("libvulkan.so.1") finds it.
 * LD_LIBRARY_PATH is read once at process start, so setting it now would not help: instead load
 * the library by path. process.dlopen then throws (it is no Node addon), but RTLD_NODELETE keeps
 * it mapped, and glibc matches later dlopen calls by its soname. Returns false when none is found.
 */
function preloadVulkan(path: string): boolean {
  const flags = os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE;
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, path, flags);
  } catch (e) {
    return /did not self-register|napi/i.test((e as Error).message);
  }
  return true;
}

/** A system Vulkan loader when there is one (a real GPU), else Chromium's with SwiftShader. */
function setUpVulkan(): void {
  if (process.platform !== 'linux' || process.env.LD_LIBRARY_PATH || process.env.VK_ICD_FILENAMES) return;
  if (preloadVulkan('libvulkan.so.1') || !existsSync(SWIFTSHADER_ICD)) return;
  if (preloadVulkan(`${CHROMIUM_DIR}/libvulkan.so.1`)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}

let gpu: Promise<GPU> | undefined;

/** Dawn's GPU object (what navigator.gpu is in a browser); BACKEND error when Dawn or Vulkan is missing. */
export function nodeGPU(): Promise<GPU> {
  gpu ??= (async () => {
    setUpVulkan();
    let dawn: { create(flags: string[]): GPU; globals: object };
    try {
      dawn = await import('webgpu');
    } catch (e) {
      throw new EngineError('BACKEND', `WebGPU in Node needs the webgpu package (npm install webgpu), which failed to load: ${(e as Error).message}`, { cause: e });
    }
    // GPUBufferUsage, GPUMapMode, … : the constants a browser defines globally
    Object.assign(globalThis, dawn.globals);
    const g = dawn.create([]);
    if (!(await g.requestAdapter())) throw new EngineError('BACKEND', `Dawn found no GPU adapter (no Vulkan driver?): ${ENV_HINT}; or use --backend wasm.`);
    return g;
  })();
  gpu.catch(() => { gpu = undefined; });
  return gpu;
}
