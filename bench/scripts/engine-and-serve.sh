#!/usr/bin/env bash
# Runs the engine throughput and server benchmarks recorded in bench/README.md, on one model folder.
# Usage: bench/scripts/engine-and-serve.sh MODEL_DIR [OUT_DIR]
set -euo pipefail
model=${1:?usage: $0 MODEL_DIR [OUT_DIR]}
out=${2:-bench/results}
mkdir -p "$out"
cd "$(dirname "$0")/../.."
dotnet build -c Release src/Inference.Cli >/dev/null
inf=src/Inference.Cli/bin/Release/net10.0/inference

echo "== bench throughput: 256 prompts, input 256, output 128, batched (max-num-seqs 64)"
$inf bench throughput --model "$model" --num-prompts 256 --input-len 256 --output-len 128 --json | tee "$out/throughput-batched.json"
# One at a time serves the same per-request work; 16 prompts keep the run under a few minutes at batch 1.
echo "== bench throughput: 16 prompts, input 256, output 128, max-num-seqs 1"
$inf bench throughput --model "$model" --num-prompts 16 --input-len 256 --output-len 128 --max-num-seqs 1 --json | tee "$out/throughput-solo.json"

echo "== bench serve at concurrency 1, 8, 64"
port=18123
$inf serve --model "$model" --port $port --grpc-port 0 > "$out/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 1; done
for c in 1 8 64; do
  n=$(( c == 1 ? 16 : c * 4 ))
  $inf bench serve --url "http://127.0.0.1:$port" --num-prompts $n --concurrency $c --input-len 128 --output-len 64 --json | tee "$out/serve-c$c.json"
done
