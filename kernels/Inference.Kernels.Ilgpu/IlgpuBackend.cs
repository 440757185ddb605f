using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Inference.Kernels.Ilgpu.Kernels;

namespace Inference.Kernels.Ilgpu;

/// <summary>The ILGPU backend: one kernel per op on a CUDA GPU or on ILGPU's CPU accelerator.</summary>
public sealed partial class IlgpuBackend : IComputeBackend
{
    private readonly Context _context;
    private readonly KernelCache _kernels;
    private readonly DeviceStep _step;
    private readonly Dictionary<RopeTable, MemoryBuffer1D<float, Stride1D.Dense>> _rope = new(ReferenceEqualityComparer.Instance);
    private MemoryBuffer1D<float, Stride1D.Dense>? _partials;
    // Argmax results [rows, (column, value bits)] on the device and their host copy; grown, never shrunk.
    private MemoryBuffer1D<int, Stride1D.Dense>? _argMax;
    private int[] _argMaxHost = [];
    // 16 blocks of 16 = 256 keys: a 4096-token decode becomes 16 groups per kv head.
    private int _partitionBlocks = 16;

    public Accelerator Accelerator { get; }
    public IlgpuDeviceKind Kind { get; }
    public string Name => $"ilgpu-{Kind.ToString().ToLowerInvariant()} ({Accelerator.Name})";
    /// <summary>Threads per group of the reduction kernels (a power of two).</summary>
    public int ReduceGroup { get; }
    /// <summary>Warps per group of the matmul kernels (one output feature per warp).</summary>
    public int MatMulWarps { get; }
    /// <summary>Rows from which matmul uses the shared-memory tiled GEMM (below: matvec or the 4-row kernel).</summary>
    public int GemmMinRows { get; set; }
    /// <summary>Threads per group of the argmax kernel (whole warps, at most a warp of warps).</summary>
    public int ArgMaxGroup { get; }
    /// <summary>Threads per group of the attention kernel.</summary>
    public int AttentionGroup { get; }
    /// <summary>
    /// KV partition length in blocks for attention (flash-decoding's split). A fixed part of the reduction, like
    /// the block size: changing it may change results in the last bits; it never varies with the batch.
    /// </summary>
    public int AttentionPartitionBlocks
    {
        get => _partitionBlocks;
        set => _partitionBlocks = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "at least one block");
    }
    /// <summary>Which tiles run their KV partitions in separate groups; results are bit-identical either way.</summary>
    public AttentionSplitMode AttentionSplit { get; set; } = AttentionSplitMode.Auto;

    private IlgpuBackend(Context context, Accelerator accelerator, IlgpuDeviceKind kind, Action<string>? log)
    {
        _context = context;
        Accelerator = accelerator;
        Kind = kind;
        _kernels = new KernelCache(accelerator, log);
        _step = new DeviceStep(accelerator);
        int warp = accelerator.WarpSize;
        int maxGroup = accelerator.MaxNumThreadsPerGroup;
        // The CPU accelerator runs every thread of a group as an OS thread and every barrier as a rendezvous:
        // small groups keep it usable; on a GPU the sizes are the usual occupancy-friendly ones.
        bool cpu = kind == IlgpuDeviceKind.Cpu;
        ReduceGroup = FloorPow2(Math.Min(maxGroup, cpu ? 8 : 256));
        MatMulWarps = Math.Max(1, Math.Min(maxGroup / warp, cpu ? 2 : 4));
        AttentionGroup = Math.Min(maxGroup, cpu ? 8 : 128);
        // One group per row reads the whole vocabulary: as many threads as a group takes keeps enough loads in flight.
        ArgMaxGroup = Math.Max(warp, FloorPow2(Math.Min(Math.Min(maxGroup, warp * warp), cpu ? 8 : 1024)));
        GemmMinRows = cpu ? 8 : 16;
        log?.Invoke($"ilgpu: {accelerator.Name}, warp {warp}, max group {maxGroup}, shared/group {accelerator.MaxSharedMemoryPerGroup} B");
    }

    /// <summary>Opens the first device of <paramref name="kind"/>; throws when there is none.</summary>
    public static IlgpuBackend Create(IlgpuDeviceKind kind, Action<string>? log = null)
    {
        Context context;
        Accelerator accelerator;
        if (kind == IlgpuDeviceKind.Cuda)
        {
            CudaLibraryResolver.Install();
            context = Context.Create(b => b.Cuda().EnableAlgorithms());
            if (context.GetCudaDevices().Count == 0)
            {
                context.Dispose();
                throw new InvalidOperationException("no CUDA device (driver missing or no NVIDIA GPU)");
            }
            accelerator = context.GetCudaDevice(0).CreateAccelerator(context);
        }
        else
        {
            // 4 threads per warp, 2 warps per group, one group at a time per core.
            var device = new CPUDevice(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: 2, numMultiprocessors: Math.Max(1, Environment.ProcessorCount));
            context = Context.Create(b => b.CPU(device).EnableAlgorithms());
            accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
        }
        return new IlgpuBackend(context, accelerator, kind, log);
    }

    /// <summary>True when a CUDA device can be opened (driver present and at least one GPU).</summary>
    public static bool CudaAvailable(out string reason)
    {
        try
        {
            CudaLibraryResolver.Install();
            using var context = Context.Create(b => b.Cuda());
            int n = context.GetCudaDevices().Count;
            reason = n > 0 ? $"{n} CUDA device(s)" : "no CUDA device found";
            return n > 0;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or CudaException or InvalidOperationException or EntryPointNotFoundException)
        {
            reason = $"CUDA unavailable: {e.GetType().Name}: {e.Message}";
            return false;
        }
    }

    private static int FloorPow2(int n) => 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)Math.Max(n, 1)));

    public IDeviceWeight LoadWeight(HostWeight weight) => new IlgpuWeight(Accelerator, weight);

    public IActivation Allocate(int maxRows, int cols) => new IlgpuActivation(Accelerator, maxRows, cols);

    public IKvCache AllocateKvCache(KvCacheShape shape) => new IlgpuKvCache(Accelerator, shape);

    /// <summary>F16 on a GPU, where decode attention is bound by reading the cache; the CPU accelerator is for tests.</summary>
    public KvCacheDType PreferredKvCacheDType => Kind == IlgpuDeviceKind.Cuda ? KvCacheDType.F16 : KvCacheDType.F32;

    /// <summary>F32 and F16; BF16 pools are a CPU-backend feature (its kernels here read F32 or F16 only).</summary>
    public bool SupportsKvCacheDType(KvCacheDType dtype) => dtype is KvCacheDType.F32 or KvCacheDType.F16;

    public void BeginStep(StepMetadata meta) => _step.Upload(meta);

    private StepMetadata Meta => _step.Meta ?? throw new InvalidOperationException("BeginStep was not called");

    public void Read(IActivation x, int rows, Span<float> dst)
    {
        var a = (IlgpuActivation)x;
        long n = (long)rows * a.Cols;
        Accelerator.Synchronize();
        if (n > 0) a.Buffer.View.SubView(0, n).CopyToCPU(ref MemoryMarshal.GetReference(dst), n);
    }

    public void Synchronize() => Accelerator.Synchronize();

    public void Dispose()
    {
        foreach (var b in _rope.Values) b.Dispose();
        _partials?.Dispose();
        _argMax?.Dispose();
        _step.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }
}
