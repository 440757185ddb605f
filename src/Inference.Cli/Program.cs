using System.CommandLine;

namespace Inference.Cli;

/// <summary>The `inference` executable: serve, generate, run-batch, bench, model, eval.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Inference: an LLM inference server for Llama-family models");
        return root.Parse(args).Invoke();
    }
}
