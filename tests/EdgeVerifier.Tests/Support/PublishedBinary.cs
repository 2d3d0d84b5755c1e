namespace EdgeVerifier.Tests.Support;

/// <summary>
/// Locates the published Native AOT binary for smoke tests: <c>EDGEVERIFIER_BINARY</c>, else
/// <c>artifacts/publish/edgeverifier</c> under the repository root. The test command publishes it first.
/// </summary>
public static class PublishedBinary
{
    public static string Path
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("EDGEVERIFIER_BINARY");
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                return fromEnvironment;
            }

            var candidate = System.IO.Path.Combine(RepositoryRoot, "artifacts", "publish", "edgeverifier");
            if (!File.Exists(candidate))
            {
                throw new FileNotFoundException(
                    $"The published binary is missing at {candidate}. Run: dotnet publish src/EdgeVerifier -c Release -r linux-x64 -o artifacts/publish");
            }

            return candidate;
        }
    }

    public static string RepositoryRoot
    {
        get
        {
            foreach (var attribute in typeof(PublishedBinary).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false))
            {
                if (attribute is System.Reflection.AssemblyMetadataAttribute { Key: "RepositoryRoot", Value: { } root }
                    && File.Exists(System.IO.Path.Combine(root, "EdgeVerifier.sln")))
                {
                    return root;
                }
            }

            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "EdgeVerifier.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new DirectoryNotFoundException("repository root (EdgeVerifier.sln) not found");
        }
    }
}
