// config.json as convert_hf_to_gguf.py sees it: transformers' AutoConfig fills every key the file
// leaves out with the config class's default (a nested text_config is saved as a diff against its
// class, so Gemma 3's often holds only a few keys), and a `text_config` is lifted to the top.
import { EngineError, UnsupportedError } from '../../shared/errors.ts';

export type Config = Record<string, unknown>;

/** A folder's config.json, flattened, with the defaults of the family's config class under it. */
export class HFConfig {
  readonly raw: Config;
  constructor(readonly folder: string, file: Config, defaults: Config) {
    const text = (file.text_config && typeof file.text_config === 'object' ? file.text_config : {}) as Config;
    this.raw = { ...defaults, ...file, ...text };
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** the first of `keys` that is set (convert's find_hparam) */
  find(keys: readonly string[]): unknown {
    for (const k of keys) if (this.has(k)) return this.raw[k];
    return undefined;
  }

  num(key: string | readonly string[], fallback?: number): number {
    const keys = typeof key === 'string' ? [key] : key;
    const v = this.find(keys);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (v === undefined && fallback !== undefined) return fallback;
    throw new EngineError('BAD_SHAPE', `${this.folder}/config.json: '${keys[0]}' is ${v === undefined ? 'missing' : `not a number (${JSON.stringify(v)})`}.`);
  }

  optNum(key: string | readonly string[]): number | undefined {
    return this.find(typeof key === 'string' ? [key] : key) === undefined ? undefined : this.num(key);
  }

  /** UNSUPPORTED_ARCH naming the folder and the class */
  unsupported(what: string): never {
    throw new UnsupportedError('UNSUPPORTED_ARCH', `${this.folder}: ${String(this.architecture)} ${what}`);
  }

  get architecture(): string {
    const a = this.raw.architectures;
    return String(Array.isArray(a) ? a[0] : a);
  }
}

/** The rope settings of global and sliding layers, gathered as convert's TextModel.__init__ does. */
export interface RopeParams {
  readonly full: Config;
  readonly sliding?: Config;
}

export function ropeParams(c: HFConfig): RopeParams {
  // transformers 5 keeps them in rope_parameters (per layer type where they differ), 4 in rope_scaling
  const rp = { ...((c.raw.rope_parameters ?? c.raw.rope_scaling ?? {}) as Config) };
  if (rp.full_attention || rp.sliding_attention) {
    return { full: (rp.full_attention ?? {}) as Config, sliding: rp.sliding_attention as Config | undefined };
  }
  const theta = c.find(['global_rope_theta', 'rope_global_theta', 'rope_theta_global', 'rope_theta', 'rotary_emb_base']);
  const local = c.find(['local_rope_theta', 'rope_local_theta', 'rope_theta_local', 'swa_rope_theta', 'rope_local_base_freq']);
  if (rp.rope_theta === undefined && theta !== undefined) rp.rope_theta = theta;
  if (rp.rope_type === undefined && rp.type !== undefined) rp.rope_type = rp.type;
  for (const k of ['partial_rotary_factor', 'original_max_position_embeddings']) if (rp[k] === undefined && c.has(k)) rp[k] = c.raw[k];
  return { full: rp, sliding: local === undefined ? undefined : { rope_theta: local } };
}

export function ropeType(p: Config): string {
  return String(p.rope_type ?? p.type ?? 'default').toLowerCase();
}
