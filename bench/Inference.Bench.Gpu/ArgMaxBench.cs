using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using ILGPU.Runtime;
using Inference.Kernels.Ilgpu;
using Inference.Tests.Ilgpu;

namespace Inference.Bench.Gpu;

/// <summary>
/// Greedy token selection at the lm-head's output (vocab 128256): the argmax kernel against what a step did before
/// it, reading the logits back and taking IndexOfMax on the host.
/// </summary>
public static class ArgMaxBench
{
    public static JsonArray Run(IlgpuBackend gpu, bool dryRun, Action<string> log)
    {
        var results = new JsonArray();
        int vocab = dryRun ? 1000 : 128256;
        int iters = dryRun ? 1 : 50;
        foreach (int rows in new[] { 1, 32 })
        {
            using var x = (IlgpuActivation)gpu.Allocate(rows, vocab);
            var data = TestWeights.RandomValues(rows * vocab, 3, 10f);
            x.Buffer.View.SubView(0, data.Length).CopyFromCPU(ref data[0], data.Length);
            var idx = new int[rows];
            var val = new float[rows];
            var host = new float[rows * vocab];
            double Time(Action step)
            {
                step();
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < iters; i++) step();
                return sw.Elapsed.TotalMilliseconds / iters;
            }
            double kernel = Time(() => gpu.ArgMax(x, rows, idx, val));
            double copy = Time(() =>
            {
                gpu.Read(x, rows, host);
                for (int r = 0; r < rows; r++) idx[r] = TensorPrimitives.IndexOfMax<float>(host.AsSpan(r * vocab, vocab));
            });
            log($"  argmax {rows}x{vocab}: kernel + 2x{rows} values back {kernel:F3} ms, logits back + host IndexOfMax {copy:F3} ms");
            results.Add(new JsonObject { ["rows"] = rows, ["vocab"] = vocab, ["kernel_ms"] = kernel, ["read_and_host_ms"] = copy });
        }
        return results;
    }
}
