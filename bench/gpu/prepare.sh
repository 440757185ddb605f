#!/usr/bin/env bash
# Publishes the ILGPU GPU check self-contained (the GPU machine has no .NET) and packs it with run.sh.
# Usage: bench/gpu/prepare.sh [OUT_DIR]   -> OUT_DIR/ilgpu-gpu-check.tar.gz (default: bench/gpu/out)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/out}"
stage="$out/ilgpu-gpu-check"
rm -rf "$stage"
mkdir -p "$stage"
dotnet publish "$root/bench/Inference.Bench.Gpu/Inference.Bench.Gpu.csproj" -c Release -r linux-x64 --self-contained true \
  -p:InvariantGlobalization=true -o "$stage/app" -nologo -v q
cp "$here/run.sh" "$here/sdpa_bench.py" "$stage/"
tar -C "$out" -czf "$out/ilgpu-gpu-check.tar.gz" ilgpu-gpu-check
echo "packed $out/ilgpu-gpu-check.tar.gz ($(du -h "$out/ilgpu-gpu-check.tar.gz" | cut -f1)); on the GPU machine: tar xzf it, then ilgpu-gpu-check/run.sh"
