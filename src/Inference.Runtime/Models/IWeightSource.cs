using Inference.Kernels;

namespace Inference.Models;

/// <summary>Where named weights come from: a safetensors folder as is, or one quantized at load.</summary>
public interface IWeightSource
{
    /// <summary>A [rows, cols] matrix; throws <see cref="ModelFormatException"/> if missing or misshapen.</summary>
    HostWeight Matrix(string name, int rows, int cols);

    /// <summary>A vector of n values, always returned as owned F32.</summary>
    HostWeight Vector(string name, int n);

    /// <summary>Matrices this source allocated (e.g. quantized copies) that the model must free.</summary>
    IReadOnlyList<HostWeight> OwnedMatrices { get; }
}
