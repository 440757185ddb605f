using System.CommandLine;
using System.Diagnostics;
using Inference.Models;
using Inference.Safetensors;

namespace Inference.Cli.Commands;

/// <summary>`inference model random|quantize`: make model folders.</summary>
internal static class ModelCommands
{
    public static Command Create()
    {
        var model = new Command("model", "Create model folders");
        model.Subcommands.Add(Random());
        model.Subcommands.Add(Quantize());
        return model;
    }

    private static Command Random()
    {
        var preset = new Option<string>("--preset") { Description = "tiny | 110m | 1b-gqa", Required = true };
        var output = new Option<string>("--out") { Description = "output folder", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "f32 | f16 | bf16", DefaultValueFactory = _ => "f32" };
        var shards = new Option<int>("--shards") { Description = "number of safetensors shards", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "weight seed", DefaultValueFactory = _ => 0UL };
        var cmd = new Command("random", "Write a deterministic random-weight Llama model folder");
        foreach (var o in new Option[] { preset, output, dtype, shards, seed }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var config = RandomModel.Preset(r.GetValue(preset)!);
            var dt = r.GetValue(dtype) switch
            {
                "f32" => DType.F32,
                "f16" => DType.F16,
                "bf16" => DType.BF16,
                var d => throw new InferenceException($"--dtype must be f32, f16 or bf16, got '{d}'"),
            };
            int n = r.GetValue(shards);
            if (n < 1) throw new InferenceException($"--shards must be >= 1, got {n}");
            var sw = Stopwatch.StartNew();
            string dir = r.GetValue(output)!;
            RandomModel.Write(dir, config, dt, n, r.GetValue(seed), new SyncProgress<string>(CommonOptions.Log));
            Console.Error.WriteLine($"wrote {dir} ({r.GetValue(preset)}, {r.GetValue(dtype)}, {n} shard(s)) in {sw.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return cmd;
    }

    private static Command Quantize()
    {
        var model = new Option<string>("--model") { Description = "source model folder (F32/F16/BF16 safetensors)", Required = true };
        var output = new Option<string>("--out") { Description = "output folder", Required = true };
        var format = new Option<string>("--format") { Description = "int8 | int4 | int4-zp", Required = true };
        var groupSize = new Option<int>("--quant-group-size") { Description = "int4 group size", DefaultValueFactory = _ => 32 };
        var cmd = new Command("quantize", "Write a weight-only quantized copy of a model folder that loads directly");
        foreach (var o in new Option[] { model, output, format, groupSize }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var sw = Stopwatch.StartNew();
            var spec = QuantizationSpec.Parse(r.GetValue(format)!, r.GetValue(groupSize));
            QuantizedModelWriter.Write(r.GetValue(model)!, r.GetValue(output)!, spec, new SyncProgress<string>(CommonOptions.Log));
            Console.Error.WriteLine($"wrote {r.GetValue(output)} ({spec.Name}) in {sw.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return cmd;
    }
}
