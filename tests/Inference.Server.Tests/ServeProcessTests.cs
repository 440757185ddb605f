using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Inference.Tests;

namespace Inference.Server.Tests;

/// <summary>`inference serve` as a real process: it logs its URL, serves, and drains in-flight requests on SIGTERM.</summary>
public class ServeProcessTests
{
    [Fact]
    public async Task Sigterm_lets_the_in_flight_stream_finish_then_exits_0()
    {
        int port = FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "inference.dll"), "serve", "--model", RepoPaths.Stories260K, "--device", "cpu",
                     "--port", port.ToString(), "--kv-cache-memory", "64000000", "--api-key", "k" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
            await WaitHealthy(http);
            lock (stderr) Assert.Contains($"serving 'stories260K' at http://127.0.0.1:{port}/v1", stderr.ToString());

            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent("""{"prompt":"Once upon a time","max_tokens":300,"n":4,"temperature":0,"ignore_eos":true,"stream":true}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new("Bearer", "k");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: {", await reader.ReadLineAsync());

            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString()])) kill.WaitForExit();
            string rest = await reader.ReadToEndAsync();
            Assert.EndsWith("data: [DONE]\n\n", rest);
            Assert.Equal(4, rest.Split("\"finish_reason\":\"length\"").Length - 1);
            Assert.True(p.WaitForExit(60_000), "the server did not exit after SIGTERM");
            Assert.Equal(0, p.ExitCode);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    private static async Task WaitHealthy(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await http.GetAsync("/health")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException("the server did not become healthy in 60 s");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
