#!/usr/bin/env bash
# Runs the real-GPU report (bench/gpu-report.ts) from the pack scripts/gpu-pack.sh builds, on a Linux
# x86-64 machine with a Vulkan GPU and nothing installed: unpacks Node and Dawn into a temp folder,
# points the packed Vulkan loader at the GPU's driver (NVIDIA's ICD when there is one, else whatever
# the loader finds) and starts the report. Arguments go to the report (--quants, --runs, --skip-bench …).
# env: GPU_PACK  the pack (default: this script's folder when it is one, else ../gpu-pack)
#      GPU_ICD   a Vulkan ICD manifest to use instead (e.g. /usr/lib/chromium/vk_swiftshader_icd.json)
#      OUT_DIR   where the JSON goes (default $OUT, else ./bench/results)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -n "${GPU_PACK:-}" ]; then PACK="$GPU_PACK"; elif [ -e "$here/gpu-report.js" ]; then PACK="$here"; else PACK="$here/../gpu-pack"; fi
[ -e "$PACK/gpu-report.js" ] || { echo "gpu-run: no pack at $PACK (run: bash scripts/gpu-pack.sh)" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu-pack.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp -r "$PACK"/. "$WORK"/
unz() {
  if command -v gzip >/dev/null; then gzip -d "$1"
  else python3 -c 'import gzip,shutil,sys; shutil.copyfileobj(gzip.open(sys.argv[1]), open(sys.argv[1][:-3], "wb"))' "$1" && rm "$1"; fi
}
unz "$WORK/node.gz"
unz "$WORK/node_modules/webgpu/dist/linux-x64/dawn.node.gz"
chmod +x "$WORK/node"

# NVIDIA's driver libraries may sit outside the linker's cache (containers mount them here)
LIBS="$WORK/lib"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && LIBS="$LIBS:$d"; done

ICD="${GPU_ICD:-}"
if [ -z "$ICD" ]; then
  for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/local/nvidia/icd.d; do
    for f in "$d"/nvidia*.json; do [ -e "$f" ] && { ICD="$f"; break 2; }; done
  done
fi
if [ -z "$ICD" ]; then
  # no manifest but the driver library is there (its Vulkan entry points live in libGLX/libEGL_nvidia)
  for l in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
    p="$( (ldconfig -p 2>/dev/null || true) | awk -v l="$l" '$1 == l { print $NF; exit }')"
    for d in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64; do [ -z "$p" ] && [ -e "$d/$l" ] && p="$d/$l"; done
    if [ -n "$p" ]; then
      ICD="$WORK/nvidia_icd.json"
      printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$p" > "$ICD"
      break
    fi
  done
fi
if [ -n "$ICD" ]; then export VK_ICD_FILENAMES="$ICD" VK_DRIVER_FILES="$ICD"; echo "gpu-run: Vulkan driver $ICD" >&2
else echo "gpu-run: no NVIDIA Vulkan driver found; the loader picks what it finds" >&2; fi

# the machine's C++ runtime, or the packed one where it is too old for node or dawn.node
export LD_LIBRARY_PATH="$LIBS"
if ! "$WORK/node" -e "require('$WORK/node_modules/webgpu/dist/linux-x64/dawn.node')" 2>/dev/null; then
  export LD_LIBRARY_PATH="$LIBS:$WORK/compat"
  echo "gpu-run: using the packed libstdc++" >&2
fi
command -v nvidia-smi >/dev/null && export GPU_SMI="$(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv,noheader 2>&1 | head -8)"

export FIXTURES_DIR="$WORK/fixtures" OUT_DIR="${OUT_DIR:-${OUT:-$PWD/bench/results}}"
rc=0
"$WORK/node" "$WORK/gpu-report.js" "$@" || rc=$?
if [ "$rc" = 2 ]; then
  # no report: say what Vulkan drivers this machine has (dawn.node needs glibc >= 2.34)
  echo "gpu-run: ICD manifests:" $(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null) >&2
  echo "gpu-run: NVIDIA libraries:" $( (ldconfig -p 2>/dev/null || true) | grep -o 'lib[A-Za-z_]*nvidia[^ ]*' | sort -u | head -12) >&2
  echo "gpu-run: glibc $(ldd --version 2>/dev/null | head -1); rerun with VK_LOADER_DEBUG=all for the loader's view" >&2
fi
exit "$rc"
