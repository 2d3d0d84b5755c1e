using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// Signing keys for every algorithm, generated once per test run (RSA generation is slow),
/// and helpers that write their public halves as <c>{kid}.jwk</c> files.
/// </summary>
public static class TestKeys
{
    private static readonly ConcurrentDictionary<SigningAlgorithm, SigningKey> Keys = new();

    /// <summary>The key for <paramref name="alg"/>, with kid <c>k-{alg}</c> (e.g. <c>k-ES256</c>).</summary>
    public static SigningKey For(SigningAlgorithm alg) =>
        Keys.GetOrAdd(alg, a => SigningKey.Generate(a, "k-" + a.Name()));

    /// <summary>A fresh key (not shared) with the given kid.</summary>
    public static SigningKey Fresh(SigningAlgorithm alg, string kid) => SigningKey.Generate(alg, kid);

    public static string PublicJson(SigningKey key) => JsonSerializer.Serialize(key.PublicJwk, JwkJsonContext.Default.Jwk);

    /// <summary>Writes <c>{dir}/{kid}.jwk</c> with the public half of <paramref name="key"/>.</summary>
    public static string WritePublic(string directory, SigningKey key, string? kid = null)
    {
        var path = Path.Combine(directory, (kid ?? key.Kid) + ".jwk");
        File.WriteAllText(path, PublicJson(key));
        return path;
    }

    /// <summary>Writes the public halves of the keys for every algorithm into <paramref name="directory"/>.</summary>
    public static void WriteAllPublic(string directory)
    {
        foreach (var alg in SigningAlgorithms.All)
        {
            WritePublic(directory, For(alg));
        }
    }
}

/// <summary>Builds payloads and tokens for tests.</summary>
public static class TestTokens
{
    public const string Issuer = "https://issuer.test";
    public const string Audience = "edge";

    /// <summary>A standard payload: iss, aud, sub, iat = now, exp = now + lifetime.</summary>
    public static string Payload(DateTimeOffset now, TimeSpan? lifetime = null, string sub = "user-1", string? extra = null)
    {
        var iat = now.ToUnixTimeSeconds();
        var exp = iat + (long)(lifetime ?? TimeSpan.FromHours(1)).TotalSeconds;
        var more = extra is null ? string.Empty : "," + extra;
        return $"{{\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"sub\":\"{sub}\",\"iat\":{iat},\"exp\":{exp}{more}}}";
    }

    public static string Sign(SigningKey key, string payloadJson, string? kid = null) =>
        TokenWriter.Sign(key, Encoding.UTF8.GetBytes(payloadJson), kid);

    public static string SignRaw(SigningKey key, string headerJson, string payloadJson) =>
        TokenWriter.SignRaw(key, Encoding.UTF8.GetBytes(headerJson), Encoding.UTF8.GetBytes(payloadJson));

    /// <summary>A valid token for <paramref name="alg"/> at <paramref name="now"/>, signed by <see cref="TestKeys.For"/>.</summary>
    public static string Valid(SigningAlgorithm alg, DateTimeOffset now, string sub = "user-1") =>
        Sign(TestKeys.For(alg), Payload(now, sub: sub));
}
