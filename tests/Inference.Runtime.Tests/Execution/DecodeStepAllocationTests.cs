using Inference.Execution;
using Inference.Kernels;
using Inference.Kernels.Cpu;
using Inference.Models;

namespace Inference.Tests.Execution;

/// <summary>
/// The decode loop allocates nothing: after a few warm-up steps (buffers that grow once), whole batch-1 decode steps
/// through the model runner on the CPU backend allocate zero bytes, for F32, int8 and int4 weights and each KV cache
/// type. One pool thread, so every allocation would land on this thread's counter.
/// </summary>
public sealed class DecodeStepAllocationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"inference-alloc-{Guid.NewGuid():N}");

    public DecodeStepAllocationTests() => RandomModel.Write(_dir, RandomModel.Preset("tiny"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(null, KvCacheDType.F32)]
    [InlineData(null, KvCacheDType.BF16)]
    [InlineData(null, KvCacheDType.F16)]
    [InlineData("int8", KvCacheDType.BF16)]
    [InlineData("int4", KvCacheDType.F32)]
    public void SteadyStateDecodeStepsAllocateNothing(string? quantize, KvCacheDType kv)
    {
        using var model = LoadedModel.Load(_dir, weightSource: WeightSources.For(quantize, 32));
        using var backend = new CpuBackend(threads: 1);
        using var runner = new ModelRunner(new LlamaModel(backend, model.Weights, 64, 1), 41, 16, kv);
        int[] table = Enumerable.Range(1, 40).ToArray();
        int[] prompt = [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45];
        int[] token = new int[1];
        runner.BeginBatch();
        runner.AddSequence(prompt, 0, table, sample: true);
        token[0] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(runner.Execute());
        int pos = prompt.Length;

        void Step(bool argMax)
        {
            runner.BeginBatch();
            runner.AddSequence(token, pos++, table, sample: true);
            token[0] = argMax ? runner.ExecuteArgMax()[0] : System.Numerics.Tensors.TensorPrimitives.IndexOfMax(runner.Execute());
        }

        for (int i = 0; i < 4; i++) Step(i % 2 == 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 40; i++) Step(i % 2 == 0);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"40 decode steps ({quantize ?? "f32"} weights, {kv} KV) allocated {allocated} bytes");
    }
}
