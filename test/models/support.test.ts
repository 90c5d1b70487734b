// The header-only support check: what it accepts follows the registry and the format traits, and
// what it refuses names the reason and what is supported.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openGGUF, type GGUFFile } from '../../src/formats/gguf/reader.ts';
import { openNodeFile } from '../../src/formats/node-file-source.ts';
import { SUPPORTED_ARCHS } from '../../src/models/registry.ts';
import { checkModelSupport } from '../../src/models/support.ts';
import { FORMAT_TRAITS } from '../../src/quant/traits.ts';
import { GGMLType, ggmlTypeName } from '../../src/quant/types.ts';
import { UnsupportedError } from '../../src/shared/errors.ts';
import { fixture } from '../fixtures.ts';

async function header(...parts: string[]): Promise<GGUFFile> {
  const f = await openGGUF(await openNodeFile(fixture(...parts)));
  await f.close();
  return f;
}

const supportedTypes = () => [...FORMAT_TRAITS.keys()].map(ggmlTypeName).join(', ');

function thrown(fn: () => unknown): { code?: string; message: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e as { code?: string; message: string };
  }
}

describe('checkModelSupport', () => {
  it('accepts a model the engine runs and gives the loader its arch, hyper-parameters and tokenizer', async () => {
    const s = checkModelSupport(await header('models', 'stories260K.gguf'));
    expect(s.arch.name).toBe('llama');
    expect(s.h).toMatchObject({ dim: 64, nLayers: 5, vocabSize: 512 });
    expect(s.tokenizer.vocabSize).toBe(512);
  });

  it('refuses an architecture the registry lacks, naming it and the supported ones', async () => {
    const f = await header('models', 'stories260K.gguf');
    f.metadata.set('general.architecture', 'notarealarch');
    const e = thrown(() => checkModelSupport(f));
    expect(e).toBeInstanceOf(UnsupportedError);
    expect(e).toMatchObject({ code: 'UNSUPPORTED_ARCH' });
    expect(e!.message).toContain(`'notarealarch'`);
    expect(e!.message).toContain(`supported: ${SUPPORTED_ARCHS.join(', ')}`);
  });

  it('refuses a block type the traits lack, naming tensor, type, the supported types and how many tensors', async () => {
    const f = await header('models', 'stories260K.gguf');
    const tensors = f.tensors.map((t) => (t.name.endsWith('ffn_up.weight') ? { ...t, type: GGMLType.IQ2_XXS } : t));
    const e = thrown(() => checkModelSupport({ metadata: f.metadata, tensors }));
    expect(e).toMatchObject({ code: 'UNSUPPORTED_TYPE' });
    expect(e!.message).toContain(`tensor 'blk.0.ffn_up.weight' uses IQ2_XXS`);
    expect(e!.message).toContain(`supported: ${supportedTypes()}`);
    expect(e!.message).toContain('5 tensors in all use types this engine cannot run (5 × IQ2_XXS)');
    // a type no tensor the loader reads uses still makes the file unrunnable as a whole
    const extra = [...f.tensors, { name: 'extra.weight', type: GGMLType.TQ1_0, shape: [256] }];
    expect(thrown(() => checkModelSupport({ metadata: f.metadata, tensors: extra }))).toMatchObject({ code: 'UNSUPPORTED_TYPE' });
  });

  it('reports what the loader would: a missing tensor, a wrong shape', async () => {
    const f = await header('models', 'stories260K.gguf');
    const missing = f.tensors.filter((t) => t.name !== 'blk.3.attn_v.weight');
    expect(thrown(() => checkModelSupport({ metadata: f.metadata, tensors: missing })))
      .toMatchObject({ code: 'MISSING_TENSOR', message: expect.stringContaining('blk.3.attn_v.weight') });
    const meta = new Map(f.metadata).set('llama.feed_forward_length', 256);
    expect(thrown(() => checkModelSupport({ metadata: meta, tensors: f.tensors }))).toMatchObject({ code: 'BAD_SHAPE' });
  });

  // Stays right as architectures and formats are added: the verdict on every fixture is the
  // registry's and the traits' verdict.
  it('agrees with the registry and the traits on every fixture model', async () => {
    const files = ['quant', 'arch'].flatMap((dir) => readdirSync(fixture(dir))
      .filter((n) => n.endsWith('.gguf') && !n.startsWith('vocab-')).map((n) => [dir, n]));
    expect(files.length).toBeGreaterThan(20);
    for (const [dir, name] of files) {
      const f = await header(dir, name);
      const arch = f.metadata.get('general.architecture');
      const bad = f.tensors.find((t) => !FORMAT_TRAITS.has(t.type as never));
      const e = thrown(() => checkModelSupport(f));
      if (!SUPPORTED_ARCHS.includes(arch as string)) {
        expect(e?.code, name).toBe('UNSUPPORTED_ARCH');
      } else if (bad) {
        expect(e?.code, name).toBe('UNSUPPORTED_TYPE');
        expect(e?.message, name).toContain(`'${bad.name}' uses ${ggmlTypeName(bad.type)}`);
      } else {
        expect(e?.code ?? 'OK', name).not.toMatch(/^UNSUPPORTED_/);
      }
    }
  });
});
