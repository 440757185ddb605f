namespace Inference.Kernels;

/// <summary>
/// Rotary embedding inverse frequencies (HF's rotate-half convention), with linear or llama3 scaling
/// folded in; every backend rotates with angle = position * InvFreq[i] in F32, as transformers does.
/// </summary>
public sealed class RopeTable
{
    public int HeadDim { get; }
    /// <summary>[HeadDim / 2]</summary>
    public float[] InvFreq { get; }

    public RopeTable(int headDim, float theta, string? scalingType = null, float factor = 1f,
        float lowFreqFactor = 1f, float highFreqFactor = 4f, int originalMaxPositions = 8192)
    {
        HeadDim = headDim;
        int half = headDim / 2;
        InvFreq = new float[half];
        for (int i = 0; i < half; i++)
        {
            // transformers: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), computed in F32.
            float exponent = (float)(2 * i) / headDim;
            InvFreq[i] = 1f / MathF.Pow(theta, exponent);
        }
        switch (scalingType)
        {
            case null or "default":
                break;
            case "linear":
                for (int i = 0; i < half; i++) InvFreq[i] /= factor;
                break;
            case "llama3":
            {
                float lowFreqWavelen = originalMaxPositions / lowFreqFactor;
                float highFreqWavelen = originalMaxPositions / highFreqFactor;
                for (int i = 0; i < half; i++)
                {
                    float wavelen = 2f * MathF.PI / InvFreq[i];
                    if (wavelen > lowFreqWavelen)
                    {
                        InvFreq[i] /= factor;
                    }
                    else if (wavelen >= highFreqWavelen)
                    {
                        float smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                        InvFreq[i] = (1f - smooth) * InvFreq[i] / factor + smooth * InvFreq[i];
                    }
                }
                break;
            }
            default:
                throw new ArgumentException($"unsupported rope scaling '{scalingType}'");
        }
    }
}
