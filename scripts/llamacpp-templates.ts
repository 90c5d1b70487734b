// Renders the edge families' chat templates with llama.cpp's own Jinja engine (llama-server's
// POST /apply-template) and writes test/engine/llamacpp-templates.json, the reference that
// test/engine/chat-template-families.test.ts checks our renderer against. Not part of `npm test`:
// it needs a llama-server binary (built from llama.cpp with -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF).
//   LLAMA_SERVER=/path/to/llama-server npx tsx scripts/llamacpp-templates.ts
// The vocabulary a case runs with only supplies bos_token / eos_token to the template.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NAMED_TEMPLATES } from '../src/engine/chat-templates/index.ts';
import { packageTemplate, TEMPLATE_CASES, type TemplateCase } from '../test/engine/template-cases.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = process.env.LLAMA_SERVER;
if (!server) throw new Error('Set LLAMA_SERVER to a llama-server binary.');
const fixtures = process.env.FIXTURES_DIR ?? path.resolve(root, '../shared/fixtures');

function templateText(c: TemplateCase): string {
  const t = c.template;
  if (t.kind === 'named') return NAMED_TEMPLATES[t.name].template;
  return t.kind === 'package' ? packageTemplate(t.pkg) : t.text;
}

async function start(gguf: string, templateFile: string, port: number): Promise<ChildProcess> {
  const p = spawn(server!, ['-m', gguf, '--chat-template-file', templateFile, '--jinja', '-c', '512', '--port', String(port),
    '--host', '127.0.0.1', '--no-webui', '-t', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr!.on('data', (d) => { log += String(d); });
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (p.exitCode !== null) throw new Error(`llama-server exited: ${log.slice(-2000)}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (ok) return p;
  }
  p.kill();
  throw new Error('llama-server did not come up');
}

const localDay = (d: Date): string =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

const dir = mkdtempSync(path.join(tmpdir(), 'tpl-'));
const out: Record<string, { prompt: string; renderedOn?: string }> = {};
let port = 18200;
for (const c of TEMPLATE_CASES) {
  const file = path.join(dir, `${c.name}.jinja`);
  writeFileSync(file, templateText(c));
  const p = await start(path.join(fixtures, c.vocab), file, port++);
  try {
    const res = await fetch(`http://127.0.0.1:${port - 1}/apply-template`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: c.messages, ...(c.kwargs ? { chat_template_kwargs: c.kwargs } : {}) }),
    });
    if (!res.ok) throw new Error(`${c.name}: HTTP ${res.status} ${await res.text()}`);
    const { prompt } = await res.json() as { prompt: string };
    // strftime_now reads the server's local clock: keep the day, so the test can pass the same one
    out[c.name] = c.usesClock ? { prompt, renderedOn: localDay(new Date()) } : { prompt };
    console.log(`${c.name}: ${prompt.length} chars`);
  } finally {
    p.kill();
    await new Promise((r) => p.once('exit', r));
  }
}
writeFileSync(path.join(root, 'test/engine/llamacpp-templates.json'), `${JSON.stringify(out, null, 2)}\n`);
