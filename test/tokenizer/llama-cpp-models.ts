// llama.cpp's own vocab files (models/ggml-vocab-*.gguf with their test-tokenizer-0 vectors) at the
// commit node-llama-cpp ships. Several are too big for the fixture store, so they are taken from
// the git bundle inside node-llama-cpp (llama/gitRelease.bundle, MIT) into a cache outside the repo:
// a bare clone, from which only the files a test asks for are written out. Test data only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { casesOf, type VocabCase } from './helpers.ts';

/** The llama.cpp commit of the bundle (and of the fixtures' .out files). */
export const LLAMA_CPP_COMMIT = 'de3ff815ea7d559ee917f063901b8986f038abc6';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bundle = (): string => path.join(repo, 'node_modules', 'node-llama-cpp', 'llama', 'gitRelease.bundle');

function gitAvailable(): boolean {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let cached: { dir: string | null; why: string } | undefined;

/**
 * The folder holding models/ggml-vocab-*: $LLAMA_CPP_DIR (a llama.cpp checkout at that commit) if
 * set, else the cache $LLAMA_CPP_CACHE or <tmpdir>/llama.cpp-<commit>, cloned from the bundle on
 * first use. `dir` is null (with the reason) only when neither is possible.
 */
export function llamaCppSource(): { dir: string | null; why: string } {
  if (cached) return cached;
  const checkout = process.env.LLAMA_CPP_DIR;
  if (checkout) return (cached = { dir: checkout, why: '' });
  if (!gitAvailable()) return (cached = { dir: null, why: 'git is not installed, so llama.cpp\'s vocab files cannot be read' });
  const cache = process.env.LLAMA_CPP_CACHE ?? path.join(tmpdir(), `llama.cpp-${LLAMA_CPP_COMMIT.slice(0, 8)}`);
  const git = path.join(cache, 'repo.git');
  if (!existsSync(git)) {
    if (!existsSync(bundle())) return (cached = { dir: null, why: `node-llama-cpp's ${bundle()} is missing` });
    mkdirSync(cache, { recursive: true });
    // clone beside the target and rename, so parallel test files never see half a clone
    const tmp = mkdtempSync(path.join(cache, 'clone-'));
    execFileSync('git', ['clone', '--quiet', '--bare', bundle(), path.join(tmp, 'repo.git')], { stdio: 'ignore' });
    try { renameSync(path.join(tmp, 'repo.git'), git); } catch { /* another worker won */ }
    rmSync(tmp, { recursive: true, force: true });
  }
  const head = execFileSync('git', ['--git-dir', git, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  if (head !== LLAMA_CPP_COMMIT) return (cached = { dir: null, why: `the bundle is at ${head}, not ${LLAMA_CPP_COMMIT}` });
  return (cached = { dir: cache, why: '' });
}

/** Path of models/<name> (written out of the bare clone when needed), or null if unavailable. */
export function llamaCppModelFile(name: string): string | null {
  const { dir } = llamaCppSource();
  if (!dir) return null;
  const file = path.join(dir, 'models', name);
  if (existsSync(file)) return file;
  const git = path.join(dir, 'repo.git');
  if (!existsSync(git)) return null;
  const data = execFileSync('git', ['--git-dir', git, 'show', `HEAD:models/${name}`], { maxBuffer: 1 << 28 });
  mkdirSync(path.dirname(file), { recursive: true });
  const part = `${file}.${process.pid}.part`;
  writeFileSync(part, data);
  renameSync(part, file);
  return file;
}

/** models/ggml-vocab-<name>.gguf and its test vectors, or null if unavailable. */
export function llamaCppVocab(name: string): { file: string; cases: VocabCase[] } | null {
  const file = llamaCppModelFile(`ggml-vocab-${name}.gguf`);
  if (!file || !llamaCppModelFile(`ggml-vocab-${name}.gguf.inp`) || !llamaCppModelFile(`ggml-vocab-${name}.gguf.out`)) return null;
  return { file, cases: casesOf(file) };
}

/** A text file of llama.cpp's source at that commit (e.g. grammars/json.gbnf); throws with the reason when unavailable. */
export function llamaCppSourceText(rel: string): string {
  const { dir, why } = llamaCppSource();
  if (!dir) throw new Error(`llama.cpp's ${rel} is not available: ${why}`);
  const git = path.join(dir, 'repo.git');
  if (!existsSync(git)) return readFileSync(path.join(dir, rel), 'utf8');
  return execFileSync('git', ['--git-dir', git, 'show', `HEAD:${rel}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
}
