// Whether a folder's file names are an MLC-LLM weight folder (its chat config and tensor index),
// as opposed to a Hugging Face one: from names only, before anything is read (the page uses it too).
import { TENSOR_CACHE_NAMES } from './tensor-cache.ts';

export const MLC_CONFIG = 'mlc-chat-config.json';

export function isMLCFolder(names: readonly string[]): boolean {
  return names.includes(MLC_CONFIG) && TENSOR_CACHE_NAMES.some((n) => names.includes(n));
}
