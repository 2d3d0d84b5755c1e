namespace EdgeVerifier.Tests.Support;

/// <summary>
/// Replaces a file the way a careful operator (or a config-management tool) does: write a temporary
/// sibling, then rename over the target, so no reader ever sees a truncated or half-written file.
/// </summary>
public static class AtomicFile
{
    public static void Replace(string path, string content)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
