// Bench results → a console table, a hand-written SVG bar chart and the README's Benchmarks section.
import type { CellResult } from './measure.ts';
import { streamingRows, type StreamingOptions, type StreamingRow } from './streaming.ts';
import { CONSTRAINED_TARGET, constrainedTable, type ConstrainedOptions, type ConstrainedRow } from './constrained.ts';

export interface BenchCell extends CellResult {
  model: string;
  quant: string;
  fileBytes: number;
  bytesPerToken: number;
  /** decode tok/s the memory bandwidth at this thread count allows */
  rooflineTokPerSec: number;
}

/** A model no wasm32 engine can hold resident, run under a cap (bench/make-8b.ts, by hand). */
export interface BigRun {
  model: string; quant: string; fileBytes: number; host: string; capBytes: number; promptTokens: number; genTokens: number;
  prefillTokPerSec: number; decodeTokPerSec: number; peakMemoryBytes: number; residentLayers: number; layers: number;
  streamedBytesPerToken: number;
}

export interface BenchResults {
  date: string;
  quick: boolean;
  /** caveat printed with the table (e.g. a machine shared with other work) */
  note?: string;
  /** written after each cell while a run is in progress */
  partial?: boolean;
  environment: { userAgent: string; cores: number; node: string; isolated: boolean };
  /** runs asked for per cell (runs1b for the Llama-3.2-1B shape); the report counts each cell's own */
  settings: { promptTokens: number; genTokens: number; runs: number; runs1b?: number };
  /** streaming read bandwidth in bytes/s by thread count */
  bandwidth: Record<string, number>;
  cells: BenchCell[];
  /** bench/host-paths.ts: sampler and tokenizer timings against their targets */
  hostPaths?: { name: string; ms: number; targetMs: number }[];
  /** each family's speed ÷ Llama's at the same shape, quant and threads, from paired Node runs */
  families?: { model: string; quant: string; threads: number; decodeRatio: number; prefillRatio: number; pairs: number }[];
  /** the layer-streaming curve (`npm run bench -- --streaming`), measured on its own date */
  streaming?: { date: string; settings: StreamingOptions; rows: StreamingRow[]; note?: string; big?: BigRun[] };
  /** constrained vs unconstrained decode on a 151k vocabulary (`npm run bench -- --constrained-only`), measured on its own date */
  constrained?: { date: string; settings: ConstrainedOptions; rows: ConstrainedRow[]; note?: string };
}

/** "5", or "5 (llama-3.2-1b-shape: 3)" when a model's cells ran a different number of times. */
function medianOf(r: BenchResults): string {
  const perModel = new Map(r.cells.map((c) => [c.model, c.ours.runs.length]));
  const [first] = perModel.values();
  if (first === undefined) return String(r.settings.runs);
  const other = [...perModel].filter(([, n]) => n !== first).map(([m, n]) => `${m}: ${n}`);
  return other.length ? `${first} (${other.join(', ')})` : String(first);
}
const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** The native column's text when llama-bench gave no number: not built, failed, or not run (older results, --no-native). */
const noNative = (c: BenchCell) => (c.nativeMissing ? 'missing' : c.nativeError ? 'failed' : '–');

