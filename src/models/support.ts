// "Can this engine run this model?" from the header alone, so import and download refuse a file
// before storing a byte of it and load fails early with the same typed error. It only asks the
// registry (architectures), the format traits (block types), the loader's own tensor plan and the
// tokenizer builder, so it follows them as architectures, formats and tokenizers are added.
import type { GGUFTensorInfo, GGUFValue } from '../formats/gguf/reader.ts';
import { FORMAT_TRAITS, getTraits } from '../quant/traits.ts';
import { ggmlTypeName, type GGMLType } from '../quant/types.ts';
import { EngineError, UnsupportedError } from '../shared/errors.ts';
import { tokenizerFromGGUF } from '../tokenizer/from-gguf.ts';
import { tokenizerFromHFJson } from '../tokenizer/from-hf-json.ts';
import { ROPE_NEOX_KEY, type HFTokenizerFiles } from '../formats/hf/folder.ts';
import { FUSED_GATE_UP_KEY } from '../formats/mlc/folder.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { ArchSpec } from './arch.ts';
import { readHParams, type HParams } from './hparams.ts';
import { getArch } from './registry.ts';
import { checkWeights } from './weights.ts';

/** What a GGUF header says (one file, or the parts of a split model joined). */
export interface ModelHeader {
  readonly metadata: Map<string, GGUFValue>;
  readonly tensors: readonly Pick<GGUFTensorInfo, 'name' | 'type' | 'shape'>[];
  /** a Hugging Face folder's tokenizer files, which stand in for the GGUF tokenizer metadata */
  readonly hfTokenizer?: HFTokenizerFiles;
}

/** The model's tokenizer: from a folder's tokenizer.json where it came from one, else from GGUF metadata. */
export function tokenizerFor(header: ModelHeader): Tokenizer {
  const hf = header.hfTokenizer;
  return hf ? tokenizerFromHFJson(hf.tokenizerJson, hf.tokenizerConfig, { vocabSize: hf.vocabSize, eogIds: hf.eogIds }) : tokenizerFromGGUF(header.metadata);
}

/**
 * The family's spec, with rotate-half rope where the weights keep HF's q/k row order (formats/hf,
 * formats/mlc) and a fused gate|up where the folder keeps MLC's gate_up_proj (formats/mlc).
 */
export function archFor(metadata: ModelHeader['metadata']): ArchSpec {
  let arch = getArch(metadata.get('general.architecture'));
  if (metadata.get(ROPE_NEOX_KEY) === true && !arch.ropeNeox) arch = { ...arch, ropeNeox: true };
  if (metadata.get(FUSED_GATE_UP_KEY) === true && !arch.fusedGateUp) arch = { ...arch, fusedGateUp: true };
  return arch;
}

export interface Supported {
  arch: ArchSpec;
  h: HParams;
  /** built anyway to check it; the loader uses it rather than building it twice */
  tokenizer: Tokenizer;
}

/**
 * Throws the typed error that loading would (UNSUPPORTED_ARCH, UNSUPPORTED_TYPE naming tensor and
 * type, MISSING_TENSOR, BAD_SHAPE, TOKENIZER), without reading tensor data. Unsupported things come first:
 * they are the user's answer, a shape mismatch in such a file is noise.
 */
export function checkModelSupport(header: ModelHeader): Supported {
  const arch = archFor(header.metadata);
  checkTensorTypes(header.tensors);
  const h = readHParams(header.metadata, arch.name);
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  checkWeights({ tensor: (name) => byName.get(name) as GGUFTensorInfo | undefined }, h, arch);
  const tokenizer = tokenizerFor(header);
  if (h.vocabSize !== tokenizer.vocabSize) {
    throw new EngineError('BAD_SHAPE', `The model has ${h.vocabSize} output tokens but its tokenizer has ${tokenizer.vocabSize}.`);
  }
  return { arch, h, tokenizer };
}

/** Every tensor, not only the ones the loader reads: a file we would store must be runnable as a whole. */
function checkTensorTypes(tensors: ModelHeader['tensors']): void {
  const bad = tensors.filter((t) => !FORMAT_TRAITS.has(t.type as GGMLType));
  if (bad.length === 0) return;
  try {
    getTraits(bad[0].type, bad[0].name);
  } catch (e) {
    if (bad.length === 1 || !(e instanceof UnsupportedError)) throw e;
    const counts = new Map<string, number>();
    for (const t of bad) counts.set(ggmlTypeName(t.type), (counts.get(ggmlTypeName(t.type)) ?? 0) + 1);
    const summary = [...counts].map(([type, n]) => `${n} × ${type}`).join(', ');
    throw new UnsupportedError('UNSUPPORTED_TYPE', `${e.message}; ${bad.length} tensors in all use types this engine cannot run (${summary})`);
  }
}
