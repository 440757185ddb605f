using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Bench.Gpu;
using Inference.Kernels.Ilgpu;

// GPU check for the ILGPU backend: kernel checks against the CPU backend, attention timings, model tokens/s.
// Usage: Inference.Bench.Gpu [--dry-run] [--device cuda|cpu] [--out DIR] [--skip-model]
bool dryRun = args.Contains("--dry-run");
bool skipModel = args.Contains("--skip-model");
string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
var kind = Arg("--device", dryRun ? "cpu" : "cuda") == "cpu" ? IlgpuDeviceKind.Cpu : IlgpuDeviceKind.Cuda;
string outDir = Arg("--out", "gpu-results");
Directory.CreateDirectory(outDir);
void Log(string s) => Console.WriteLine(s);

var total = Stopwatch.StartNew();
using var gpu = IlgpuBackend.Create(kind, s => Console.Error.WriteLine(s));
Log($"backend: {gpu.Name}{(dryRun ? " (dry run: tiny shapes)" : "")}");
var results = new JsonObject { ["backend"] = gpu.Name, ["dry_run"] = dryRun };

Log("kernel checks against the CPU backend:");
using (var checks = new Checks(gpu, dryRun, Log))
{
    checks.RunAll();
    results["checks_passed"] = checks.Passed;
    results["checks_failed"] = checks.Failed;
    Log($"checks: {checks.Passed} passed, {checks.Failed} failed");
}

// The PTX a GPU gets, for run.sh to put through ptxas -v (registers, spills, local memory) where it finds one.
var ptx = PtxListing.Write(Path.Combine(outDir, "ptx"));
Log($"wrote PTX of {ptx.Count} kernels to {Path.Combine(outDir, "ptx")}");

Log("paged attention:");
results["attention"] = AttentionBench.Run(gpu, dryRun, Log);

Log("prefill matmul (tiled GEMM vs 4-row kernel):");
results["gemm"] = GemmBench.Run(gpu, dryRun, Log);

Log("greedy token selection (argmax kernel vs logits read back):");
results["argmax"] = ArgMaxBench.Run(gpu, dryRun, Log);

if (!skipModel)
{
    Log("model throughput:");
    results["model"] = ModelBench.Run(gpu, dryRun, Log);
}
results["seconds"] = total.Elapsed.TotalSeconds;
string path = Path.Combine(outDir, "ilgpu.json");
File.WriteAllText(path, results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
Log($"wrote {path} in {total.Elapsed.TotalSeconds:F1} s");
return (int?)results["checks_failed"] == 0 ? 0 : 1;
