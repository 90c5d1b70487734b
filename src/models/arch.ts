// What distinguishes one model family from another, as data: the shared decoder (decoder.ts) and
// its per-layer plan (layer-plan.ts) read these declarations and never test a family's name.
import type { GluKind } from '../backends/backend.ts';

/** Sliding-window attention on some layers (Gemma 2/3). */
export interface SlidingWindowSpec {
  /**
   * layer pattern when the file has no `attention.sliding_window_pattern`: of every `pattern`
   * layers the last is global and the others slide (llama.cpp's set_swa_pattern)
   */
  readonly pattern: number;
  /** window when the file has no `attention.sliding_window` (Gemma 2: 4096); absent = no SWA then */
  readonly defaultWindow?: number;
  /** rope base of the sliding layers without `rope.freq_base_swa`: 'global' = the global base */
  readonly defaultRopeBase: number | 'global';
}

export interface ArchSpec {
  /** `general.architecture` value */
  readonly name: string;
  /** rotate-half rope (NEOX) instead of adjacent pairs */
  readonly ropeNeox: boolean;
  /** q/k/v projections carry biases */
  readonly qkvBias?: boolean;
  /** per-head RMSNorm of q and k before rope (`attn_q_norm`, `attn_k_norm`) */
  readonly qkNorm?: boolean;
  /** RMSNorm of the attention and FFN outputs before each residual add (`post_attention_norm`,
   *  `post_ffw_norm`): Gemma's sandwich norms */
  readonly postNorms?: boolean;
  /** activation of the gated FFN */
  readonly ffn: GluKind;
  /** gate and up in one `ffn_up` tensor of 2·ffDim rows (gate first) */
  readonly fusedGateUp?: boolean;
  /** the hidden state is multiplied by √dim after the embedding lookup */
  readonly embedScaleSqrtDim?: boolean;
  /** the LM head is always the token embedding (no `output.weight` is looked for) */
  readonly tiedOutput?: boolean;
  readonly slidingWindow?: SlidingWindowSpec;
  /** soft-caps when the file does not state them (Gemma 2: attention 50, final 30); 0 = none */
  readonly defaultSoftcaps?: { readonly attention: number; readonly final: number };
  /** every n-th layer (n, 2n, …: il + 1 ≡ 0 mod n) has no rope at all (SmolLM3's NoPE layers) */
  readonly noRopeEvery?: number;
  /**
   * score scale from the hyper-parameters; default 1/√headDim. Gemma's 27B models use
   * 1/√(dim/nHead) (query_pre_attn_scalar), told apart by layer count as llama.cpp does.
   */
  readonly attentionScale?: (h: { dim: number; nHead: number; headDim: number; nLayers: number }) => number;
}
