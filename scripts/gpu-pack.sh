#!/usr/bin/env bash
# Builds gpu-pack/: everything bench/gpu-report.ts needs on a Linux x86-64 machine with a Vulkan GPU
# and nothing installed (no Node, no node_modules, no network): this Node binary, the webgpu package's
# Dawn addon, a Vulkan loader, one esbuild bundle of the report (+ the quantizer's worker), the WGSL
# shaders and the vocab the bench model borrows. The two big binaries are gzipped (the device machine
# takes at most 64 MiB); scripts/gpu-run.sh unpacks and starts it.
# usage: bash scripts/gpu-pack.sh [outDir]      (default gpu-pack/ at the repo root, git-ignored)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/gpu-pack}"
FIXTURES="${FIXTURES_DIR:-$ROOT/../shared/fixtures}"
VOCAB="$FIXTURES/tokenizers/llama.cpp/ggml-vocab-llama-spm.gguf"
cd "$ROOT"

[ "$(uname -sm)" = "Linux x86_64" ] || { echo "gpu-pack: builds a linux-x64 pack; this is $(uname -sm)" >&2; exit 1; }
NODE="$(command -v node)"
DAWN=node_modules/webgpu/dist/linux-x64/dawn.node
for f in "$NODE" "$DAWN" "$VOCAB" node_modules/.bin/esbuild; do
  [ -e "$f" ] || { echo "gpu-pack: missing $f (npm install? FIXTURES_DIR?)" >&2; exit 1; }
done

rm -rf "$OUT"
mkdir -p "$OUT/lib" "$OUT/compat" "$OUT/node_modules/webgpu/dist/linux-x64" "$OUT/fixtures/tokenizers/llama.cpp"

# the report and the quantize worker (node-quantize-pool.ts starts ./node-quantize-worker.mjs beside
# the bundle; under tsx it registers the TypeScript loader, which the bundle does not need)
node --input-type=module - "$OUT" <<'EOF'
import { build } from 'esbuild';
const out = process.argv[2];
const common = {
  bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', external: ['webgpu'],
  // CommonJS dependencies inside an ES module bundle still call require()
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};
const noTsx = { name: 'no-tsx', setup(b) {
  b.onResolve({ filter: /^tsx\/esm\/api$/ }, () => ({ path: 'tsx', namespace: 'stub' }));
  b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export function register() {}', loader: 'js' }));
} };
await build({ ...common, entryPoints: ['bench/gpu-report.ts'], outfile: `${out}/gpu-report.js` });
await build({ ...common, entryPoints: ['src/quant/node-quantize-worker.mjs'], outfile: `${out}/node-quantize-worker.mjs`, plugins: [noTsx] });
EOF

gzip -c "$NODE" > "$OUT/node.gz"
gzip -c "$DAWN" > "$OUT/node_modules/webgpu/dist/linux-x64/dawn.node.gz"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json node_modules/webgpu/LICENSE.md "$OUT/node_modules/webgpu/"

# Vulkan loader: Debian's libvulkan1 (the Khronos loader), else the one Chromium ships
VULKAN=""
tmp="$(mktemp -d)"
if (cd "$tmp" && apt-get download libvulkan1 >/dev/null 2>&1); then
  dpkg -x "$tmp"/libvulkan1_*.deb "$tmp/x"
  VULKAN="debian $(dpkg-deb -f "$tmp"/libvulkan1_*.deb Version)"
  cp -L "$tmp"/x/usr/lib/x86_64-linux-gnu/libvulkan.so.1 "$OUT/lib/"
elif [ -e /usr/lib/chromium/libvulkan.so.1 ]; then
  VULKAN="chromium"
  cp -L /usr/lib/chromium/libvulkan.so.1 "$OUT/lib/"
else
  echo "gpu-pack: no Vulkan loader (apt-get download libvulkan1 failed, no /usr/lib/chromium/libvulkan.so.1)" >&2; exit 1
fi
rm -rf "$tmp"

# C++ runtime of node and dawn.node, used only where the machine's own is too old (gpu-run.sh tries it first)
for l in libstdc++.so.6 libgcc_s.so.1; do
  p="$(ldd "$DAWN" | awk -v l="$l" '$1 == l { print $3 }')"
  [ -n "$p" ] && cp -L "$p" "$OUT/compat/"
done

cp -r shaders "$OUT/shaders"
cp "$VOCAB" "$OUT/fixtures/tokenizers/llama.cpp/"
cp scripts/gpu-run.sh "$OUT/run.sh"
cat > "$OUT/pack.json" <<EOF
{"built": "$(date -u +%FT%TZ)", "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo +dirty)",
 "node": "$("$NODE" --version)", "webgpu": "$(node -p "require('./node_modules/webgpu/package.json').version")", "vulkanLoader": "$VULKAN"}
EOF
echo "gpu-pack: $OUT, $(du -sm "$OUT" | cut -f1) MiB; run it with: bash scripts/gpu-run.sh (or bash $OUT/run.sh)" >&2
