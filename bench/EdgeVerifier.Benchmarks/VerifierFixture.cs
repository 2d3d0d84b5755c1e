using System.Text;
using System.Text.Json;
using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Benchmarks;

/// <summary>
/// A verifier wired as <c>edgeverifier serve --keys DIR</c> wires it (same factory, a real
/// <see cref="DirectoryKeySource"/> over a temp directory), with the network stubbed out and the
/// clock frozen: every key a benchmark needs is resolved once here, so each measured verify is a
/// cached-key hit (or a cached unknown kid) that completes synchronously.
/// </summary>
internal sealed class VerifierFixture : IDisposable
{
    public const string Issuer = "https://issuer.test";
    public const string Audience = "edge";
    public const string UnknownKid = "no-such-kid";

    private readonly KeyFileLoader _loader = new();
    private readonly Dictionary<SigningAlgorithm, SigningKey> _keys = [];

    public VerifierFixture(params SigningAlgorithm[] algorithms)
    {
        // Tokens live a day from the real "now" and the verifier's clock is frozen at that instant,
        // so the IdentityModel baseline (whatever clock it reads) and EdgeVerifier accept the same tokens.
        Now = DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds());
        Time = new FakeTimeProvider(Now);
        Directory = Path.Combine(Path.GetTempPath(), "edgeverifier-bench", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        foreach (var alg in algorithms)
        {
            var key = SigningKey.Generate(alg, "k-" + alg.Name());
            _keys[alg] = key;
            File.WriteAllText(Path.Combine(Directory, key.Kid + ".jwk"), PublicJson(alg));
        }

        var options = new VerifierOptions { Keys = Directory, Issuers = [Issuer], Audiences = [Audience] };
        Resolver = VerifierFactory.CreateKeys(options, _loader, Time, NullLoggerFactory.Instance, out var error)
            ?? throw new InvalidOperationException(error);
        Verifier = new TokenVerifier(VerifierFactory.CreatePolicy(options), Resolver, Time);

        // Warm the key cache: one file read per kid, and one remembered miss for the unknown kid.
        foreach (var key in _keys.Values)
        {
            Expect(Resolver.ResolveAsync(key.Kid!, CancellationToken.None).AsTask().GetAwaiter().GetResult().Status, KeyLookupStatus.Found, key.Kid!);
        }

        Expect(Resolver.ResolveAsync(UnknownKid, CancellationToken.None).AsTask().GetAwaiter().GetResult().Status, KeyLookupStatus.NotFound, UnknownKid);
    }

    public DateTimeOffset Now { get; }

    public FakeTimeProvider Time { get; }

    public string Directory { get; }

    public KeyResolver Resolver { get; }

    public TokenVerifier Verifier { get; }

    /// <summary>The public JWK of <paramref name="alg"/>'s key as JSON (what the key file holds).</summary>
    public string PublicJson(SigningAlgorithm alg) => JsonSerializer.Serialize(_keys[alg].PublicJwk, JwkJsonContext.Default.Jwk);

    /// <summary>A typical access token: header alg/kid/typ, payload iss, aud, sub, iat, exp (+1 day), jti (and <paramref name="extra"/> members).</summary>
    public string Token(SigningAlgorithm alg, string? kid = null, string sub = "user-1", string? extra = null)
    {
        var iat = Now.ToUnixTimeSeconds();
        var more = extra is null ? string.Empty : "," + extra;
        var payload = $"{{\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"sub\":\"{sub}\",\"iat\":{iat},\"exp\":{iat + 86400},\"jti\":\"bench-{sub}\"{more}}}";
        return TokenWriter.Sign(_keys[alg], Encoding.UTF8.GetBytes(payload), kid);
    }

    /// <summary>Checks, before anything is measured, that a token takes the path its benchmark claims.</summary>
    public void ExpectSynchronous(string token, VerifyError expected)
    {
        var pending = Verifier.VerifyAsync(token.AsMemory());
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException($"verify did not complete synchronously (expected {expected.Code()})");
        }

        var actual = pending.Result.Error;
        if (actual != expected)
        {
            throw new InvalidOperationException($"expected {expected.Code()}, got {actual.Code()}");
        }
    }

    private static void Expect(KeyLookupStatus actual, KeyLookupStatus expected, string kid)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException($"warm-up of kid '{kid}': expected {expected}, got {actual}");
        }
    }

    public void Dispose()
    {
        Resolver.Dispose();
        _loader.Dispose();
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
