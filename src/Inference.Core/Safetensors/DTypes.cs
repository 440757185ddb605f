namespace Inference.Safetensors;

/// <summary>Sizes and safetensors spellings of <see cref="DType"/> values.</summary>
public static class DTypes
{
    public static int SizeOf(DType t) => t switch
    {
        DType.F32 => 4,
        DType.F16 => 2,
        DType.BF16 => 2,
        DType.I8 => 1,
        DType.U8 => 1,
        DType.I32 => 4,
        DType.I64 => 8,
        DType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown dtype"),
    };

    public static string Name(DType t) => t switch
    {
        DType.F32 => "F32",
        DType.F16 => "F16",
        DType.BF16 => "BF16",
        DType.I8 => "I8",
        DType.U8 => "U8",
        DType.I32 => "I32",
        DType.I64 => "I64",
        DType.F64 => "F64",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown dtype"),
    };

    /// <summary>Parses the exact, case-sensitive safetensors spelling ("F32", "BF16", ...).</summary>
    public static bool TryParse(string s, out DType t)
    {
        // Enum.TryParse would also accept "f32", "0" and "F32, F16"; the format only has exact names.
        switch (s)
        {
            case "F32": t = DType.F32; return true;
            case "F16": t = DType.F16; return true;
            case "BF16": t = DType.BF16; return true;
            case "I8": t = DType.I8; return true;
            case "U8": t = DType.U8; return true;
            case "I32": t = DType.I32; return true;
            case "I64": t = DType.I64; return true;
            case "F64": t = DType.F64; return true;
            default: t = default; return false;
        }
    }
}
