using System.Text.Json.Nodes;
using Inference.Cli.Commands;
using Inference.Tests;

namespace Inference.Server.Tests;

/// <summary>`inference run-batch`: OpenAI Batch lines through the engine, good and bad lines mixed.</summary>
[Collection(ServerCollection.Name)]
public class RunBatchTests(ServerFixture server)
{
    [Fact]
    public async Task Valid_lines_get_responses_and_bad_lines_get_errors_in_input_order()
    {
        string[] lines =
        [
            """{"custom_id":"a","method":"POST","url":"/v1/completions","body":{"model":"stories260K","prompt":"Once upon a time","max_tokens":60,"temperature":0,"ignore_eos":true}}""",
            """{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"messages":[{"role":"user","content":"Hi"}],"max_tokens":12,"temperature":0}}""",
            """{"custom_id":"c","method":"POST","url":"/v1/completions","body":{"prompt":"Once","temperature":-1}}""",
            "this is not json",
            "",
            """{"custom_id":"e","method":"POST","url":"/v1/embeddings","body":{"input":"x"}}""",
            """{"custom_id":"f","method":"POST","url":"/v1/completions","body":{"model":"nope","prompt":"x"}}""",
            """{"custom_id":"g","method":"POST","url":"/v1/completions","body":{"prompt":["Lily and Ben","Once upon a time"],"max_tokens":5,"temperature":0}}""",
        ];
        using var dir = new TempDir();
        int code = RunBatchCommand.Run(server.Engine, null, lines, dir.File("out.jsonl"));
        Assert.Equal(0, code);
        var results = File.ReadAllLines(dir.File("out.jsonl")).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(7, results.Length);
        Assert.Equal(["a", "b", "c", null, "e", "f", "g"], results.Select(r => (string?)r["custom_id"]));
        Assert.All(results, r => Assert.StartsWith("batch_req_", (string)r["id"]!));

        var a = results[0]["response"]!;
        Assert.Equal(200, (int)a["status_code"]!);
        Assert.Equal((string)Reference.Greedy("Once upon a time")["completion"]!, (string)a["body"]!["choices"]![0]!["text"]!);
        Assert.Equal("text_completion", (string)a["body"]!["object"]!);
        Assert.Null(results[0]["error"]);

        var chat = await server.PostAsync("/v1/chat/completions", """{"messages":[{"role":"user","content":"Hi"}],"max_tokens":12,"temperature":0}""");
        Assert.Equal("chat.completion", (string)results[1]["response"]!["body"]!["object"]!);
        Assert.Equal((string)chat.Body!["choices"]![0]!["message"]!["content"]!, (string)results[1]["response"]!["body"]!["choices"]![0]!["message"]!["content"]!);

        Assert.Equal(400, (int)results[2]["response"]!["status_code"]!);
        Assert.Equal("temperature", (string)results[2]["response"]!["body"]!["error"]!["param"]!);

        Assert.Null(results[3]["response"]);
        Assert.Contains("line 4", (string)results[3]["error"]!["message"]!);
        Assert.Contains("/v1/embeddings", (string)results[4]["error"]!["message"]!);
        Assert.Equal(404, (int)results[5]["response"]!["status_code"]!);
        Assert.Equal(2, results[6]["response"]!["body"]!["choices"]!.AsArray().Count);
    }

    [Fact]
    public void The_executable_reads_and_writes_batch_files()
    {
        using var dir = new TempDir();
        File.WriteAllLines(dir.File("in.jsonl"),
        [
            """{"custom_id":"x","method":"POST","url":"/v1/completions","body":{"prompt":"Once upon a time","max_tokens":60,"temperature":0,"ignore_eos":true}}""",
            """{"custom_id":"y","method":"POST","url":"/v1/completions","body":{"prompt":"Once","n":0}}""",
        ]);
        var (code, _, stderr) = Cli.Run("run-batch", "--model", RepoPaths.Stories260K, "--device", "cpu", "--kv-cache-memory", "8000000",
            "-i", dir.File("in.jsonl"), "-o", dir.File("out.jsonl"));
        Assert.True(code == 0, stderr);
        Assert.Contains("[2/2]", stderr);
        var results = File.ReadAllLines(dir.File("out.jsonl")).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal((string)Reference.Greedy("Once upon a time")["completion"]!, (string)results[0]["response"]!["body"]!["choices"]![0]!["text"]!);
        Assert.Equal(400, (int)results[1]["response"]!["status_code"]!);
    }
}
