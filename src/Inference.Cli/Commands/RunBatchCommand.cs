using System.CommandLine;
using Inference.Engine;
using Inference.Server;
using Inference.Server.Batch;

namespace Inference.Cli.Commands;

/// <summary>`inference run-batch`: an OpenAI Batch file through the engine, like `vllm run-batch`.</summary>
internal static class RunBatchCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var input = new Option<string>("--input", "-i") { Description = "requests, one JSON object per line ({custom_id, method, url, body})", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "results, one JSON object per line, in input order", Required = true };
        var name = new Option<string?>("--served-model-name") { Description = "model name the requests may use (default: the model folder's name)" };
        var cmd = new Command("run-batch", "Run an OpenAI Batch file of completions and chat completions");
        common.AddEngineOptions(cmd);
        cmd.Options.Add(input);
        cmd.Options.Add(output);
        cmd.Options.Add(name);
        cmd.SetAction(r =>
        {
            string inputPath = r.GetValue(input)!;
            if (!File.Exists(inputPath)) throw new InferenceException($"--input file '{inputPath}' does not exist");
            var lines = File.ReadAllLines(inputPath);
            var engineOptions = common.EngineOptions(r);
            using var model = common.LoadModel(r);
            using var backend = common.Backend(r);
            using var engine = new LlmEngine(model, backend, engineOptions, CommonOptions.Log);
            return Run(engine, r.GetValue(name), lines, r.GetValue(output)!);
        });
        return cmd;
    }

    /// <summary>Runs the lines and writes the results file; exit code 0 even when some lines failed (they say so).</summary>
    public static int Run(LlmEngine engine, string? servedName, IReadOnlyList<string> lines, string outputPath)
    {
        var served = ModelSlot.Ready(engine, servedName).Require();
        using var writer = new StreamWriter(outputPath, append: false, new System.Text.UTF8Encoding(false));
        int failed = BatchRunner.RunAsync(served, lines, writer, CommonOptions.Log).GetAwaiter().GetResult();
        CommonOptions.Log($"wrote {outputPath}: {lines.Count(l => !string.IsNullOrWhiteSpace(l))} results, {failed} failed");
        return 0;
    }
}
