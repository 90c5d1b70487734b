// Mutations of real inputs for the fuzz targets: bytes (flips, overwrites with boundary values such
// as 0xffffffff counts, truncation, splices) and JSON (a subtree replaced by another value, deleted,
// wrapped in deep nesting, or given the wrong type).
import fc from 'fast-check';

const BOUNDARY_U64 = [0n, 1n, 0x7fn, 0xffn, 0xffffn, 0x7fffffffn, 0xffffffffn, 0x100000000n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n];

type ByteOp =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'u64'; at: number; value: bigint }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; bytes: Uint8Array };

const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('u64' as const), at: fc.nat(), value: fc.constantFrom(...BOUNDARY_U64) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 3, 12, 0xffff, 0x7fffffff, 0xffffffff) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
);

/** `seed` with 1–8 byte mutations applied (positions taken modulo its length). */
export function mutatedBytes(seeds: readonly Uint8Array[], focus?: (seed: Uint8Array) => number): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(byteOp, { minLength: 1, maxLength: 8 })).map(([i, ops]) => {
    let b: Uint8Array = seeds[i].slice();
    // most interesting bytes are in the first part (headers): positions fall there 3 times in 4
    const hot = focus?.(seeds[i]) ?? b.length;
    for (const op of ops) {
      if (b.length === 0) break;
      const at = (op.at % 4 === 0 ? op.at : op.at % Math.max(1, hot)) % b.length;
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      if (op.kind === 'flip') b[at] ^= 1 << op.bit;
      else if (op.kind === 'u64' && at + 8 <= b.length) view.setBigUint64(at, op.value, true);
      else if (op.kind === 'u32' && at + 4 <= b.length) view.setUint32(at, op.value, true);
      else if (op.kind === 'truncate') b = b.slice(0, at);
      else if (op.kind === 'splice') b = new Uint8Array([...b.subarray(0, at), ...op.bytes, ...b.subarray(at)]);
    }
    return b;
  });
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Paths to values inside `v` (arrays and objects), the root included, at most 4000 and at most 64 deep.
 *  Iterative and depth-capped: an earlier mutation may have nested a subtree thousands deep, and walking
 *  that recursively overflowed the harness's own stack (CI, seed-dependent). */
function paths(v: Json): (string | number)[][] {
  const out: (string | number)[][] = [];
  const todo: [Json, (string | number)[]][] = [[v, []]];
  while (todo.length && out.length < 4000) {
    const [x, at] = todo.pop()!;
    out.push(at);
    if (at.length >= 64) continue;
    if (Array.isArray(x)) x.slice(0, 64).forEach((y, i) => todo.push([y, [...at, i]]));
    else if (x && typeof x === 'object') Object.keys(x).slice(0, 64).forEach((k) => todo.push([x[k], [...at, k]]));
  }
  return out;
}

function setAt(root: Json, p: (string | number)[], value: Json | undefined): Json {
  if (p.length === 0) return value ?? null;
  const parent = p.slice(0, -1).reduce<Json>((o, k) => (o as Record<string, Json>)[k as string], root) as Record<string, Json> | Json[];
  const k = p.at(-1)!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(k as number, 1);
    else delete (parent as Record<string, Json>)[k as string];
  } else (parent as Record<string, Json>)[k as string] = value;
  return root;
}

const deep = (depth: number, leaf: Json): Json => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

const replacement: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constant(undefined), // delete
  fc.constantFrom<Json>(null, -1, 0, 1e308, -1e308, 2 ** 53 + 1, 4294967296, 1.5, '', 'x'.repeat(1000), [], {}, true),
  fc.nat({ max: 1500 }).map((d) => deep(d, 1)),
);

/** `seed` (a parsed JSON document) with 1–4 subtrees replaced, deleted or nested deeply. */
export function mutatedJson(seeds: readonly unknown[]): fc.Arbitrary<unknown> {
  const all = seeds.map((s) => ({ s, p: paths(s as Json) }));
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), replacement), { minLength: 1, maxLength: 4 }))
    .map(([i, ops]) => {
      let doc = structuredClone(all[i].s) as Json;
      for (const [at, value] of ops) {
        const ps = paths(doc);
        doc = setAt(doc, ps[at % ps.length], value);
      }
      return doc;
    });
}

/** JSON text of a mutated document, or the seed's text with bytes mutated (not JSON any more, often). */
export function mutatedJsonText(seeds: readonly unknown[]): fc.Arbitrary<string> {
  const texts = seeds.map((s) => new TextEncoder().encode(JSON.stringify(s)));
  return fc.oneof(
    { weight: 3, arbitrary: mutatedJson(seeds).map((d) => JSON.stringify(d) ?? 'null') },
    { weight: 1, arbitrary: mutatedBytes(texts).map((b) => new TextDecoder().decode(b)) },
  );
}
