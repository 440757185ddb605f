using System.CommandLine;
using Inference.Cli.Commands;

namespace Inference.Cli;

/// <summary>The `inference` executable: serve, generate, run-batch, bench, model, eval, chat-template.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        DeviceBackends.Register();
        var root = new RootCommand("Inference: an LLM inference server for Llama-family models (OpenAI API, gRPC, metrics)");
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ModelCommands.Create());
        root.Subcommands.Add(BenchCommands.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(RunBatchCommand.Create());
        root.Subcommands.Add(ChatTemplateCommand.Create());
        root.Subcommands.Add(EvalCommands.Create());
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (InferenceException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
