namespace Inference.Tests.Safetensors;

/// <summary>Asks Linux which files this process still has mapped or open, to prove disposal really happened.</summary>
internal static class ProcessFiles
{
    public static bool IsMapped(string path)
    {
        string full = Path.GetFullPath(path);
        return File.ReadLines("/proc/self/maps").Any(line => line.EndsWith(" " + full, StringComparison.Ordinal)
                                                            || line.EndsWith(" " + full + " (deleted)", StringComparison.Ordinal));
    }

    public static bool IsOpen(string path)
    {
        string full = Path.GetFullPath(path);
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try { target = new FileInfo(fd).LinkTarget; }
            catch (IOException) { continue; } // the descriptor closed while we looked
            if (target == full)
                return true;
        }
        return false;
    }

    public static void AssertReleased(string path)
    {
        Assert.False(IsMapped(path), $"{path} is still mapped");
        Assert.False(IsOpen(path), $"{path} is still open");
    }
}
