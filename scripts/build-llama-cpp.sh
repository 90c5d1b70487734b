#!/usr/bin/env bash
# Builds llama.cpp's tools (TOOLS below) from the source node-llama-cpp ships (a git bundle),
# once per bundle commit, into a cache outside the clone. Prints the bin directory on stdout.
# The server tests (test/serve) use llama-server and ggml-rpc-server as the reference OpenAI-compatible server and RPC
# cluster; the convert tests use llama-quantize as the reference quantizer; npm run bench uses llama-bench
# as the native column.
set -euo pipefail
cd "$(dirname "$0")/.."

bundle=node_modules/node-llama-cpp/llama/gitRelease.bundle
if [ ! -f "$bundle" ]; then
  echo "error: $bundle is missing (run npm ci first)" >&2
  exit 1
fi
commit=$(git bundle list-heads "$bundle" | awk '$2=="HEAD"{print $1}' | head -1)
cache=${LLAMA_CPP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edge-llm-web/llama.cpp}/$commit
bin=$cache/build/bin
TOOLS=(llama-server ggml-rpc-server llama-quantize llama-gguf-split llama-bench)
missing=0
for t in "${TOOLS[@]}"; do [ -x "$bin/$t" ] || missing=1; done
if [ "$missing" = 0 ]; then
  echo "$bin"
  exit 0
fi

echo "building llama.cpp $commit (${TOOLS[*]}) into $cache; about 20 minutes on 2 cores" >&2
mkdir -p "$cache"
if [ ! -d "$cache/src/.git" ]; then
  rm -rf "$cache/src"
  git clone -q "$bundle" "$cache/src"
fi
cmake -S "$cache/src" -B "$cache/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_RPC=ON -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >"$cache/cmake.log" 2>&1 \
  || { tail -30 "$cache/cmake.log" >&2; exit 1; }
cmake --build "$cache/build" --target "${TOOLS[@]}" -j "$(nproc)" >"$cache/build.log" 2>&1 \
  || { tail -40 "$cache/build.log" >&2; exit 1; }
echo "$bin"
