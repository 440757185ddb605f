using Inference.Kernels.Cpu;
using Inference.Models;
using Inference.Safetensors;

namespace Inference.Tests.Models;

/// <summary>
/// The CPU backend's packed copies of weights read in place from the mapped files: made when a model loads, freed
/// when it is disposed (the mapped weights own nothing, so nothing else would free them), and none for an untied
/// embedding table, which is only looked up.
/// </summary>
public sealed class PackedWeightLifetimeTests
{
    [Fact]
    public void AModelsPackedCopiesGoWithIt()
    {
        using var m = LoadedModel.Load(RepoPaths.Stories260K);
        var q = m.Weights.Layers[0].Q;
        if (!MatMulKernel.TakesPanels(q)) return; // no AVX-512: F32 weights are read unpacked
        using (var backend = new CpuBackend(2))
        using (new LlamaModel(backend, m.Weights, 16, 1))
        {
            Assert.True(q.HasPackedCopy);
            Assert.True(m.Weights.LmHead.HasPackedCopy);
        }
        Assert.False(q.HasPackedCopy);
        Assert.False(m.Weights.LmHead.HasPackedCopy);
    }

    [Fact]
    public void AnUntiedEmbeddingTableIsNotPacked()
    {
        using var tmp = new TempDir();
        var config = RandomModel.Preset("tiny") with { TieWordEmbeddings = false };
        RandomModel.Write(tmp.Path, config, DType.F32, seed: 4);
        using var st = SafetensorsModel.Open(tmp.Path);
        using var weights = LlamaWeights.Load(ModelConfig.Load(tmp.Path), st);
        Assert.False(ReferenceEquals(weights.Embedding, weights.LmHead));
        using var backend = new CpuBackend(2);
        using var model = new LlamaModel(backend, weights, 16, 1);
        Assert.False(weights.Embedding.HasPackedCopy);
        Assert.Equal(MatMulKernel.TakesPanels(weights.LmHead), weights.LmHead.HasPackedCopy);
    }
}
