using EdgeVerifier.Configuration;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Hosting;

/// <summary>Turns validated options into the key sources and the verifier (start-up only).</summary>
public static class VerifierFactory
{
    public static VerifierPolicy CreatePolicy(VerifierOptions o)
    {
        var allowed = 0;
        foreach (var name in o.Algorithms)
        {
            allowed |= SigningAlgorithms.Parse(name).Bit();
        }

        return new VerifierPolicy
        {
            MaxTokenLength = o.MaxTokenBytes,
            AllowedAlgorithms = o.Algorithms.Length == 0 ? VerifierPolicy.AllAlgorithms : allowed,
            Types = o.TokenTypes.Length == 0 ? TypPolicy.Default : new TypPolicy(o.TokenTypes),
            Claims = new ClaimsPolicy(
                o.AnyIssuer ? [] : o.Issuers,
                o.AnyAudience ? [] : o.Audiences,
                TimeSpan.FromSeconds(o.ClockSkewSeconds),
                o.RequireExpiration,
                o.RequiredClaims,
                o.ClaimHeaders),
        };
    }

    /// <summary>Opens the configured key source; null and a one-line reason when it cannot be used.</summary>
    public static KeyResolver? CreateKeys(VerifierOptions o, KeyFileLoader loader, TimeProvider time, ILoggerFactory loggers, out string? error)
    {
        var logger = loggers.CreateLogger("EdgeVerifier.Keys");
        var recheck = TimeSpan.FromSeconds(o.KeyRecheckSeconds);
        var path = o.Keys!;
        if (Directory.Exists(path))
        {
            error = null;
            return new KeyResolver([new DirectoryKeySource(path, loader, time, recheck, o.MinRsaKeyBits, logger)]);
        }

        var file = FileKeySource.Open(path, loader, time, recheck, o.MinRsaKeyBits, logger, out var reason);
        if (file is null)
        {
            error = $"Keys: '{path}': {reason}";
            return null;
        }

        error = null;
        return new KeyResolver([file]);
    }
}
