using System.Buffers.Text;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EdgeVerifier.Benchmarks;

/// <summary>
/// A full <see cref="TokenVerifier.VerifyAsync"/> (split, header, cached key, signature, claims)
/// per algorithm and on the failure paths, against IdentityModel's
/// <see cref="JsonWebTokenHandler.ValidateTokenAsync(string, TokenValidationParameters)"/> on the
/// same tokens and the same public keys: the baseline to beat, one per category.
/// <c>SignatureOnly_*</c> is the signature check alone (the cached key's <see cref="VerificationKey.Verify"/>),
/// so the difference to <c>Verify_*</c> is what the verifier adds around the cryptography.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class VerifyBenchmarks : IDisposable
{
    private VerifierFixture _fixture = null!;
    private TokenVerifier _verifier = null!;
    private readonly JsonWebTokenHandler _handler = new();
    private TokenValidationParameters _es256Parameters = null!;
    private TokenValidationParameters _rs256Parameters = null!;
    private string _es256 = null!;
    private string _rs256 = null!;
    private ReadOnlyMemory<char> _es256Memory;
    private ReadOnlyMemory<char> _rs256Memory;
    private ReadOnlyMemory<char> _edDsa;
    private ReadOnlyMemory<char> _hs256;
    private ReadOnlyMemory<char> _badSignature;
    private ReadOnlyMemory<char> _unknownKid;
    private ReadOnlyMemory<char> _malformed;
    private ReadOnlyMemory<char> _malformedHeaderJson;
    private TokenVerifier _cachedVerifier = null!;
    private TokenVerifier _refusingVerifier = null!;
    private VerificationKey _es256Key = null!;
    private VerificationKey _rs256Key = null!;
    private byte[] _es256Input = null!;
    private byte[] _es256Signature = null!;
    private byte[] _rs256Input = null!;
    private byte[] _rs256Signature = null!;

    [GlobalSetup]
    public void Setup()
    {
        _fixture = new VerifierFixture(SigningAlgorithm.ES256, SigningAlgorithm.RS256, SigningAlgorithm.EdDSA, SigningAlgorithm.HS256);
        _verifier = _fixture.Verifier;
        _es256 = _fixture.Token(SigningAlgorithm.ES256);
        _rs256 = _fixture.Token(SigningAlgorithm.RS256);
        _es256Memory = _es256.AsMemory();
        _rs256Memory = _rs256.AsMemory();
        _edDsa = _fixture.Token(SigningAlgorithm.EdDSA).AsMemory();
        _hs256 = _fixture.Token(SigningAlgorithm.HS256).AsMemory();
        _badSignature = FlipSignatureCharacter(_es256).AsMemory();
        _unknownKid = _fixture.Token(SigningAlgorithm.ES256, kid: VerifierFixture.UnknownKid).AsMemory();

        // Cheap reject: a fourth segment (JWE-shaped) fails the structural split.
        _malformed = (_es256 + ".x").AsMemory();

        // Costly reject: a header that passes the cheap object check but is not valid JSON (a trailing comma).
        var badHeader = Base64Url.EncodeToString("{\"alg\":\"ES256\",\"kid\":\"k-ES256\",}"u8);
        _malformedHeaderJson = (badHeader + _es256[_es256.IndexOf('.', StringComparison.Ordinal)..]).AsMemory();

        _es256Key = CachedKey("k-ES256");
        _rs256Key = CachedKey("k-RS256");
        (_es256Input, _es256Signature) = SigningInputAndSignature(_es256);
        (_rs256Input, _rs256Signature) = SigningInputAndSignature(_rs256);
        if (!SignatureOnly_ES256() || !SignatureOnly_RS256())
        {
            throw new InvalidOperationException("the signature-only benchmarks do not verify");
        }

        _es256Parameters = Parameters(SigningAlgorithm.ES256);
        _rs256Parameters = Parameters(SigningAlgorithm.RS256);

        _fixture.ExpectSynchronous(_es256, VerifyError.None);
        _fixture.ExpectSynchronous(_rs256, VerifyError.None);
        _fixture.ExpectSynchronous(_edDsa.ToString(), VerifyError.None);
        _fixture.ExpectSynchronous(_hs256.ToString(), VerifyError.None);
        _fixture.ExpectSynchronous(_badSignature.ToString(), VerifyError.BadSignature);
        _fixture.ExpectSynchronous(_unknownKid.ToString(), VerifyError.UnknownKid);
        _fixture.ExpectSynchronous(_malformed.ToString(), VerifyError.MalformedToken);
        _fixture.ExpectSynchronous(_malformedHeaderJson.ToString(), VerifyError.MalformedToken);
        // The same ES256 token through a verifier with the verified-token cache, warmed once.
        _cachedVerifier = new TokenVerifier(_verifier.Policy, _fixture.Resolver, _fixture.Time, new VerifiedTokenCache(1000, TimeSpan.FromSeconds(60)));
        var first = _cachedVerifier.VerifyAsync(_es256Memory).AsTask().GetAwaiter().GetResult();
        var hit = Verify_ES256_CacheHit();
        if (!first.IsValid || !hit.IsCompletedSuccessfully || !ReferenceEquals(first.Token, hit.Result.Token))
        {
            throw new InvalidOperationException("Verify_ES256_CacheHit is not a synchronous cache hit");
        }

        // The same forged ES256 token through a verifier with the refused-token cache, refused once.
        _refusingVerifier = new TokenVerifier(_verifier.Policy, _fixture.Resolver, _fixture.Time, null, new RefusedTokenCache(1000));
        var refusal = _refusingVerifier.VerifyAsync(_badSignature).AsTask().GetAwaiter().GetResult();
        var again = Fail_BadSignature_RefusedCacheHit();
        if (refusal.Error != VerifyError.BadSignature || !again.IsCompletedSuccessfully || again.Result.Error != VerifyError.BadSignature
            || _refusingVerifier.Refused!.Count != 1)
        {
            throw new InvalidOperationException("Fail_BadSignature_RefusedCacheHit is not a synchronous refused-cache hit");
        }

        ExpectValid(IdentityModel_ES256(), "ES256");
        ExpectValid(IdentityModel_RS256(), "RS256");
    }

    [Benchmark(Baseline = true), BenchmarkCategory("ES256")]
    public Task<TokenValidationResult> IdentityModel_ES256() => _handler.ValidateTokenAsync(_es256, _es256Parameters);

    [Benchmark, BenchmarkCategory("ES256")]
    public ValueTask<VerifyResult> Verify_ES256() => _verifier.VerifyAsync(_es256Memory);

    /// <summary>DESIGN.md step 4: a token seen before (exact text), its time claims and key re-checked.</summary>
    [Benchmark, BenchmarkCategory("ES256")]
    public ValueTask<VerifyResult> Verify_ES256_CacheHit() => _cachedVerifier.VerifyAsync(_es256Memory);

    [Benchmark, BenchmarkCategory("ES256")]
    public bool SignatureOnly_ES256() => _es256Key.Verify(SigningAlgorithm.ES256, _es256Input, _es256Signature);

    [Benchmark(Baseline = true), BenchmarkCategory("RS256")]
    public Task<TokenValidationResult> IdentityModel_RS256() => _handler.ValidateTokenAsync(_rs256, _rs256Parameters);

    [Benchmark, BenchmarkCategory("RS256")]
    public ValueTask<VerifyResult> Verify_RS256() => _verifier.VerifyAsync(_rs256Memory);

    [Benchmark, BenchmarkCategory("RS256")]
    public bool SignatureOnly_RS256() => _rs256Key.Verify(SigningAlgorithm.RS256, _rs256Input, _rs256Signature);

    [Benchmark, BenchmarkCategory("EdDSA")]
    public ValueTask<VerifyResult> Verify_EdDSA() => _verifier.VerifyAsync(_edDsa);

    [Benchmark, BenchmarkCategory("HS256")]
    public ValueTask<VerifyResult> Verify_HS256() => _verifier.VerifyAsync(_hs256);

    [Benchmark, BenchmarkCategory("Failure")]
    public ValueTask<VerifyResult> Fail_BadSignature() => _verifier.VerifyAsync(_badSignature);

    /// <summary>The same forgery again: answered from the refused-token cache, key instance and clock re-checked.</summary>
    [Benchmark, BenchmarkCategory("Failure")]
    public ValueTask<VerifyResult> Fail_BadSignature_RefusedCacheHit() => _refusingVerifier.VerifyAsync(_badSignature);

    /// <summary>A kid the directory does not hold, remembered as missing (no file read per request).</summary>
    [Benchmark, BenchmarkCategory("Failure")]
    public ValueTask<VerifyResult> Fail_UnknownKidCached() => _verifier.VerifyAsync(_unknownKid);

    [Benchmark, BenchmarkCategory("Failure")]
    public ValueTask<VerifyResult> Fail_Malformed() => _verifier.VerifyAsync(_malformed);

    [Benchmark, BenchmarkCategory("Failure")]
    public ValueTask<VerifyResult> Fail_MalformedHeaderJson() => _verifier.VerifyAsync(_malformedHeaderJson);

    [GlobalCleanup]
    public void Dispose()
    {
        _fixture?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// What a .NET service would configure: issuer, audience, the same public JWK, 60 s skew.
    /// IdentityModel reads the real clock; the tokens are valid for a day from set-up.
    /// </summary>
    private TokenValidationParameters Parameters(SigningAlgorithm alg) => new()
    {
        ValidIssuer = VerifierFixture.Issuer,
        ValidAudience = VerifierFixture.Audience,
        IssuerSigningKey = new JsonWebKey(_fixture.PublicJson(alg)),
        ClockSkew = TimeSpan.FromSeconds(60),
    };

    private VerificationKey CachedKey(string kid) =>
        _fixture.Resolver.TryGetCached(kid).Key ?? throw new InvalidOperationException($"kid '{kid}' is not cached");

    private static (byte[] Input, byte[] Signature) SigningInputAndSignature(string token)
    {
        var dot2 = token.LastIndexOf('.');
        return (Encoding.ASCII.GetBytes(token[..dot2]), Base64Url.DecodeFromChars(token.AsSpan(dot2 + 1)));
    }

    /// <summary>Changes one character in the middle of the signature (never the last, whose low bits are padding).</summary>
    private static string FlipSignatureCharacter(string token)
    {
        var chars = token.ToCharArray();
        var i = token.LastIndexOf('.') + 10;
        chars[i] = chars[i] == 'A' ? 'B' : 'A';
        return new string(chars);
    }

    private static void ExpectValid(Task<TokenValidationResult> pending, string alg)
    {
        var result = pending.GetAwaiter().GetResult();
        if (!result.IsValid)
        {
            throw new InvalidOperationException($"IdentityModel refused the {alg} token: {result.Exception?.Message}");
        }
    }
}
