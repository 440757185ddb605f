#!/usr/bin/env bash
# One GPU check run of a few minutes: CUDA kernel checks against the CPU backend, ptxas -v on the kernels' PTX,
# paged attention (with and without split-KV) vs PyTorch SDPA and the prefill GEMM vs torch.matmul on the same
# shapes, the argmax kernel vs reading the logits back, and decode/prefill tokens/s of a random 1b-gqa F16 model
# against the HBM roofline.
# Usage: run.sh [--dry-run] [--out DIR]
#   --dry-run  ILGPU CPU accelerator and tiny shapes (works without a GPU; torch is skipped when absent)
# Finds the app next to this script (packed by prepare.sh) or, in a checkout, builds nothing and uses `dotnet run`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dry=""
out="$here/results"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry="--dry-run" ;;
    --out) out="$2"; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"

if [ -x "$here/app/Inference.Bench.Gpu" ]; then
  app=("$here/app/Inference.Bench.Gpu")
elif command -v dotnet >/dev/null 2>&1 && [ -f "$here/../Inference.Bench.Gpu/Inference.Bench.Gpu.csproj" ]; then
  app=(dotnet run -c Release --project "$here/../Inference.Bench.Gpu/Inference.Bench.Gpu.csproj" --)
else
  echo "no app: run bench/gpu/prepare.sh and unpack its tarball, or run from a checkout with dotnet" >&2
  exit 2
fi

# ILGPU loads the CUDA driver by name; driver-only machines have libcuda.so.1 in the loader path
# (the app also resolves it by hand). Make the usual driver folders visible to be safe.
if [ -z "$dry" ]; then
  for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/cuda/compat; do
    [ -e "$d/libcuda.so.1" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi

status=0
echo "== ILGPU checks and benchmarks"
"${app[@]}" $dry --out "$out" || status=$?

echo "== ptxas -v on the kernels' PTX (registers, spills, local memory)"
# A CUDA toolkit's ptxas, or the one Triton (a PyTorch dependency) ships.
ptxas_bin="$(command -v ptxas 2>/dev/null || true)"
[ -z "$ptxas_bin" ] && [ -x /usr/local/cuda/bin/ptxas ] && ptxas_bin=/usr/local/cuda/bin/ptxas
if [ -z "$ptxas_bin" ]; then
  ptxas_bin="$(python3 -c 'import os, triton; print(os.path.join(os.path.dirname(triton.__file__), "backends/nvidia/bin/ptxas"))' 2>/dev/null || true)"
fi
if [ -n "$ptxas_bin" ] && [ -x "$ptxas_bin" ] && [ -d "$out/ptx" ]; then
  : > "$out/ptxas.txt"
  for f in "$out"/ptx/*.ptx; do
    echo "## $(basename "$f")" >> "$out/ptxas.txt"
    "$ptxas_bin" -arch=sm_90 -v "$f" -o /dev/null >> "$out/ptxas.txt" 2>&1 || echo "ptxas FAILED on $f" | tee -a "$out/ptxas.txt"
  done
  grep -E "^## |Used|stack frame|spill" "$out/ptxas.txt" || true
else
  echo "no ptxas found: skipped (the PTX is in $out/ptx)"
fi

echo "== PyTorch scaled_dot_product_attention on the same shapes"
if python3 -c "import torch" >/dev/null 2>&1; then
  python3 "$here/sdpa_bench.py" "$out/ilgpu.json" "$out/sdpa.json" $dry || status=$?
else
  echo "torch not importable: skipped"
fi
echo "results in $out (exit $status)"
exit $status
