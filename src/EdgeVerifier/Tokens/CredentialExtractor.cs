using Microsoft.Extensions.Primitives;

namespace EdgeVerifier.Tokens;

/// <summary>
/// DESIGN.md step 1: finds the bearer token in the Authorization header(s) without copying it.
/// </summary>
public static class CredentialExtractor
{
    /// <summary>
    /// Extracts the token from <c>Authorization: Bearer &lt;token&gt;</c> (scheme case-insensitive,
    /// RFC 7235 §2.1). Empty, repeated or oversized credentials are refused.
    /// </summary>
    public static VerifyError FromAuthorization(StringValues headers, int maxTokenLength, out ReadOnlyMemory<char> token)
    {
        var error = FromAuthorization(headers, maxTokenLength, out token, out var scheme);
        if (error == VerifyError.None && scheme != AuthScheme.Bearer)
        {
            token = default;
            return VerifyError.MissingToken;
        }

        return error;
    }

    /// <summary>As above, also accepting <c>Authorization: DPoP &lt;token&gt;</c> (RFC 9449 §7.1).</summary>
    public static VerifyError FromAuthorization(StringValues headers, int maxTokenLength, out ReadOnlyMemory<char> token, out AuthScheme scheme)
    {
        token = default;
        scheme = AuthScheme.Bearer;
        if (headers.Count == 0)
        {
            return VerifyError.MissingToken;
        }

        if (headers.Count > 1)
        {
            return VerifyError.MultipleTokens;
        }

        var value = headers[0];
        if (string.IsNullOrEmpty(value))
        {
            return VerifyError.MissingToken;
        }

        var span = value.AsSpan();
        var start = 0;
        while (start < span.Length && span[start] is ' ' or '\t')
        {
            start++;
        }

        int schemeLength;
        if (IsScheme(span[start..], "Bearer"))
        {
            schemeLength = 6;
        }
        else if (IsScheme(span[start..], "DPoP"))
        {
            schemeLength = 4;
            scheme = AuthScheme.DPoP;
        }
        else
        {
            return VerifyError.MissingToken;
        }

        var tokenStart = start + schemeLength;
        while (tokenStart < span.Length && span[tokenStart] is ' ' or '\t')
        {
            tokenStart++;
        }

        var end = span.Length;
        while (end > tokenStart && span[end - 1] is ' ' or '\t')
        {
            end--;
        }

        if (end == tokenStart)
        {
            return VerifyError.MissingToken;
        }

        if (end - tokenStart > maxTokenLength)
        {
            return VerifyError.TokenTooLarge;
        }

        var candidate = span[tokenStart..end];
        if (candidate.ContainsAny(' ', '\t', ','))
        {
            // "Bearer a b" or "Bearer a, Bearer b": more than one credential in one header.
            return VerifyError.MultipleTokens;
        }

        token = value.AsMemory(tokenStart, end - tokenStart);
        return VerifyError.None;
    }

    private static bool IsScheme(ReadOnlySpan<char> value, string scheme) =>
        value.Length >= scheme.Length
        && value[..scheme.Length].Equals(scheme, StringComparison.OrdinalIgnoreCase)
        && (value.Length == scheme.Length || value[scheme.Length] is ' ' or '\t');
}

/// <summary>The authentication scheme a credential came with.</summary>
public enum AuthScheme : byte
{
    Bearer,
    DPoP,
}
