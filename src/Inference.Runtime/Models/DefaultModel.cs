namespace Inference.Models;

/// <summary>
/// The built-in model used when no --model is given: the tiny random preset, generated once into a cache
/// folder so the program runs on a fresh machine with nothing downloaded.
/// </summary>
public static class DefaultModel
{
    public const string Preset = "tiny";

    public static string CacheRoot =>
        Environment.GetEnvironmentVariable("INFERENCE_CACHE_DIR") is { Length: > 0 } d
            ? d
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "inference");

    /// <summary>Returns the folder of the default model, generating it first if needed.</summary>
    public static string Ensure(Action<string>? log = null)
    {
        string dir = Path.Combine(CacheRoot, "models", "tiny-random");
        string marker = Path.Combine(dir, ".complete");
        if (File.Exists(marker)) return dir;
        log?.Invoke($"generating the built-in default model (preset '{Preset}') into {dir}");
        // Write into a private folder and rename, so a concurrent or interrupted run never sees half a model.
        string tmp = dir + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        RandomModel.Write(tmp, RandomModel.Preset(Preset), seed: 0);
        File.WriteAllText(Path.Combine(tmp, ".complete"), "");
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            Directory.Move(tmp, dir);
        }
        catch (IOException) when (File.Exists(marker))
        {
            Directory.Delete(tmp, true); // another process won the race
        }
        return dir;
    }
}
