using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Options;

namespace EdgeVerifier.Configuration;

/// <summary>Data-annotation checks, generated at compile time (no reflection).</summary>
[OptionsValidator]
public sealed partial class VerifierOptionsValidator : IValidateOptions<VerifierOptions>;

/// <summary>Rules that span settings or need the file system.</summary>
public sealed class VerifierOptionsCrossValidator : IValidateOptions<VerifierOptions>
{
    private static readonly string[] ReservedHeaders = ["X-Auth-Subject", "X-Auth-Issuer", "X-Request-ID", "WWW-Authenticate", "Content-Type", "Content-Length", "Retry-After"];

    public ValidateOptionsResult Validate(string? name, VerifierOptions options)
    {
        var failure = FirstFailure(options);
        return failure is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failure);
    }

    private static string? FirstFailure(VerifierOptions o)
    {
        if (o.Keys is null && o.KeySources.Length == 0)
        {
            return "Keys: is required (a key file, a directory of {kid}.jwk files, a base URL, jwks:URL or oidc:URL)";
        }

        if (o.Keys is { } keys && SourceFailure("Keys", keys, o.Remote) is { } keysFailure)
        {
            return keysFailure;
        }

        for (var i = 0; i < o.KeySources.Length; i++)
        {
            var source = o.KeySources[i];
            var name = $"KeySources:{i}";
            if (source.Keys is null)
            {
                return $"{name}:Keys: is required";
            }

            if (SourceFailure(name + ":Keys", source.Keys, o.Remote) is { } failure)
            {
                return failure;
            }

            foreach (var (setting, path) in new[] { ("CaFile", source.CaFile), ("ClientCertificateFile", source.ClientCertificateFile), ("ClientKeyFile", source.ClientKeyFile) })
            {
                if (path is not null && !File.Exists(path))
                {
                    return $"{name}:{setting}: '{path}' does not exist";
                }
            }
        }

        var remote = o.Remote;
        if (remote.TotalTimeoutMs <= remote.AttemptTimeoutMs)
        {
            return "Remote:TotalTimeoutMs: must be larger than Remote:AttemptTimeoutMs";
        }

        if (remote.MinTtlSeconds > remote.MaxTtlSeconds)
        {
            return "Remote:MinTtlSeconds: must not exceed Remote:MaxTtlSeconds";
        }

        if (o.Issuers.Length == 0 && !o.AnyIssuer)
        {
            return "Issuers: at least one issuer is required (or set AnyIssuer=true to accept any)";
        }

        if (o.Audiences.Length == 0 && !o.AnyAudience)
        {
            return "Audiences: at least one audience is required (or set AnyAudience=true to accept any)";
        }

        if (Array.Exists(o.Issuers, string.IsNullOrEmpty))
        {
            return "Issuers: an issuer is empty";
        }

        if (Array.Exists(o.Audiences, string.IsNullOrEmpty))
        {
            return "Audiences: an audience is empty";
        }

        foreach (var alg in o.Algorithms)
        {
            if (SigningAlgorithms.Parse(alg) == SigningAlgorithm.Unknown)
            {
                return $"Algorithms: '{alg}' is not a supported algorithm (RS/PS/ES 256/384/512, EdDSA, HS256/384/512)";
            }
        }

        if (o.RequiredClaims.Length > ClaimsPolicy.MaxRequiredClaims)
        {
            return $"RequiredClaims: at most {ClaimsPolicy.MaxRequiredClaims} claims";
        }

        if (o.ClaimHeaders.Count > 64)
        {
            return "ClaimHeaders: at most 64 claims";
        }

        foreach (var (claim, header) in o.ClaimHeaders)
        {
            if (string.IsNullOrEmpty(claim) || !IsToken(header))
            {
                return $"ClaimHeaders: '{claim}' → '{header}' is not a claim name and a valid header name";
            }

            if (Array.Exists(ReservedHeaders, r => string.Equals(r, header, StringComparison.OrdinalIgnoreCase)))
            {
                return $"ClaimHeaders: header '{header}' is reserved";
            }
        }

        if (!System.Numerics.BitOperations.IsPow2(o.Replay.Capacity))
        {
            return $"Replay:Capacity: {o.Replay.Capacity} is not a power of two";
        }

        foreach (var url in o.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                return $"Urls: '{url}' is not an http(s) URL";
            }
        }

        return null;
    }

    private static string? SourceFailure(string name, string keys, RemoteKeyOptions remote)
    {
        switch (RemoteUrls.Classify(keys, out var url))
        {
            // Classify answers Jwks/Oidc with no URL for "jwks:notaurl" (it never answers None for a prefixed value).
            case RemoteUrls.Kind.Jwks or RemoteUrls.Kind.Oidc when url is null:
                return $"{name}: '{keys}' does not hold an absolute http(s) URL";
            case RemoteUrls.Kind.None:
                return File.Exists(keys) || Directory.Exists(keys) ? null : $"{name}: '{keys}' is neither a file, a directory nor a URL";
            default:
                return RemoteUrls.IsAllowed(url!, remote.AllowHttp)
                    ? null
                    : $"{name}: '{keys}' is plain http to a non-loopback host (use https, or set Remote:AllowHttp=true)";
        }
    }

    // RFC 9110 §5.6.2 token characters.
    private static bool IsToken(string value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }

        return true;
    }
}
