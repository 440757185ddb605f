using System.CommandLine;
using Inference.Execution;
using Inference.Models;

namespace Inference.Cli.Commands;

/// <summary>`inference eval perplexity`: quality of a (quantized) model on a text, against its F32 self.</summary>
internal static class EvalCommands
{
    public static Command Create()
    {
        var eval = new Command("eval", "Model quality checks");
        eval.Subcommands.Add(PerplexityCommand());
        return eval;
    }

    private static Command PerplexityCommand()
    {
        var common = new CommonOptions();
        var text = new Option<string>("--text") { Description = "UTF-8 text file to score", Required = true };
        var ctx = new Option<int?>("--context") { Description = "chunk length in tokens (default: the model's context, at most 1024)" };
        var cmd = new Command("perplexity", "Teacher-forced perplexity, and with --quantize the top-1 agreement with the unquantized model");
        common.AddModelOptions(cmd);
        cmd.Options.Add(text);
        cmd.Options.Add(ctx);
        cmd.SetAction(r =>
        {
            string path = r.GetValue(text)!;
            if (!File.Exists(path)) throw new InferenceException($"--text {path}: no such file");
            using var backend = common.Backend(r);
            string? quant = r.GetValue(common.Quantize);
            bool quantized = quant is not (null or "" or "none");
            using var baseModel = LoadedModel.Load(common.ModelDir(r), CommonOptions.Log);
            int chunk = r.GetValue(ctx) ?? Math.Min(baseModel.Config.MaxPositionEmbeddings, 1024);
            var tokens = baseModel.Tokenizer.Encode(File.ReadAllText(path));
            var f32 = Perplexity.Evaluate(backend, baseModel.Weights, tokens, chunk);
            string baseLabel = baseModel.Config.QuantizationConfig is null ? "f32" : "saved";
            Console.WriteLine($"{baseModel.Name}: {tokens.Length} tokens, chunks of {chunk}");
            Console.WriteLine($"{baseLabel,-8} perplexity {f32.Perplexity:F4}  (mean nll {f32.MeanNll:F5} over {f32.Predicted} predictions)");
            if (quantized)
            {
                using var qModel = common.LoadModel(r);
                var q = Perplexity.Evaluate(backend, qModel.Weights, tokens, chunk);
                Console.WriteLine($"{quant,-8} perplexity {q.Perplexity:F4}  ({(q.Perplexity / f32.Perplexity - 1) * 100:+0.00;-0.00}% vs {baseLabel}), " +
                                  $"top-1 agreement {q.Agreement(f32) * 100:F2}%");
            }
            return 0;
        });
        return cmd;
    }
}
