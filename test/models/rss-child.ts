// One streaming run in a fresh Node process, for layer-stream-rss.test.ts: prints the process's RSS
// once the engine runtime is up (backend created, threads started) and its peak RSS after loading the
// model and decoding, so the difference is what the model cost the host.
import { createWasmBackend } from '../../src/backends/wasm/wasm-backend.ts';
import { loadModel } from '../../src/engine/load.ts';
import { argmax } from '../../src/engine/sampling.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { N_CTX } from './stream-models.ts';

const [file, capArg, threadsArg] = process.argv.slice(2);
const maxMemoryBytes = capArg === '0' ? undefined : Number(capArg);
const backend = await createWasmBackend({ threads: Number(threadsArg), maxMemoryBytes });
const runtimeRss = process.memoryUsage().rss;
const m = await loadModel(await openNodeFile(file), backend, { nCtx: N_CTX, maxMemoryBytes });
const prompt = Int32Array.from(m.tokenizer.encode('Once upon a time'));
const ids = [argmax(await m.decoder.forward(prompt, 0, false))];
for (let i = 0; i < 5; i++) ids.push(argmax(await m.decoder.forward(Int32Array.of(ids[i]), prompt.length + i, false)));
const out = { runtimeRss, peakRss: process.resourceUsage().maxRSS * 1024, wasmBytes: backend.memoryBytes(), ids, streamed: m.residency !== null };
await m.dispose();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
