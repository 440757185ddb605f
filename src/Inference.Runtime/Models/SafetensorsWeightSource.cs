using Inference.Kernels;
using Inference.Safetensors;

namespace Inference.Models;

/// <summary>Weights straight from mapped safetensors: F32, F16 and BF16 matrices are used in place.</summary>
public sealed unsafe class SafetensorsWeightSource(SafetensorsModel st) : IWeightSource
{
    public IReadOnlyList<HostWeight> OwnedMatrices => [];

    public HostWeight Matrix(string name, int rows, int cols)
    {
        var view = Get(name, rows, cols);
        var format = view.Info.DType switch
        {
            DType.F32 => WeightFormat.F32,
            DType.F16 => WeightFormat.F16,
            DType.BF16 => WeightFormat.BF16,
            var d => throw new ModelFormatException(view.Info.FilePath, $"dtype {DTypes.Name(d)} is not supported for a weight matrix (F32, F16, BF16)", name),
        };
        return new HostWeight(name, format, rows, cols, view.Pointer);
    }

    public HostWeight Vector(string name, int n)
    {
        var view = Get(name, 1, n);
        var values = new float[n];
        switch (view.Info.DType)
        {
            case DType.F32: view.AsSpan<float>().CopyTo(values); break;
            case DType.F16: System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(view.AsSpan<Half>(), values); break;
            case DType.BF16: WeightRows.Bf16ToF32(view.AsSpan<ushort>(), values); break;
            default: throw new ModelFormatException(view.Info.FilePath, $"dtype {DTypes.Name(view.Info.DType)} is not supported for a vector", name);
        }
        return HostWeight.FromFloats(name, 1, n, values);
    }

    /// <summary>Looks up a tensor and checks its shape; a vector is requested as [1, n] and stored as [n].</summary>
    internal TensorView Get(string name, int rows, int cols)
    {
        if (!st.Contains(name))
            throw new ModelFormatException(st.Directory, "the model needs this tensor but no safetensors file has it", name);
        var view = st.GetView(name);
        long[] shape = view.Info.Shape;
        bool ok = rows == 1 && shape.Length == 1 ? shape[0] == cols
            : shape.Length == 2 && shape[0] == rows && shape[1] == cols;
        if (!ok)
        {
            string want = rows == 1 ? $"[{cols}]" : $"[{rows}, {cols}]";
            throw new ModelFormatException(view.Info.FilePath, $"shape [{string.Join(", ", shape)}] disagrees with config.json, which implies {want}", name);
        }
        return view;
    }
}