export function rows(r: BenchResults): string[][] {
  const head = ['model', 'quant', 'thr', 'prefill ours', 'prefill wllama', 'prefill native', 'ours ÷ wllama', 'ours ÷ native',
    'decode ours', 'decode wllama', 'decode native', 'ours ÷ wllama', 'ours ÷ native', 'roofline', 'peak mem', 'node/browser (pp, tg)',
    'native-128 (pp, tg)', 'ours ÷ native-128 (pp, tg)'];
  const theirs = (x: number | undefined) => (x === undefined ? 'failed' : f1(x));
  const vs = (ours: number, x: number | undefined) => (x === undefined ? '–' : ratio(ours, x));
  const native = (c: BenchCell, x: number | undefined) => (x === undefined ? noNative(c) : f1(x));
  const body = r.cells.map((c) => [
    c.model, c.quant, String(c.threads),
    f1(c.ours.prefillTokPerSec), theirs(c.wllama?.prefillTokPerSec), native(c, c.native?.prefillTokPerSec),
    vs(c.ours.prefillTokPerSec, c.wllama?.prefillTokPerSec), vs(c.ours.prefillTokPerSec, c.native?.prefillTokPerSec),
    f1(c.ours.decodeTokPerSec), theirs(c.wllama?.decodeTokPerSec), native(c, c.native?.decodeTokPerSec),
    vs(c.ours.decodeTokPerSec, c.wllama?.decodeTokPerSec), vs(c.ours.decodeTokPerSec, c.native?.decodeTokPerSec),
    pct(c.ours.decodeTokPerSec / c.rooflineTokPerSec), `${(c.ours.peakMemoryBytes / 2 ** 20).toFixed(0)} MiB`,
    c.node ? `${ratio(c.node.prefillTokPerSec, c.ours.prefillTokPerSec)}, ${ratio(c.node.decodeTokPerSec, c.ours.decodeTokPerSec)}` : '–',
    // the optional 128-bit build: '–' where it is not built (or the run predates it)
    c.native128 ? `${f1(c.native128.prefillTokPerSec)}, ${f1(c.native128.decodeTokPerSec)}` : c.native128Error ? 'failed' : '–',
    c.native128 ? `${ratio(c.ours.prefillTokPerSec, c.native128.prefillTokPerSec)}, ${ratio(c.ours.decodeTokPerSec, c.native128.decodeTokPerSec)}` : '–',
  ]);
  return [head, ...body];
}

/**
 * Each family's decode and prefill beside Llama's at the same shape and quant (model ids
 * `<family>-155m` vs `llama-155m`): what its extra ops (q/k norms, sandwich norms, GELU) cost.
 * The browser medians come from cells run minutes apart; the paired Node ratios (when measured)
 * from neighbouring runs, which this machine's swings disturb far less.
 */
export function familyRows(r: BenchResults): string[][] {
  const base = (c: BenchCell) => r.cells.find((b) => b.model === 'llama-155m' && b.quant === c.quant && b.threads === c.threads);
  const paired = (c: BenchCell) => r.families?.find((f) => f.model === c.model && f.quant === c.quant && f.threads === c.threads);
  const body = r.cells.filter((c) => c.model !== 'llama-155m' && c.model.endsWith('-155m') && base(c)).map((c) => {
    const b = base(c)!;
    const p = paired(c);
    return [c.model, c.quant, String(c.threads), f1(c.ours.decodeTokPerSec), f1(b.ours.decodeTokPerSec),
      ratio(c.ours.decodeTokPerSec, b.ours.decodeTokPerSec), ratio(c.ours.prefillTokPerSec, b.ours.prefillTokPerSec),
      p ? `${p.decodeRatio.toFixed(2)}×` : '–', p ? `${p.prefillRatio.toFixed(2)}×` : '–'];
  });
  return body.length ? [['model', 'quant', 'thr', 'decode', 'llama decode', 'decode ÷ llama', 'prefill ÷ llama',
    'paired decode ÷ llama', 'paired prefill ÷ llama'], ...body] : [];
}

