using EdgeVerifier.Introspection;
using EdgeVerifier.Policy;
using EdgeVerifier.Revocation;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Http;

/// <summary>
/// One verification as DESIGN.md orders it, shared by <c>/verify</c> and <c>/v1/verify</c>:
/// dispatch by form (step 2: a configured opaque prefix goes to introspection, anything else to the
/// JWT path), then — on every request, whatever answered (a fresh check or a cache) — the
/// revocation list (step 8) and the access policy (step 7: scopes, path scope). With none of them
/// configured the JWT path is exactly what it was: two null checks and a mask test.
/// </summary>
internal sealed class VerificationPipeline(TokenVerifier jwt, TokenIntrospector? introspector, RevocationList? revocation, AccessPolicy policy)
{
    public TokenVerifier Jwt { get; } = jwt;

    public TokenIntrospector? Introspector { get; } = introspector;

    public RevocationList? Revocation { get; } = revocation;

    public AccessPolicy Policy { get; } = policy;

    public int MaxTokenLength => Jwt.Policy.MaxTokenLength;

    /// <summary>Step 2 and then the JWT path (steps 3–7) or introspection.</summary>
    public ValueTask<VerifyResult> VerifyAsync(ReadOnlyMemory<char> token, bool includePayload, CancellationToken cancellationToken) =>
        Introspector is { } introspector && introspector.Handles(token.Span)
            ? introspector.IntrospectAsync(token, MaxTokenLength, cancellationToken)
            : Jwt.VerifyAsync(token, includePayload, cancellationToken);

    /// <summary>Revocation, then scopes and path scope, for a token that verified.</summary>
    public VerifyResult Authorize(in VerifyResult result, in ForwardedTarget target)
    {
        if (!result.IsValid)
        {
            return result;
        }

        var token = result.Token!;
        if (Revocation is { } revocation)
        {
            var revoked = revocation.Check(token);
            if (revoked != VerifyError.None)
            {
                return VerifyResult.Fail(revoked, result.Kid);
            }
        }

        var denied = Policy.Authorize(token, target);
        return denied == VerifyError.None ? result : VerifyResult.Fail(denied, result.Kid);
    }
}
