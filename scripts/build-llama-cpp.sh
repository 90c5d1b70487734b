#!/usr/bin/env bash
# Builds llama.cpp's tools (TOOLS below) from the source node-llama-cpp ships (a git bundle),
# once per bundle commit, into a cache outside the clone. Prints the bin directory on stdout.
# The server tests (test/serve) use llama-server and ggml-rpc-server as the reference OpenAI-compatible server and RPC
# cluster; the convert tests use llama-quantize as the reference quantizer; npm run bench uses llama-bench
# as the native column.
#
# --variant native-128: llama-bench alone, with x86's wide SIMD off (AVX1 kept: ggml's __AVX__ quant dot
#   products are 128-bit integer SSE-style code; the SSSE3-only build has no Q8_0/Q4_K path and would be
#   scalar), into <cache>/<commit>/native-128: the like-for-like reference for 128-bit WASM SIMD / NEON.
# --variant native-sse: llama-bench with SSE4.2 only (Q4_0 has an SSSE3 path; Q8_0 and the K-quants are scalar).
# --check: print the bin directory if that build exists, else exit 3 without building.
# LLAMA_CPP_JOBS: parallel compile jobs (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."

variant=wide
check=0
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant=${2:?--variant needs a name}; shift 2 ;;
    --check) check=1; shift ;;
    *) echo "error: unknown argument $1 (use --variant wide|native-128|native-sse, --check)" >&2; exit 2 ;;
  esac
done

# x86 SIMD switches of ggml/CMakeLists.txt; the variants set every one so GGML_NATIVE's defaults cannot leak in.
no_wide=(-DGGML_NATIVE=OFF -DGGML_AVX2=OFF -DGGML_BMI2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_AVX_VNNI=OFF
  -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF
  -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_SSE42=ON)
case "$variant" in
  wide) flags=(-DGGML_RPC=ON); TOOLS=(llama-server ggml-rpc-server llama-quantize llama-gguf-split llama-bench); sub= ;;
  native-128) flags=("${no_wide[@]}" -DGGML_AVX=ON -DLLAMA_BUILD_SERVER=OFF); TOOLS=(llama-bench); sub=/native-128 ;;
  native-sse) flags=("${no_wide[@]}" -DGGML_AVX=OFF -DLLAMA_BUILD_SERVER=OFF); TOOLS=(llama-bench); sub=/native-sse ;;
  *) echo "error: unknown variant $variant (wide, native-128, native-sse)" >&2; exit 2 ;;
esac

bundle=node_modules/node-llama-cpp/llama/gitRelease.bundle
if [ ! -f "$bundle" ]; then
  echo "error: $bundle is missing (run npm ci first)" >&2
  exit 1
fi
commit=$(git bundle list-heads "$bundle" | awk '$2=="HEAD"{print $1}' | head -1)
cache=${LLAMA_CPP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edge-llm-web/llama.cpp}/$commit
build=$cache$sub/build
bin=$build/bin
missing=0
for t in "${TOOLS[@]}"; do [ -x "$bin/$t" ] || missing=1; done
if [ "$missing" = 0 ]; then
  echo "$bin"
  exit 0
fi
if [ "$check" = 1 ]; then
  echo "llama.cpp $variant build missing: $bin (build it with scripts/build-llama-cpp.sh --variant $variant)" >&2
  exit 3
fi

jobs=${LLAMA_CPP_JOBS:-$(nproc)}
echo "building llama.cpp $commit $variant (${TOOLS[*]}) into $cache$sub with $jobs jobs; about 20 minutes on 2 cores" >&2
mkdir -p "$cache$sub"
# the variants share the wide build's source clone (one bundle commit, several build dirs)
if [ ! -d "$cache/src/.git" ]; then
  rm -rf "$cache/src"
  git clone -q "$bundle" "$cache/src"
fi
cmake -S "$cache/src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF "${flags[@]}" >"$cache$sub/cmake.log" 2>&1 \
  || { tail -30 "$cache$sub/cmake.log" >&2; exit 1; }
cmake --build "$build" --target "${TOOLS[@]}" -j "$jobs" >"$cache$sub/build.log" 2>&1 \
  || { tail -40 "$cache$sub/build.log" >&2; exit 1; }
echo "$bin"
