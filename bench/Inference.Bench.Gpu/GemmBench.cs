using System.Diagnostics;
using System.Text.Json.Nodes;
using ILGPU.Runtime;
using Inference.Kernels;
using Inference.Kernels.Ilgpu;
using Inference.Tests.Ilgpu;

namespace Inference.Bench.Gpu;

/// <summary>Prefill-sized matmuls (1B shapes, 2048 rows): the shared-memory tiled GEMM against the 4-row kernel it replaces.</summary>
public static class GemmBench
{
    public sealed record Case(string Name, int Rows, int K, int OutFeatures, WeightFormat Format);

    public static IReadOnlyList<Case> Cases(bool dryRun)
    {
        var formats = new[] { WeightFormat.F16, WeightFormat.Int8, WeightFormat.Int4 };
        return dryRun
            ? [.. formats.Select(f => new Case($"gemm_{f}_24x40x36", 24, 40, 36, f))]
            : [.. formats.SelectMany(f => new[]
              {
                  new Case($"gemm_{f}_2048x2048x8192", 2048, 2048, 8192, f),
                  new Case($"gemm_{f}_2048x8192x2048", 2048, 8192, 2048, f),
              })];
    }

    public static JsonArray Run(IlgpuBackend gpu, bool dryRun, Action<string> log)
    {
        var results = new JsonArray();
        int oldMin = gpu.GemmMinRows;
        try
        {
            foreach (var c in Cases(dryRun))
            {
                using var host = TestWeights.Make(c.Format, c.OutFeatures, c.K, 1);
                using var w = gpu.LoadWeight(host);
                using var x = (IlgpuActivation)gpu.Allocate(c.Rows, c.K);
                using var y = gpu.Allocate(c.Rows, c.OutFeatures);
                var xs = TestWeights.RandomValues(c.Rows * c.K, 2);
                x.Buffer.View.SubView(0, xs.Length).CopyFromCPU(ref xs[0], xs.Length);
                int iters = dryRun ? 1 : 10;
                double Time(int minRows)
                {
                    gpu.GemmMinRows = minRows;
                    gpu.MatMul(x, w, null, y, c.Rows);
                    gpu.Synchronize();
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < iters; i++) gpu.MatMul(x, w, null, y, c.Rows);
                    gpu.Synchronize();
                    return sw.Elapsed.TotalMilliseconds / iters;
                }
                double tiled = Time(oldMin);
                double fourRow = Time(int.MaxValue);
                double flop = 2.0 * c.Rows * c.K * c.OutFeatures;
                log($"  {c.Name}: tiled {tiled:F3} ms ({flop / tiled / 1e9:F0} GFLOP/s), 4-row kernel {fourRow:F3} ms ({flop / fourRow / 1e9:F0} GFLOP/s)");
                results.Add(new JsonObject
                {
                    ["name"] = c.Name, ["rows"] = c.Rows, ["k"] = c.K, ["out_features"] = c.OutFeatures, ["format"] = c.Format.ToString(),
                    ["tiled_ms"] = tiled, ["four_row_ms"] = fourRow, ["tiled_gflops"] = flop / tiled / 1e9,
                });
            }
        }
        finally
        {
            gpu.GemmMinRows = oldMin;
        }
        return results;
    }
}
