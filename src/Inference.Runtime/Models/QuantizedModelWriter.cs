using System.Text.Json;
using Inference.Kernels;
using Inference.Safetensors;

namespace Inference.Models;

/// <summary>
/// Writes a quantized copy of a model folder: every 2-D "*.weight" tensor as I8 / packed U8 with its
/// ".scales" (and ".zeros"), everything else as is, config.json with quantization_config, and the
/// tokenizer and generation files. The bytes equal what <see cref="QuantizingWeightSource"/> makes at load.
/// </summary>
public static unsafe class QuantizedModelWriter
{
    public static void Write(string srcDir, string outDir, QuantizationSpec spec, IProgress<string>? progress = null)
    {
        srcDir = Path.GetFullPath(srcDir);
        outDir = Path.GetFullPath(outDir);
        if (srcDir == outDir) throw new InferenceException("--out must differ from --model");
        var config = ModelConfig.Load(srcDir);
        if (config.QuantizationConfig is not null) throw new InferenceException($"{srcDir} is already quantized");
        using var st = SafetensorsModel.Open(srcDir);
        var source = new SafetensorsWeightSource(st);
        var writer = new SafetensorsWriter();
        foreach (string name in st.TensorNames.OrderBy(n => n, StringComparer.Ordinal))
        {
            var info = st.GetInfo(name);
            bool matrix = info.Shape.Length == 2 && name.EndsWith(".weight", StringComparison.Ordinal)
                          && info.DType is DType.F32 or DType.F16 or DType.BF16;
            if (!matrix)
            {
                writer.Add(name, info.DType, info.Shape, st.GetView(name).Bytes);
                continue;
            }
            progress?.Report($"quantizing {name}");
            using var q = spec.Quantize(source.Matrix(name, (int)info.Shape[0], (int)info.Shape[1]));
            if (q.Format == WeightFormat.Int8)
            {
                writer.Add(name, DType.I8, [q.Rows, q.Cols], Bytes(q.Data, q.ElementCount));
                writer.Add(QuantizationSpec.Sibling(name, "scales"), DType.F32, [q.Rows], Bytes(q.Scales, q.Rows * 4L));
            }
            else
            {
                int groups = q.Cols / q.GroupSize;
                writer.Add(name, DType.U8, [q.Rows, q.Cols / 2], Bytes(q.Data, q.ElementCount / 2));
                writer.Add(QuantizationSpec.Sibling(name, "scales"), DType.F16, [q.Rows, groups], Bytes(q.Scales, (long)q.Rows * groups * 2));
                if (q.ZeroPoints != null)
                    writer.Add(QuantizationSpec.Sibling(name, "zeros"), DType.U8, [q.Rows, groups], Bytes(q.ZeroPoints, (long)q.Rows * groups));
            }
        }
        Directory.CreateDirectory(outDir);
        progress?.Report("writing safetensors");
        writer.WriteFolder(outDir, 1);
        foreach (string file in Directory.EnumerateFiles(srcDir))
        {
            string fileName = Path.GetFileName(file);
            if (fileName.EndsWith(".safetensors", StringComparison.Ordinal) || fileName is "model.safetensors.index.json" or "config.json"
                || fileName.EndsWith(".gguf", StringComparison.Ordinal))
                continue;
            File.Copy(file, Path.Combine(outDir, fileName), overwrite: true);
        }
        var json = config.ToJson();
        json["quantization_config"] = spec.ToJson();
        File.WriteAllText(Path.Combine(outDir, "config.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static ReadOnlySpan<byte> Bytes(void* p, long n) => new(p, checked((int)n));
}
