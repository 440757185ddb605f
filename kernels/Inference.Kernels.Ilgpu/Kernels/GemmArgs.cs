namespace Inference.Kernels.Ilgpu.Kernels;

/// <summary>Tile shape of <see cref="TiledMatMulKernel"/>: the group's warps as a WarpRows x WarpFeatures grid.</summary>
public struct GemmArgs
{
    public int Rows;
    public int OutFeatures;
    public int WarpRows;
    public int WarpFeatures;
    /// <summary>Warp-widths of K staged per shared-memory tile.</summary>
    public int KSteps;

    public readonly int TileRows => WarpRows * TiledMatMulKernel.LaneRows;
    public readonly int TileFeatures => WarpFeatures * TiledMatMulKernel.LaneFeatures;

    /// <summary>Floats of dynamic shared memory: the X and W tiles, each KSteps warp-widths of K.</summary>
    public readonly int SharedFloats(int warpSize) => (TileRows + TileFeatures) * KSteps * warpSize;
}
