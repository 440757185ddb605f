using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Inference.Tests;

namespace Inference.Server.Tests.Metrics;

/// <summary>
/// A real Prometheus (/usr/bin/prometheus, the Debian package that .ci/run installs) scraping one target every
/// second, with its storage in a temporary folder; killed on Dispose.
/// </summary>
public sealed class PrometheusProcess : IDisposable
{
    public const string Binary = "/usr/bin/prometheus";

    private readonly TempDir _dir = new();
    private readonly Process _process;
    private readonly StringWriter _log = new();

    public Uri BaseAddress { get; }

    public PrometheusProcess(Uri target)
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"{Binary} is missing: install the 'prometheus' Debian package (.ci/run does)");
        int port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        string config = _dir.File("prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: inference
                scrape_interval: 1s
                scrape_timeout: 900ms
                static_configs:
                  - targets: ["{target.Authority}"]
            """);
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[$"--config.file={config}", $"--storage.tsdb.path={_dir.File("data")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start prometheus");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>What Prometheus logged so far, for failure messages.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.WriteLine(line);
    }

    /// <summary>The first value of an instant PromQL query, or null while it has no result (or Prometheus is not up yet).</summary>
    public async Task<double?> QueryAsync(HttpClient http, string promql, CancellationToken ct)
    {
        if (_process.HasExited) throw new InvalidOperationException($"prometheus exited with {_process.ExitCode}: {Log}");
        try
        {
            using var response = await http.GetAsync(new Uri(BaseAddress, "/api/v1/query?query=" + Uri.EscapeDataString(promql)), ct);
            if (!response.IsSuccessStatusCode) return null;
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var result = doc.RootElement.GetProperty("data").GetProperty("result");
            if (result.GetArrayLength() == 0) return null;
            // An instant vector sample is [unix_time, "value"].
            return double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            return null; // not listening yet
        }
    }

    /// <summary>Prometheus's verdict on a query: "success", or the error it reports (a bad expression is HTTP 400).</summary>
    public async Task<string> CheckQueryAsync(HttpClient http, string promql, CancellationToken ct)
    {
        using var response = await http.GetAsync(new Uri(BaseAddress, "/api/v1/query?query=" + Uri.EscapeDataString(promql)), ct);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return doc.RootElement.GetProperty("status").GetString() == "success"
            ? "success"
            : doc.RootElement.GetProperty("error").GetString() ?? "error";
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
        _dir.Dispose();
    }
}
