// Does config.json agree with the safetensors? Each mapped tensor's shape against the one the
// metadata written from config.json implies, so a mismatch names config.json, the shard and the
// HF tensor (the loader would only see a GGUF name).
import { EngineError } from '../../shared/errors.ts';
import type { Meta } from './family.ts';

/** ggml `ne` shape (row length first) a GGUF tensor of this name must have, or undefined when it is not checked here. */
function expected(name: string, meta: Meta, arch: string, fusedGateUp: boolean): number[] | undefined {
  const n = (k: string) => meta.get(`${arch}.${k}`) as number | undefined;
  const dim = n('embedding_length')!, ff = n('feed_forward_length')!, nHead = n('attention.head_count')!;
  const nKV = n('attention.head_count_kv') ?? nHead;
  const hd = n('attention.key_length') ?? dim / nHead;
  const q = nHead * hd, kv = nKV * hd, vocab = n('vocab_size')!;
  const part = name.replace(/^blk\.\d+\./, '');
  const shapes: Record<string, number[]> = {
    'token_embd.weight': [dim, vocab], 'output.weight': [dim, vocab], 'output_norm.weight': [dim],
    'attn_norm.weight': [dim], 'ffn_norm.weight': [dim], 'post_attention_norm.weight': [dim], 'post_ffw_norm.weight': [dim],
    'attn_q.weight': [dim, q], 'attn_k.weight': [dim, kv], 'attn_v.weight': [dim, kv], 'attn_output.weight': [q, dim],
    'attn_q.bias': [q], 'attn_k.bias': [kv], 'attn_v.bias': [kv], 'attn_qkv.weight': [dim, q + 2 * kv],
    'attn_q_norm.weight': [hd], 'attn_k_norm.weight': [hd],
    'ffn_gate.weight': [dim, ff], 'ffn_up.weight': [dim, fusedGateUp ? 2 * ff : ff], 'ffn_down.weight': [ff, dim],
  };
  return shapes[part];
}

/** Throws BAD_SHAPE naming config.json, the shard and the tensor where they disagree. */
export function checkShape(folder: string, shard: string, hf: string, ggufName: string, ne: readonly number[], meta: Meta, arch: string, fusedGateUp: boolean): void {
  const want = expected(ggufName, meta, arch, fusedGateUp);
  if (!want) return;
  const got = [...ne];
  while (got.length > want.length && got[got.length - 1] === 1) got.pop();
  if (got.join() !== want.join()) {
    const hfShape = (s: readonly number[]) => `[${[...s].reverse().join(', ')}]`;
    throw new EngineError('BAD_SHAPE', `${folder}/config.json disagrees with ${shard}: tensor '${hf}' (${ggufName}) is ${hfShape(ne)}, but config.json implies ${hfShape(want)}.`);
  }
}
