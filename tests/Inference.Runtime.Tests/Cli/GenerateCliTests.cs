using Inference.Models;

namespace Inference.Tests.Cli;

public sealed class GenerateCliTests
{
    [Theory]
    [InlineData("stories260K")]
    [InlineData("stories260K-sharded")]
    public void GenerateGreedyPrintsReferenceCompletion(string model)
    {
        var rc = ReferenceCase.Load(RepoPaths.Model(model))[0];
        var r = CliRunner.Run("generate", "--model", RepoPaths.Model(model), "--prompt", rc.Prompt,
            "--max-tokens", rc.MaxTokens.ToString(), "--temperature", "0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(rc.Completion, r.Stdout);
        Assert.Contains("generated tokens: 60", r.Stderr);
        Assert.Contains("tokens/s", r.Stderr);
    }

    [Fact]
    public void GenerateWithoutModelUsesBuiltInDefault()
    {
        using var cache = new TempDir();
        var env = new Dictionary<string, string> { ["INFERENCE_CACHE_DIR"] = cache.Path };
        var r = CliRunner.Run(env, "generate", "--prompt", "Hello", "--max-tokens", "8", "--temperature", "0", "--ignore-eos");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("generated tokens: 8", r.Stderr);
        Assert.True(File.Exists(Path.Combine(cache.Path, "models", "tiny-random", "config.json")));
        // The second run reuses the cached folder and gives the same greedy text.
        var again = CliRunner.Run(env, "generate", "--prompt", "Hello", "--max-tokens", "8", "--temperature", "0", "--ignore-eos");
        Assert.Equal(r.Stdout, again.Stdout);
        Assert.DoesNotContain("generating the built-in default model", again.Stderr);
    }

    [Fact]
    public void SeededSamplingIsRepeatable()
    {
        string[] args = ["generate", "--model", RepoPaths.Stories260K, "--prompt", "Lily and Ben", "--max-tokens", "30", "--temperature", "0.9", "--top-p", "0.9", "--seed", "7"];
        var a = CliRunner.Run(args);
        var b = CliRunner.Run(args);
        Assert.True(a.ExitCode == 0, a.Stderr);
        Assert.Equal(a.Stdout, b.Stdout);
        Assert.NotEmpty(a.Stdout);
    }

    [Fact]
    public void MissingModelFolderIsAClearError()
    {
        var r = CliRunner.Run("generate", "--model", "/no/such/model", "--prompt", "x");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("/no/such/model", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr); // no stack trace
    }

    [Fact]
    public void Bf16KvCacheOnADeviceWithoutItIsAClearError()
    {
        var r = CliRunner.Run("generate", "--model", RepoPaths.Stories260K, "--prompt", "x", "--max-tokens", "2",
            "--device", "ilgpu-cpu", "--kv-cache-dtype", "bf16");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--kv-cache-dtype bf16 is not supported on ilgpu-cpu", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void Bf16KvCachePrintsTheReferenceCompletion()
    {
        var rc = ReferenceCase.Load(RepoPaths.Stories260K)[0];
        var r = CliRunner.Run("generate", "--model", RepoPaths.Stories260K, "--prompt", rc.Prompt,
            "--max-tokens", rc.MaxTokens.ToString(), "--temperature", "0", "--kv-cache-dtype", "bf16");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(rc.Completion, r.Stdout);
    }

    [Fact]
    public void BadEngineOptionFailsBeforeTheModelLoads()
    {
        // The folder does not exist: the option error must come first, naming the option and the value.
        var r = CliRunner.Run("generate", "--model", "/no/such/model", "--prompt", "x", "--kv-cache-dtype", "fp8");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--kv-cache-dtype must be auto, f32, f16 or bf16, got 'fp8'", r.Stderr);
    }

    [Fact]
    public void ModelRandomWritesLoadableShardedFolder()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run("model", "random", "--preset", "tiny", "--out", tmp.Path, "--dtype", "bf16", "--shards", "3", "--seed", "4");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(File.Exists(tmp.File("model.safetensors.index.json")));
        Assert.Equal(3, Directory.GetFiles(tmp.Path, "model-*-of-00003.safetensors").Length);
        using var m = LoadedModel.Load(tmp.Path);
        Assert.Equal(4096, m.Config.VocabSize);
        Assert.Equal(256, m.Config.HiddenSize);
        Assert.Equal("bfloat16", m.Config.TorchDtype);
        var gen = CliRunner.Run("generate", "--model", tmp.Path, "--prompt", "abc", "--max-tokens", "5", "--temperature", "0", "--ignore-eos");
        Assert.True(gen.ExitCode == 0, gen.Stderr);
    }

    [Fact]
    public void BenchLatencyPrintsJson()
    {
        var r = CliRunner.Run("bench", "latency", "--model", RepoPaths.Stories260K, "--input-len", "32", "--output-len", "16", "--iterations", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var o = System.Text.Json.Nodes.JsonNode.Parse(r.Stdout.Trim())!;
        Assert.True(o["prefill_tokens_per_s"]!.GetValue<double>() > 0);
        Assert.True(o["decode_tokens_per_s"]!.GetValue<double>() > 0);
    }
}

public sealed class GenerateOnIlgpuCliTests
{
    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator reproduce the reference through the real CLI.</summary>
    [Fact]
    public void IlgpuCpuDevicePrintsReferenceCompletion()
    {
        var rc = ReferenceCase.Load(RepoPaths.Stories260K)[0];
        var r = CliRunner.Run("generate", "--device", "ilgpu-cpu", "--model", RepoPaths.Stories260K, "--prompt", rc.Prompt,
            "--max-tokens", rc.MaxTokens.ToString(), "--temperature", "0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(rc.Completion, r.Stdout);
        Assert.Contains("ilgpu: compiled paged_attention", r.Stderr);
        // Greedy without logprobs: the tokens came from the argmax kernel, not from logits read back.
        Assert.Contains("ilgpu: compiled argmax", r.Stderr);
    }

    [Fact]
    public void UnknownDeviceIsAClearError()
    {
        var r = CliRunner.Run("generate", "--device", "tpu", "--model", RepoPaths.Stories260K, "--prompt", "x");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("unknown --device 'tpu'", r.Stderr);
    }
}
