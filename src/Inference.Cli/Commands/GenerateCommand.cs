using System.CommandLine;
using System.Diagnostics;
using Inference.Engine;
using Inference.Sampling;

namespace Inference.Cli.Commands;

/// <summary>`inference generate`: streams one completion to stdout, counts and speed to stderr.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var prompt = new Option<string>("--prompt") { Description = "prompt text", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "tokens to generate", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float?>("--temperature") { Description = "0 is greedy (default: generation_config.json, else 1.0)" };
        var topP = new Option<float?>("--top-p") { Description = "nucleus sampling mass" };
        var topK = new Option<int?>("--top-k") { Description = "sample from the k most likely tokens" };
        var minP = new Option<float>("--min-p") { Description = "drop tokens below min_p times the top probability", DefaultValueFactory = _ => 0f };
        var repetition = new Option<float?>("--repetition-penalty") { Description = "penalty for repeated tokens (1 = off)" };
        var seed = new Option<ulong?>("--seed") { Description = "seed for sampling" };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "keep generating past end-of-sequence" };
        var cmd = new Command("generate", "Generate a continuation of a prompt and stream it to stdout");
        common.AddEngineOptions(cmd);
        foreach (var o in new Option[] { prompt, maxTokens, temperature, topP, topK, minP, repetition, seed, ignoreEos }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            // Options first: a typo fails at once, not after the model has loaded.
            var options = common.EngineOptions(r) with { MaxNumSeqs = 1 };
            using var model = common.LoadModel(r);
            using var backend = common.Backend(r);
            using var engine = new LlmEngine(model, backend, options, CommonOptions.Log);
            var d = model.Defaults;
            var p = new SamplingParams
            {
                MaxTokens = r.GetValue(maxTokens),
                Temperature = r.GetValue(temperature) ?? d.Temperature ?? 1f,
                TopP = r.GetValue(topP) ?? d.TopP ?? 1f,
                TopK = r.GetValue(topK) ?? d.TopK ?? 0,
                MinP = r.GetValue(minP),
                RepetitionPenalty = r.GetValue(repetition) ?? d.RepetitionPenalty ?? 1f,
                Seed = r.GetValue(seed),
                IgnoreEos = r.GetValue(ignoreEos),
            };
            int[] ids = model.Tokenizer.Encode(r.GetValue(prompt)!);
            var sw = Stopwatch.StartNew();
            double firstToken = 0;
            int generated = 0;
            string? finish = null;
            var stdout = Console.Out;
            foreach (var o in engine.GenerateAsync("generate", ids, p).ToBlockingEnumerable())
            {
                if (generated == 0 && o.TokenIds.Count > 0) firstToken = sw.Elapsed.TotalSeconds;
                generated = o.CompletionTokens;
                stdout.Write(o.TextDelta);
                stdout.Flush();
                if (o.Error is not null) throw new InferenceException(o.Error);
                if (o.Finished) finish = o.FinishReason?.ToString().ToLowerInvariant();
            }
            double total = sw.Elapsed.TotalSeconds;
            double decode = total - firstToken;
            Console.Error.WriteLine();
            Console.Error.WriteLine($"prompt tokens: {ids.Length}, generated tokens: {generated}, finish: {finish}; " +
                                    $"first token {firstToken * 1000:F1} ms, {(generated > 1 && decode > 0 ? (generated - 1) / decode : 0):F1} tokens/s decode, total {total:F2} s");
            return 0;
        });
        return cmd;
    }
}
