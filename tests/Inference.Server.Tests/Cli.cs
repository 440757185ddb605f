using System.Diagnostics;

namespace Inference.Server.Tests;

/// <summary>Runs the built `inference` executable (beside the test assembly) as a separate process.</summary>
public static class Cli
{
    public static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "inference.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) throw new TimeoutException($"inference {string.Join(' ', args)} did not finish in 2 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
