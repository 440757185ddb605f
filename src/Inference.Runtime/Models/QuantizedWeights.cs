using System.Text.Json.Nodes;
using Inference.Kernels;
using Inference.Safetensors;

namespace Inference.Models;

/// <summary>The weight-only quantization settings of a model: what --quantize asks for or config.json records.</summary>
public sealed record QuantizationSpec(WeightFormat Format, int GroupSize, bool ZeroPoints)
{
    public const string Method = "inference";

    public static QuantizationSpec Parse(string name, int groupSize) => name switch
    {
        "int8" => new(WeightFormat.Int8, 0, false),
        "int4" or "int4-zp" or "int4z" when groupSize < 2 || groupSize % 2 != 0 =>
            throw new InferenceException($"--quant-group-size {groupSize}: int4 groups must be a positive even number"),
        "int4" => new(WeightFormat.Int4, groupSize, false),
        "int4-zp" or "int4z" => new(WeightFormat.Int4, groupSize, true),
        _ => throw new InferenceException($"--quantize {name}: supported are none, int8, int4 (symmetric) and int4-zp (with zero points)"),
    };

    public string Name => Format == WeightFormat.Int8 ? "int8" : ZeroPoints ? "int4-zp" : "int4";

    public JsonObject ToJson() => new()
    {
        ["quant_method"] = Method,
        ["format"] = Format == WeightFormat.Int8 ? "int8" : "int4",
        ["group_size"] = GroupSize,
        ["zero_points"] = ZeroPoints,
    };

    public static QuantizationSpec FromJson(JsonObject o, string path)
    {
        if ((string?)o["quant_method"] != Method)
            throw new ModelFormatException(path, $"quantization_config.quant_method '{o["quant_method"]}' is not supported (only '{Method}', written by `inference model quantize`)");
        var format = (string?)o["format"] switch
        {
            "int8" => WeightFormat.Int8,
            "int4" => WeightFormat.Int4,
            var f => throw new ModelFormatException(path, $"quantization_config.format '{f}' is not int8 or int4"),
        };
        return new(format, (int?)o["group_size"] ?? 0, (bool?)o["zero_points"] ?? false);
    }

    /// <summary>
    /// Quantizes one F32/F16/BF16 matrix. An int4 matrix whose width the group size does not divide is kept
    /// at int8 instead (the saved dtype, I8 or U8, says which each tensor is).
    /// </summary>
    public HostWeight Quantize(HostWeight w) =>
        Format == WeightFormat.Int8 || w.Cols % GroupSize != 0 ? Quantizer.ToInt8(w) : Quantizer.ToInt4(w, GroupSize, ZeroPoints);

    /// <summary>Tensor names next to "X.weight": "X.scales" and "X.zeros".</summary>
    public static string Sibling(string weightName, string suffix) =>
        (weightName.EndsWith(".weight", StringComparison.Ordinal) ? weightName[..^".weight".Length] : weightName) + "." + suffix;
}

/// <summary>Quantizes every matrix at load from the mapped safetensors (norms and biases stay F32).</summary>
public sealed class QuantizingWeightSource(SafetensorsModel st, QuantizationSpec spec) : IWeightSource
{
    private readonly SafetensorsWeightSource _inner = new(st);
    private readonly List<HostWeight> _owned = [];

    public IReadOnlyList<HostWeight> OwnedMatrices => _owned;

    public HostWeight Matrix(string name, int rows, int cols)
    {
        var q = spec.Quantize(_inner.Matrix(name, rows, cols));
        _owned.Add(q);
        return q;
    }

    public HostWeight Vector(string name, int n) => _inner.Vector(name, n);
}

/// <summary>
/// Weights of a folder written by `inference model quantize`: "X.weight" as I8 (int8) or U8 (packed int4)
/// with "X.scales" (and "X.zeros"), used in place from the mapped files; F32/F16/BF16 matrices pass through.
/// </summary>
public sealed unsafe class QuantizedWeightSource(SafetensorsModel st, QuantizationSpec spec) : IWeightSource
{
    private readonly SafetensorsWeightSource _inner = new(st);

    public IReadOnlyList<HostWeight> OwnedMatrices => [];

    public HostWeight Matrix(string name, int rows, int cols)
    {
        if (!st.Contains(name)) return _inner.Matrix(name, rows, cols);
        var info = st.GetInfo(name);
        if (info.DType is DType.F32 or DType.F16 or DType.BF16) return _inner.Matrix(name, rows, cols);
        var scales = Tensor(QuantizationSpec.Sibling(name, "scales"));
        if (info.DType == DType.I8)
        {
            var data = _inner.Get(name, rows, cols);
            Check(scales, DType.F32, rows, name);
            CheckFinite(scales, name);
            return new HostWeight(name, WeightFormat.Int8, rows, cols, data.Pointer, scales.Pointer);
        }
        if (info.DType == DType.U8)
        {
            var data = _inner.Get(name, rows, cols / 2);
            int gs = spec.GroupSize;
            if (gs <= 0 || cols % gs != 0) throw new ModelFormatException(info.FilePath, $"group size {gs} does not divide {cols} columns", name);
            Check(scales, DType.F16, (long)rows * (cols / gs), name);
            CheckFinite(scales, name);
            byte* zeros = null;
            string zname = QuantizationSpec.Sibling(name, "zeros");
            if (st.Contains(zname))
            {
                var z = Tensor(zname);
                Check(z, DType.U8, (long)rows * (cols / gs), name);
                zeros = z.Pointer;
            }
            return new HostWeight(name, WeightFormat.Int4, rows, cols, data.Pointer, scales.Pointer, zeros, gs);
        }
        throw new ModelFormatException(info.FilePath, $"dtype {DTypes.Name(info.DType)} is not a quantized weight (I8 or U8)", name);
    }

    public HostWeight Vector(string name, int n) => _inner.Vector(name, n);

    private TensorView Tensor(string name) =>
        st.Contains(name) ? st.GetView(name) : throw new ModelFormatException(st.Directory, "a quantized weight needs this tensor but no safetensors file has it", name);

    /// <summary>
    /// Scales must be finite: the kernels' paths would otherwise disagree on a corrupt file (the integer path reads
    /// F16 scales through an exact-for-finite conversion), and such a model computes nothing meaningful anyway.
    /// </summary>
    private static void CheckFinite(TensorView v, string weight)
    {
        long n = v.Info.ElementCount;
        for (long i = 0; i < n; i++)
        {
            bool finite = v.Info.DType == DType.F16
                ? (((ushort*)v.Pointer)[i] & 0x7C00) != 0x7C00
                : float.IsFinite(((float*)v.Pointer)[i]);
            if (!finite) throw new ModelFormatException(v.Info.FilePath, $"scale {i} of {weight} is not finite (inf or NaN): the file is corrupt", v.Info.Name);
        }
    }

    private static void Check(TensorView v, DType dtype, long elements, string weight)
    {
        if (v.Info.DType != dtype || v.Info.ElementCount != elements)
            throw new ModelFormatException(v.Info.FilePath, $"{v.Info} should be {DTypes.Name(dtype)} with {elements} elements for {weight}", v.Info.Name);
    }
}
