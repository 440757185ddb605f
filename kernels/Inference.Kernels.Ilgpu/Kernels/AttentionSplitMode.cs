namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>
/// Which attention tiles have their KV partitions computed by separate groups (then merged by
/// <see cref="SplitKvMergeKernel"/>) instead of one after another in one group. Both give bit-identical
/// results, so this only moves work between groups; it is a knob for speed and for tests.
/// </summary>
public enum AttentionSplitMode
{
    /// <summary>Single-token tiles (decode steps) with more than one partition.</summary>
    Auto,
    /// <summary>Never: every tile walks its partitions itself.</summary>
    Never,
    /// <summary>Every tile with more than one partition.</summary>
    Always,
}
