using System.Buffers;
using EdgeVerifier.Introspection;
using EdgeVerifier.Keys.Remote;
using EdgeVerifier.Policy;
using EdgeVerifier.Revocation;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Options;

namespace EdgeVerifier.Configuration;

/// <summary>Rules of the <c>Introspection</c>, <c>Revocation</c> and <c>Policy</c> sections that span settings or need the file system.</summary>
public sealed class AccessOptionsCrossValidator : IValidateOptions<VerifierOptions>
{
    /// <summary>RFC 6750 §2.1 b64token characters, the alphabet of an opaque-token prefix.</summary>
    private static readonly SearchValues<char> PrefixAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

    /// <summary>RFC 3986 unreserved characters: a query parameter name that needs no encoding.</summary>
    private static readonly SearchValues<char> ParameterAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");

    /// <summary>Claims the verifier reads itself; a path scope under one of these names would be ambiguous.</summary>
    private static readonly string[] ReservedClaims = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "scp", "active"];

    public ValidateOptionsResult Validate(string? name, VerifierOptions options)
    {
        var failure = Introspection(options.Introspection) ?? Revocation(options.Revocation, options.Remote) ?? Policy(options.Policy);
        return failure is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failure);
    }

    private static string? Introspection(IntrospectionOptions o)
    {
        var prefixes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < o.Endpoints.Length; i++)
        {
            var endpoint = o.Endpoints[i];
            var name = $"Introspection:Endpoints:{i}";
            if (string.IsNullOrEmpty(endpoint.Prefix))
            {
                return $"{name}:Prefix: is required (e.g. evt_)";
            }

            if (endpoint.Prefix.Length > 64 || endpoint.Prefix.AsSpan().ContainsAnyExcept(PrefixAlphabet))
            {
                return $"{name}:Prefix: '{endpoint.Prefix}' must be 1-64 characters of [A-Za-z0-9._~+/-]";
            }

            // Every JWT starts with eyJ (base64url of {"): such a prefix would send JWTs to introspection.
            if ("eyJ".StartsWith(endpoint.Prefix, StringComparison.Ordinal) || endpoint.Prefix.StartsWith("eyJ", StringComparison.Ordinal))
            {
                return $"{name}:Prefix: '{endpoint.Prefix}' would also match JWTs (they start with eyJ)";
            }

            if (!prefixes.Add(endpoint.Prefix))
            {
                return $"{name}:Prefix: '{endpoint.Prefix}' is configured twice";
            }

            if (string.IsNullOrEmpty(endpoint.Url))
            {
                return $"{name}:Url: is required";
            }

            if (!Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                return $"{name}:Url: '{endpoint.Url}' is not an absolute http(s) URL";
            }

            if (!RemoteUrls.IsAllowed(url, o.AllowHttp))
            {
                return $"{name}:Url: '{endpoint.Url}' is plain http to a non-loopback host (use https, or set Introspection:AllowHttp=true)";
            }

            if ((endpoint.ClientId is null) != (endpoint.ClientSecret is null))
            {
                return $"{name}: ClientId and ClientSecret go together (client_secret_basic)";
            }

            if (endpoint.BearerToken is not null && endpoint.ClientId is not null)
            {
                return $"{name}: set either ClientId/ClientSecret or BearerToken, not both";
            }

            if (FileFailure(name, ("CaFile", endpoint.CaFile), ("ClientCertificateFile", endpoint.ClientCertificateFile), ("ClientKeyFile", endpoint.ClientKeyFile)) is { } file)
            {
                return file;
            }
        }

        if (o.TotalTimeoutMs <= o.AttemptTimeoutMs)
        {
            return "Introspection:TotalTimeoutMs: must be larger than Introspection:AttemptTimeoutMs";
        }

        if (Array.Exists(o.Subjects, string.IsNullOrWhiteSpace))
        {
            return "Introspection:Subjects: a subject is empty";
        }

        if (o.SubjectsFile is { } subjectsFile && !File.Exists(subjectsFile))
        {
            return $"Introspection:SubjectsFile: '{subjectsFile}' does not exist";
        }

        if ((o.Subjects.Length > 0 || o.SubjectsFile is not null) && o.Endpoints.Length == 0)
        {
            return "Introspection:Subjects: known subjects apply to introspected tokens, and no Introspection:Endpoints are configured";
        }

        return null;
    }

    private static string? Revocation(RevocationOptions o, RemoteKeyOptions remote)
    {
        if (o.Url is not null && o.Path is not null)
        {
            return "Revocation: set Url or Path, not both";
        }

        if (o.Url is { } text)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                return $"Revocation:Url: '{text}' is not an absolute http(s) URL";
            }

            if (!RemoteUrls.IsAllowed(url, remote.AllowHttp))
            {
                return $"Revocation:Url: '{text}' is plain http to a non-loopback host (use https, or set Remote:AllowHttp=true)";
            }
        }
        else if (o.CaFile is not null || o.ClientCertificateFile is not null || o.ClientKeyFile is not null)
        {
            return "Revocation: CaFile and client certificates apply to Revocation:Url only";
        }

        if (o.Path is { } path && !File.Exists(path))
        {
            return $"Revocation:Path: '{path}' does not exist";
        }

        if (!string.Equals(o.StalePolicy, RevocationOptions.FailClosed, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(o.StalePolicy, RevocationOptions.FailOpen, StringComparison.OrdinalIgnoreCase))
        {
            return $"Revocation:StalePolicy: '{o.StalePolicy}' is not fail-closed or fail-open";
        }

        if (o.MaxAgeSeconds <= o.RefreshSeconds)
        {
            return "Revocation:MaxAgeSeconds: must be larger than Revocation:RefreshSeconds (else the list is stale between refreshes)";
        }

        return FileFailure("Revocation", ("CaFile", o.CaFile), ("ClientCertificateFile", o.ClientCertificateFile), ("ClientKeyFile", o.ClientKeyFile));
    }

    private static string? Policy(PolicyOptions o)
    {
        if (o.RequiredScopes.Length > ClaimsPolicy.MaxRequiredScopes)
        {
            return $"Policy:RequiredScopes: at most {ClaimsPolicy.MaxRequiredScopes} scopes";
        }

        var scopes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var scope in o.RequiredScopes)
        {
            // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
            if (string.IsNullOrEmpty(scope) || Array.Exists(scope.ToCharArray(), c => c is <= ' ' or '"' or '\\' or > '~'))
            {
                return $"Policy:RequiredScopes: '{scope}' is not a scope token (visible ASCII, no space, quote or backslash)";
            }

            if (!scopes.Add(scope))
            {
                return $"Policy:RequiredScopes: '{scope}' is listed twice";
            }
        }

        if (o.PathScopeClaim is { } claim)
        {
            if (claim.Length == 0)
            {
                return "Policy:PathScopeClaim: is empty";
            }

            if (Array.IndexOf(ReservedClaims, claim) >= 0)
            {
                return $"Policy:PathScopeClaim: '{claim}' is a claim the verifier reads for another purpose";
            }
        }

        foreach (var prefix in o.PublicPaths)
        {
            if (string.IsNullOrEmpty(prefix) || RequestPath.Normalise(prefix) != prefix || prefix.Contains('?', StringComparison.Ordinal))
            {
                return $"Policy:PublicPaths: '{prefix}' is not a canonical path (starts with /, no //, dot segments, %-escapes or query)";
            }

            if (prefix.Contains('%', StringComparison.Ordinal))
            {
                return $"Policy:PublicPaths: '{prefix}' holds a %-escape; write the decoded path";
            }
        }

        if (o.QueryParameter is { } parameter && (parameter.Length is 0 or > 64 || parameter.AsSpan().ContainsAnyExcept(ParameterAlphabet)))
        {
            return $"Policy:QueryParameter: '{parameter}' must be 1-64 characters of [A-Za-z0-9._~-]";
        }

        return null;
    }

    private static string? FileFailure(string name, params (string Setting, string? Path)[] files)
    {
        foreach (var (setting, path) in files)
        {
            if (path is not null && !File.Exists(path))
            {
                return $"{name}:{setting}: '{path}' does not exist";
            }
        }

        return null;
    }
}