function pad(t: string[][]): string {
  const w = t[0].map((_, i) => Math.max(...t.map((row) => row[i].length)));
  return t.map((row) => row.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')).join('\n');
}

export function textTable(r: BenchResults): string {
  const fam = familyRows(r);
  return pad(rows(r)) + (fam.length ? `\n\nfamilies vs llama at the same shape (ours):\n${pad(fam)}` : '');
}

const mdTable = (t: string[][]): string[] => [
  `| ${t[0].join(' | ')} |`,
  `| ${t[0].map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`,
  ...t.slice(1).map((row) => `| ${row.join(' | ')} |`),
];

export function markdownSection(r: BenchResults, svgName: string): string {
  const t = rows(r);
  const bw = Object.entries(r.bandwidth).map(([k, v]) => `${(v / 1e9).toFixed(1)} GB/s with ${k} thread(s)`).join(', ');
  return [
    '## Benchmarks',
    '',
    `\`npm run bench\` runs our WASM engine and [wllama](https://github.com/ngxson/wllama) (llama.cpp compiled to WASM)`,
    'on the same GGUF in headless Chromium (cross-origin isolated, so both get threads; each run in a fresh browser),',
    ...(r.cells.some((c) => c.native || c.nativeError) ? [
      'and native llama.cpp (`llama-bench`, built by `scripts/build-llama-cpp.sh` for this CPU: what the hardware allows outside a browser),',
      `runs interleaved, median of ${medianOf(r)}: prefill of ${r.settings.promptTokens} tokens, then ${r.settings.genTokens} greedy decode steps (tok/s;`,
      `llama-bench: pp${r.settings.promptTokens}, and tg${r.settings.genTokens} at depth ${r.settings.promptTokens}). The ratios are ours ÷ wllama and ours ÷ native from the same runs.`,
    ] : [`runs interleaved, median of ${medianOf(r)}: prefill of ${r.settings.promptTokens} tokens, then ${r.settings.genTokens} greedy decode steps (tok/s).`]),
    'Bench models have random weights at real shapes and are written by our own `cli quantize`',
    '(`bench/make-models.ts`). "roofline" is our decode speed as a share of what memory bandwidth allows',
    `(bytes streamed per token ÷ ${bw}, measured by a WASM SIMD streaming kernel in the page).`,
    `"node/browser" compares \`cli bench\` in Node with the browser numbers. Latest run: ${r.date}${r.quick ? ' (--quick)' : ''},`,
    `${r.environment.cores} cores, ${r.environment.userAgent.replace(/^.*(HeadlessChrome\/[\d.]+).*$/, '$1')}; raw data and chart in \`bench/results/\`.`,
    ...(r.note ? ['', `**Note:** ${r.note}`] : []),
    '',
    ...mdTable(t),
    '',
    ...(familyRows(r).length ? ['Each family against Llama at the same 155M shape and quant (our engine; "paired": medians of',
      `ratios of neighbouring \`cli bench\` runs in Node, ${r.families?.[0]?.pairs ?? 0} pairs in ABBA order):`, '', ...mdTable(familyRows(r)), ''] : []),
    ...streamingSection(r),
    ...constrainedSection(r),
    ...(r.hostPaths?.length ? ['Host paths in Node (`bench/host-paths.ts`; their targets replace wall-clock bounds the unit tests had): '
      + r.hostPaths.map((h) => `${h.name} ${h.ms.toFixed(1)} ms (target ≤ ${h.targetMs} ms)`).join('; ') + '.', ''] : []),
    ...r.cells.filter((c) => c.wllamaError).map((c) => `wllama failed on ${c.model} ${c.quant} ${c.threads}T: ${c.wllamaError}  `),
    ...nativeNotes(r),
    `![bench chart](bench/results/${svgName})`,
    '',
    '',
  ].join('\n');
}

/** llama.cpp's build; why the native column is empty (one line per distinct reason). */
function nativeNotes(r: BenchResults): string[] {
  const build = r.cells.find((c) => c.native)?.native?.build;
  const errors = new Map<string, string[]>();
  for (const c of r.cells) if (c.nativeError) errors.set(c.nativeError, [...errors.get(c.nativeError) ?? [], `${c.model} ${c.quant} ${c.threads}T`]);
  const build128 = r.cells.find((c) => c.native128)?.native128?.build;
  return [...(build ? [`Native llama.cpp: ${build}.  `] : []),
    ...(build128 ? [`native-128: the same llama-bench built by \`scripts/build-llama-cpp.sh --variant native-128\` (x86 AVX2/FMA/F16C/AVX-512 off, AVX1 kept: 128-bit integer quant dots, the width of WASM SIMD and of an RK3588's NEON): ${build128}.  `] : []),
    ...r.cells.filter((c) => c.native128Error).map((c) => `native-128 llama-bench failed on ${c.model} ${c.quant} ${c.threads}T: ${c.native128Error}  `),
    ...[...errors].map(([e, cells]) => `native llama-bench gave nothing on ${cells.join(', ')}: ${e}  `)];
}

function constrainedSection(r: BenchResults): string[] {
  const c = r.constrained;
  if (!c?.rows.length) return [];
  const o = c.settings;
  return [
    `Constrained decoding (\`npm run bench -- --constrained-only\`, ${c.date}): \`cli bench\` in Node on the WASM backend, Qwen3 at the`,
    '155M shape with its real 151k-token vocabulary, greedy decode without a constraint and with `--json-schema`',
    '(`bench/schemas/nested.json`: nested objects and arrays, bounded strings, enums, numbers; `object.json` is json_object),',
    `a fresh document whenever one completes. ${o.pairs} pairs of neighbouring runs in ABBA order, medians; prefill ${o.promptTokens}, decode ${o.genTokens} tokens.`,
    'Each run is a fresh process, so every mask starts uncached. "mask ms/token" is the time from the logits to the',
    'constrained pick per step (the argmax, the check of that pick, the mask when it is not allowed, applying it and',
    'the masked argmax, the grammar step; the unconstrained pick\'s own argmax is thus counted in it too);',
    '"mask share" is that time over the constrained step\'s (1 / decode tok/s), steadier than the ratio on a busy machine;',
    `"masks computed" are the vocabulary walks (cache misses). Target: constrained decode ≥ ${CONSTRAINED_TARGET.toFixed(2)}× unconstrained.`,
    ...(c.note ? ['', `**Note:** ${c.note}`] : []),
    '',
    ...mdTable(constrainedTable(c.rows)),
    '',
  ];
}

function streamingSection(r: BenchResults): string[] {
  const st = r.streaming;
  if (!st?.rows.length) return [];
  const o = st.settings;
  return [
    `Layer streaming (\`npm run bench -- --streaming\`, ${st.date}): \`cli bench\` in Node on the WASM backend with`,
    '`--max-memory` leaving 100%, 50% and 25% of the weight bytes for weights (KV cache and scratch on top); layers',
    'past the budget, and when even the embeddings and LM head do not fit those too, are read from the file on every',
    `forward pass, double-buffered. Prefill ${o.promptTokens} tokens, decode ${o.genTokens}, compute threads as in the thr column, medians of interleaved rounds;`,
    'output is byte-identical at every budget (test/models/layer-stream.test.ts). For comparison, the seed\'s layer-by-layer',
    'loading figure was 9× slower for 40% less memory.',
    ...(st.note ? ['', `**Note:** ${st.note}`] : []),
    '',
    ...mdTable(streamingRows(st.rows)),
    '',
    ...(st.big ?? []).flatMap((b) => {
      const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
      return [`A Llama-3-8B-shaped ${b.quant} model (random weights, \`bench/make-8b.ts\`, ${gib(b.fileBytes)}: more than a wasm32`,
        `memory's 4 GiB can hold) under \`--max-memory ${gib(b.capBytes)}\` in ${b.host}: ${b.residentLayers} of ${b.layers} layers resident,`,
        `${gib(b.streamedBytesPerToken)} read per token; peak WASM memory ${gib(b.peakMemoryBytes)}; prefill ${b.prefillTokPerSec.toPrecision(2)} tok/s,`,
        `decode ${b.decodeTokPerSec.toPrecision(2)} tok/s (${(1 / b.decodeTokPerSec).toFixed(0)} s per token, ${b.promptTokens}-token prompt, ${b.genTokens} tokens).`, ''];
    }),
  ];
}

/** Replaces (or inserts before "## Credits") the README's Benchmarks section. */
export function updateReadme(readme: string, section: string): string {
  const start = readme.indexOf('## Benchmarks');
  const credits = readme.indexOf('## Credits');
  if (start >= 0) {
    const next = readme.indexOf('\n## ', start + 3);
    return readme.slice(0, start) + section + (next >= 0 ? readme.slice(next + 1) : '');
  }
  if (credits >= 0) return readme.slice(0, credits) + section + '\n' + readme.slice(credits);
  return `${readme.trimEnd()}\n\n${section}`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Two panels (prefill, decode), three bars per cell (ours, wllama, native) and ours' ratios above them. */
export function svgChart(r: BenchResults): string {
  const W = 900, panelH = 220, top = 40, left = 60, barW = 14, gap = 16;
  const groupW = 3 * barW + gap;
  const colors = ['#2b6cb0', '#d9822b', '#38a169'];
  const width = Math.max(W, left + r.cells.length * groupW + 40);
  const out: string[] = [];
  const panel = (y0: number, title: string, get: (c: BenchCell) => [number, number, number]) => {
    const max = Math.max(1, ...r.cells.flatMap(get)) * 1.2;
    out.push(`<text x="${left}" y="${y0 - 12}" font-size="14" font-weight="bold">${esc(title)}</text>`);
    out.push(`<line x1="${left}" y1="${y0 + panelH}" x2="${width - 20}" y2="${y0 + panelH}" stroke="#444"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4, y = y0 + panelH - (panelH * k) / 4;
      out.push(`<text x="${left - 6}" y="${y + 4}" font-size="10" text-anchor="end">${f1(v)}</text>`);
      if (k) out.push(`<line x1="${left}" y1="${y}" x2="${width - 20}" y2="${y}" stroke="#ddd"/>`);
    }
    r.cells.forEach((c, i) => {
      const x = left + 8 + i * groupW;
      const vals = get(c);
      vals.forEach((v, j) => {
        const h = (panelH * v) / max;
        out.push(`<rect x="${x + j * barW}" y="${(y0 + panelH - h).toFixed(1)}" width="${barW - 2}" height="${h.toFixed(1)}" fill="${colors[j]}"><title>${esc(`${c.model} ${c.quant} ${c.threads}T ${['ours', 'wllama', 'native'][j]}: ${v ? `${f1(v)} tok/s` : j === 2 ? noNative(c) : 'failed'}`)}</title></rect>`);
      });
      const top = y0 + panelH - (panelH * Math.max(...vals)) / max;
      const mid = x + 1.5 * barW;
      [['wl', vals[1]], ['nat', vals[2]]].forEach(([name, v], k) => {
        if (v) out.push(`<text x="${mid}" y="${(top - 14 + 9 * k).toFixed(1)}" font-size="8" text-anchor="middle" fill="${colors[k + 1]}">${esc(`${ratio(vals[0], v as number)} ${name}`)}</text>`);
      });
      out.push(`<text x="${mid}" y="${y0 + panelH + 12}" font-size="9" text-anchor="middle">${esc(`${c.quant} ${c.threads}T`)}</text>`);
      out.push(`<text x="${mid}" y="${y0 + panelH + 22}" font-size="8" text-anchor="middle" fill="#666">${esc(c.model.replace(/^llama-?/, ''))}</text>`);
    });
  };
  panel(top, 'prefill tok/s (ratios: ours ÷ wllama, ours ÷ native)', (c) => [c.ours.prefillTokPerSec, c.wllama?.prefillTokPerSec ?? 0, c.native?.prefillTokPerSec ?? 0]);
  panel(top + panelH + 70, 'decode tok/s', (c) => [c.ours.decodeTokPerSec, c.wllama?.decodeTokPerSec ?? 0, c.native?.decodeTokPerSec ?? 0]);
  const height = top + 2 * panelH + 110;
  const legend = ['ours', 'wllama', 'native llama.cpp'].map((name, j) => `<rect x="${width - 320 + 80 * j}" y="10" width="12" height="12" fill="${colors[j]}"/>`
    + `<text x="${width - 304 + 80 * j}" y="20" font-size="12">${esc(name)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">\n`
    + `<rect width="100%" height="100%" fill="white"/>\n${legend}\n${out.join('\n')}\n`
    + `<text x="${left}" y="${height - 8}" font-size="10" fill="#666">${esc(`${r.date}, ${r.settings.promptTokens}-token prefill, ${r.settings.genTokens} decode steps, median of ${medianOf(r)}`)}</text>\n</svg>\n`;
}
