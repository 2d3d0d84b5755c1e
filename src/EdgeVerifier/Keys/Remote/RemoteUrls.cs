namespace EdgeVerifier.Keys.Remote;

/// <summary>The <c>Keys</c> forms that name a remote source, and the rule for plain http.</summary>
public static class RemoteUrls
{
    public const string JwksPrefix = "jwks:";
    public const string OidcPrefix = "oidc:";

    public enum Kind : byte
    {
        None,
        BaseUrl,
        Jwks,
        Oidc,
    }

    /// <summary>
    /// <c>https://…</c> is a base URL (<c>{base}/{kid}.jwk</c>); <c>jwks:https://…</c> a JWK Set;
    /// <c>oidc:https://issuer</c> OIDC discovery. Anything else is a local path.
    /// </summary>
    public static Kind Classify(string keys, out Uri? url)
    {
        url = null;
        var kind = Kind.BaseUrl;
        var text = keys;
        if (keys.StartsWith(JwksPrefix, StringComparison.OrdinalIgnoreCase))
        {
            kind = Kind.Jwks;
            text = keys[JwksPrefix.Length..];
        }
        else if (keys.StartsWith(OidcPrefix, StringComparison.OrdinalIgnoreCase))
        {
            kind = Kind.Oidc;
            text = keys[OidcPrefix.Length..];
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            url = uri;
            return kind;
        }

        return kind == Kind.BaseUrl ? Kind.None : kind; // "jwks:notaurl" is an error the validator reports
    }

    /// <summary>https always; http only to a loopback host or when explicitly allowed.</summary>
    public static bool IsAllowed(Uri uri, bool allowHttp) =>
        uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && (allowHttp || uri.IsLoopback));
}
