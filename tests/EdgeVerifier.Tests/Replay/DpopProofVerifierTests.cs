using System.Text;
using System.Text.Json;
using EdgeVerifier.Keys;
using EdgeVerifier.Replay;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Replay;

/// <summary>
/// <see cref="DpopProofVerifier.Check"/>, one RFC 9449 §4.3 rule at a time: a valid proof passes
/// and the same proof with only that rule broken is refused with that rule's failure. The clock is
/// fake; the ring was created ten minutes before "now" so its creation time is out of the way.
/// </summary>
public sealed class DpopProofVerifierTests : IDisposable
{
    private const string Url = "https://api.example.com/orders";

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(VerifierHarness.Start);
    private readonly NonceRing _ring;
    private readonly DpopProofVerifier _verifier;
    private readonly string _token;

    public DpopProofVerifierTests()
    {
        _ring = NonceRing.Open(_dir.File("nonces.ring"), 4096, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromMinutes(10));
        _verifier = NewVerifier(_ring, AllAlgorithms);
        _token = DpopTokens.Bound(_time.GetUtcNow());
    }

    public void Dispose()
    {
        _ring.Dispose();
        _dir.Dispose();
    }

    private static int AllAlgorithms
    {
        get
        {
            var mask = 0;
            foreach (var alg in SigningAlgorithms.All)
            {
                mask |= alg.Bit();
            }

            return mask;
        }
    }

    private long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    private DpopProofVerifier NewVerifier(NonceRing ring, int algorithms) =>
        new(ring, _time, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5), algorithms);

    private DpopProof Proof(SigningKey? key = null) => DpopTokens.Proof(_token, "GET", Url, _time.GetUtcNow(), key);

    private DpopFailure Check(DpopProof proof, string method = "GET", string url = Url) =>
        _verifier.Check(proof.Sign(), method, url, proof.AccessToken).Failure;

    private DpopFailure Check(string proof) => _verifier.Check(proof, "GET", Url, _token).Failure;

    public static TheoryData<string> AsymmetricAlgorithms() =>
        ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"];

    [Theory]
    [MemberData(nameof(AsymmetricAlgorithms))]
    public void Check_ValidProofEachAsymmetricAlgorithm_PassesWithThumbprint(string alg)
    {
        var key = TestKeys.For(SigningAlgorithms.Parse(alg));

        var check = _verifier.Check(Proof(key).Sign(), "GET", Url, _token);

        Assert.Equal(DpopFailure.None, check.Failure);
        Assert.Equal(DpopTokens.Thumbprint(key), check.Thumbprint);
        Assert.Equal(0, check.SkewSeconds);
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("HS384")]
    [InlineData("HS512")]
    public void Check_SymmetricAlgorithm_RefusedAsAlg(string alg)
    {
        // A MAC proves nothing about a client key: even a correct HMAC under the embedded oct key fails.
        var key = TestKeys.For(SigningAlgorithms.Parse(alg));
        var proof = Proof(key);

        Assert.Equal(DpopFailure.Alg, Check(proof));
        Assert.DoesNotContain("HS", _verifier.AlgorithmNames, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("")]
    [InlineData("es256")]
    [InlineData("ES256K")]
    public void Check_UnknownAlgorithm_RefusedAsAlg(string alg)
    {
        Assert.Equal(DpopFailure.Alg, Check(Proof() with { Alg = alg }));
    }

    [Fact]
    public void Check_AlgorithmNotAllowedByPolicy_RefusedAsAlg()
    {
        var esOnly = NewVerifier(_ring, SigningAlgorithm.ES256.Bit());

        var rsa = Proof(TestKeys.For(SigningAlgorithm.RS256));
        var ec = Proof();

        Assert.Equal(DpopFailure.Alg, esOnly.Check(rsa.Sign(), "GET", Url, _token).Failure);
        Assert.Equal(DpopFailure.None, esOnly.Check(ec.Sign(), "GET", Url, _token).Failure);
        Assert.Equal("ES256", esOnly.AlgorithmNames);
    }

    [Fact]
    public void Check_AlgDisagreesWithEmbeddedKey_RefusedAsJwk()
    {
        // A P-256 key under "ES384": the header must agree with the key it embeds.
        Assert.Equal(DpopFailure.Jwk, Check(Proof() with { Alg = "ES384" }));
    }

    [Fact]
    public void Check_EmbeddedKeyIsPrivate_RefusedAsJwk()
    {
        var privateJwk = JsonSerializer.Serialize(DpopTokens.ClientKey.PrivateJwk, JwkJsonContext.Default.Jwk);
        Assert.Contains("\"d\":", privateJwk, StringComparison.Ordinal);

        Assert.Equal(DpopFailure.Jwk, Check(Proof() with { JwkJson = privateJwk }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\"not an object\"")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("{\"kty\":\"EC\",\"crv\":\"P-256\"}")]
    [InlineData("{\"kty\":\"oct\",\"k\":\"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA\"}")]
    public void Check_EmbeddedKeyMissingOrUnusable_RefusedAsJwk(string jwk)
    {
        Assert.Equal(DpopFailure.Jwk, Check(Proof() with { JwkJson = jwk }));
    }

    [Fact]
    public void Check_EmbeddedKeyWithUseEnc_RefusedAsJwk()
    {
        var jwk = JsonSerializer.Serialize(DpopTokens.ClientKey.PublicJwk with { Use = "enc" }, JwkJsonContext.Default.Jwk);

        Assert.Equal(DpopFailure.Jwk, Check(Proof() with { JwkJson = jwk }));
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData("at+jwt")]
    [InlineData("dpop+jwt ")]
    [InlineData("dpop")]
    [InlineData(null)]
    public void Check_TypNotDpopJwt_RefusedAsTyp(string? typ)
    {
        Assert.Equal(DpopFailure.Typ, Check(Proof() with { Typ = typ }));
    }

    [Fact]
    public void Check_TypDifferentCase_Passes()
    {
        // A media type: compared case-insensitively (RFC 2045 §5.1).
        Assert.Equal(DpopFailure.None, Check(Proof() with { Typ = "DPoP+JWT" }));
    }

    [Fact]
    public void Check_SignedByAnotherKeyThanEmbedded_RefusedAsSignature()
    {
        var proof = Proof(DpopTokens.OtherClientKey) with { JwkJson = TestKeys.PublicJson(DpopTokens.ClientKey) };

        Assert.Equal(DpopFailure.Signature, Check(proof));
    }

    [Fact]
    public void Check_PayloadChangedAfterSigning_RefusedAsSignature()
    {
        var proof = Proof();
        var tampered = Jws.WithPayload(proof.Sign(), proof.PayloadJson.Replace("GET", "PUT", StringComparison.Ordinal));

        Assert.Equal(DpopFailure.Signature, _verifier.Check(tampered, "PUT", Url, _token).Failure);
    }

    [Theory]
    [InlineData("\"crit\":[\"exp\"]")]
    [InlineData("\"typ\":\"dpop+jwt\"")]
    [InlineData("\"alg\":\"ES256\"")]
    public void Check_CritOrDuplicateHeaderMember_RefusedAsMalformed(string extra)
    {
        Assert.Equal(DpopFailure.Malformed, Check(Proof() with { ExtraHeader = extra }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("!!!.e30.AA")]
    public void Check_NotACompactJws_RefusedAsMalformed(string proof)
    {
        Assert.Equal(DpopFailure.Malformed, Check(proof));
    }

    [Fact]
    public void Check_ProofLongerThan8192_RefusedAsMalformed()
    {
        var proof = Proof() with { ExtraPayload = $"\"pad\":\"{new string('x', 8192)}\"" };

        Assert.Equal(DpopFailure.Malformed, Check(proof));
    }

    [Fact]
    public void Check_EveryTruncationOfAValidProof_RefusedNeverThrows()
    {
        var proof = Proof().Sign();
        for (var length = 0; length < proof.Length; length++)
        {
            var check = _verifier.Check(proof[..length], "GET", Url, _token);

            Assert.True(check.Failure != DpopFailure.None, $"truncated to {length} passed");
        }

        Assert.Equal(DpopFailure.None, Check(proof));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("get")]
    [InlineData("GET ")]
    [InlineData("")]
    public void Check_HtmNotTheRequestMethod_RefusedAsHtm(string htm)
    {
        Assert.Equal(DpopFailure.Htm, Check(Proof() with { Htm = htm }));
    }

    [Fact]
    public void Check_HtmMatchesOtherMethod_Passes()
    {
        Assert.Equal(DpopFailure.None, Check(Proof() with { Htm = "POST" }, method: "POST"));
    }

    [Theory]
    [InlineData("https://api.example.com/orders", "https://api.example.com/orders")]
    [InlineData("https://api.example.com/orders", "https://api.example.com/orders?page=2")]
    [InlineData("https://api.example.com/orders?page=2", "https://api.example.com/orders")]
    [InlineData("https://api.example.com/orders#top", "https://api.example.com/orders")]
    [InlineData("https://API.Example.COM/orders", "https://api.example.com/orders")]
    [InlineData("HTTPS://api.example.com/orders", "https://api.example.com/orders")]
    [InlineData("https://api.example.com:443/orders", "https://api.example.com/orders")]
    [InlineData("https://api.example.com/orders", "https://api.example.com:443/orders")]
    [InlineData("http://api.example.com:80/orders", "http://api.example.com/orders")]
    [InlineData("https://api.example.com:8443/orders", "https://api.example.com:8443/orders")]
    [InlineData("https://api.example.com/a/../orders", "https://api.example.com/orders")]
    [InlineData("https://api.example.com/./orders", "https://api.example.com/orders")]
    [InlineData("https://api.example.com/%7Euser", "https://api.example.com/~user")]
    [InlineData("https://api.example.com", "https://api.example.com/")]
    public void Check_HtuEqualAfterNormalisation_Passes(string htu, string requestUrl)
    {
        Assert.Equal(DpopFailure.None, Check(Proof() with { Htu = htu }, url: requestUrl));
    }

    [Theory]
    [InlineData("https://api.example.com/other", "https://api.example.com/orders")]
    [InlineData("https://api.example.com/orders/", "https://api.example.com/orders")]
    [InlineData("https://api.example.com/Orders", "https://api.example.com/orders")]
    [InlineData("https://api.example.com/orders/1", "https://api.example.com/orders")]
    [InlineData("http://api.example.com/orders", "https://api.example.com/orders")]
    [InlineData("https://api.example.com:8443/orders", "https://api.example.com/orders")]
    [InlineData("https://api.example.com:80/orders", "https://api.example.com/orders")]
    [InlineData("https://evil.example.com/orders", "https://api.example.com/orders")]
    [InlineData("https://api.example.com.evil.example/orders", "https://api.example.com/orders")]
    [InlineData("/orders", "https://api.example.com/orders")]
    [InlineData("api.example.com/orders", "https://api.example.com/orders")]
    [InlineData("ftp://api.example.com/orders", "ftp://api.example.com/orders")]
    [InlineData("", "https://api.example.com/orders")]
    public void Check_HtuNotTheRequestUrl_RefusedAsHtu(string htu, string requestUrl)
    {
        Assert.Equal(DpopFailure.Htu, Check(Proof() with { Htu = htu }, url: requestUrl));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-59.5)]
    [InlineData(-60)]
    [InlineData(1)]
    [InlineData(4.5)]
    [InlineData(5)]
    public void Check_IatInsideWindow_PassesAndReportsSkew(double offset)
    {
        var check = _verifier.Check((Proof() with { Iat = Now + offset }).Sign(), "GET", Url, _token);

        Assert.Equal(DpopFailure.None, check.Failure);
        Assert.Equal(offset, check.SkewSeconds, precision: 6);
    }

    [Theory]
    [InlineData(-60.001)]
    [InlineData(-61)]
    [InlineData(-3600)]
    [InlineData(5.001)]
    [InlineData(6)]
    [InlineData(86400)]
    public void Check_IatOutsideWindow_RefusedAsIatWithSkew(double offset)
    {
        var check = _verifier.Check((Proof() with { Iat = Now + offset }).Sign(), "GET", Url, _token);

        Assert.Equal(DpopFailure.Iat, check.Failure);
        Assert.Equal(offset, check.SkewSeconds, precision: 3);
    }

    [Fact]
    public void Check_ClockMovesPastTheWindow_SameIatPassesThenFails()
    {
        var iat = Now;
        Assert.Equal(DpopFailure.None, Check(Proof() with { Iat = iat }));

        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(DpopFailure.None, Check(Proof() with { Iat = iat }));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(DpopFailure.Iat, Check(Proof() with { Iat = iat }));
    }

    [Theory]
    [InlineData("\"iat\":\"1800000000\"")]
    [InlineData("\"iat\":null")]
    public void Check_IatNotANumber_RefusedAsIat(string iat)
    {
        var proof = Proof();
        var payload = proof.PayloadJson.Replace($"\"iat\":{Now}", iat, StringComparison.Ordinal);

        Assert.Equal(DpopFailure.Iat, Check(TestTokens.SignRaw(proof.Key, proof.HeaderJson, payload)));
    }

    [Fact]
    public void Check_NoIat_RefusedAsIat()
    {
        var proof = Proof();
        var payload = proof.PayloadJson.Replace($",\"iat\":{Now}", string.Empty, StringComparison.Ordinal);

        Assert.Equal(DpopFailure.Iat, Check(TestTokens.SignRaw(proof.Key, proof.HeaderJson, payload)));
    }

    [Fact]
    public void Check_AthOfAnotherToken_RefusedAsAth()
    {
        var other = DpopTokens.Bound(_time.GetUtcNow(), extra: "\"n\":1");

        Assert.Equal(DpopFailure.Ath, Check(Proof() with { Ath = DpopProofVerifier.AccessTokenHash(other) }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-hash")]
    public void Check_AthMissingOrWrong_RefusedAsAth(string ath)
    {
        Assert.Equal(DpopFailure.Ath, Check(Proof() with { Ath = ath }));
    }

    [Fact]
    public void Check_ProofForAnotherAccessToken_RefusedAsAth()
    {
        var proof = Proof();
        var other = DpopTokens.Bound(_time.GetUtcNow(), extra: "\"n\":2");

        Assert.Equal(DpopFailure.Ath, _verifier.Check(proof.Sign(), "GET", Url, other).Failure);
    }

    [Fact]
    public void AccessTokenHash_Rfc9449Example_MatchesTheRfc()
    {
        // RFC 9449 §7.1, figure 12: the access token and the ath of its proof.
        Assert.Equal("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo", DpopProofVerifier.AccessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"));
    }

    [Fact]
    public void Thumbprint_Rfc7638Example_MatchesTheRfc()
    {
        // RFC 7638 §3.1.
        var jwk = new Jwk
        {
            Kty = "RSA",
            E = "AQAB",
            Alg = "RS256",
            Kid = "2011-04-29",
            N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        };

        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", DpopProofVerifier.Thumbprint(jwk));
    }

    [Fact]
    public void Thumbprint_IgnoresNonRequiredMembers()
    {
        var jwk = DpopTokens.ClientKey.PublicJwk;

        Assert.Equal(DpopProofVerifier.Thumbprint(jwk), DpopProofVerifier.Thumbprint(jwk with { Kid = "other", Alg = null, Use = "sig" }));
        Assert.NotEqual(DpopProofVerifier.Thumbprint(jwk), DpopTokens.Thumbprint(DpopTokens.OtherClientKey));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Check_NoJti_RefusedAsJti(string? jti)
    {
        Assert.Equal(DpopFailure.Jti, Check(Proof() with { Jti = jti }));
    }

    [Fact]
    public void Check_JtiLengthLimit_256PassesAnd257Refused()
    {
        Assert.Equal(DpopFailure.None, Check(Proof() with { Jti = new string('j', DpopProofVerifier.MaxJtiLength) }));
        Assert.Equal(DpopFailure.Jti, Check(Proof() with { Jti = new string('k', DpopProofVerifier.MaxJtiLength + 1) }));
    }

    [Fact]
    public void Check_JtiNotAString_RefusedAsMalformed()
    {
        var proof = Proof() with { Jti = null, ExtraPayload = "\"jti\":42" };

        Assert.Equal(DpopFailure.Malformed, Check(proof));
    }

    [Fact]
    public void Check_SameProofTwice_SecondRefusedAsReplayed()
    {
        var proof = Proof().Sign();

        Assert.Equal(DpopFailure.None, Check(proof));
        Assert.Equal(DpopFailure.Replayed, Check(proof));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(DpopFailure.Replayed, Check(proof));
    }

    [Fact]
    public void Check_SameJtiNewProof_RefusedAsReplayed()
    {
        // The jti is what is remembered, not the proof bytes: a re-signed proof with the same jti is a replay.
        Assert.Equal(DpopFailure.None, Check(Proof() with { Jti = "same" }));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(DpopFailure.Replayed, Check(Proof() with { Jti = "same" }));
    }

    [Fact]
    public void Check_SameJtiFromTwoKeys_BothPass()
    {
        // jtis are unique per key (RFC 9449 §11.1): one client cannot use up another's.
        var other = DpopTokens.Bound(_time.GetUtcNow(), DpopTokens.OtherClientKey);

        Assert.Equal(DpopFailure.None, Check(Proof() with { Jti = "shared" }));
        var second = DpopTokens.Proof(other, "GET", Url, _time.GetUtcNow(), DpopTokens.OtherClientKey) with { Jti = "shared" };
        Assert.Equal(DpopFailure.None, Check(second));
    }

    [Fact]
    public void Check_ReplayAfterTheWindow_RefusedAsIatNeverPasses()
    {
        // The jti is remembered for as long as its iat could pass (max age + future skew + 1 s).
        var proof = (Proof() with { Iat = Now + 5 }).Sign();
        Assert.Equal(DpopFailure.None, Check(proof));

        for (var second = 1; second <= 90; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            var failure = Check(proof);
            Assert.True(failure is DpopFailure.Replayed or DpopFailure.Iat, $"+{second} s: {failure}");
        }
    }

    [Fact]
    public void Check_RingFull_RefusedAsStoreFull()
    {
        using var dir = new TempDirectory();
        using var ring = NonceRing.Open(dir.File("full.ring"), 1024, _time.GetUtcNow().AddMinutes(-1));
        for (var i = 0; i < 300_000 && ring.CountLive(Now) < ring.Capacity; i++)
        {
            ring.TryAdd(Encoding.UTF8.GetBytes("fill" + i), Now + 600, Now);
        }

        Assert.Equal(ring.Capacity, ring.CountLive(Now));
        var verifier = NewVerifier(ring, AllAlgorithms);

        var check = verifier.Check(Proof().Sign(), "GET", Url, _token);

        Assert.Equal(DpopFailure.StoreFull, check.Failure);
    }

    [Fact]
    public void Check_IatBeforeTheRingWasCreated_RefusedAlsoAfterReopening()
    {
        // The ring was reset (corrupt file) at T: proofs from before T may have been used against the
        // lost ring. That holds after a restart on the new ring too, while such proofs are still young.
        using var dir = new TempDirectory();
        var path = dir.File("reset.ring");
        File.WriteAllText(path, "corrupt");
        var created = _time.GetUtcNow();
        var createdAt = created.ToUnixTimeSeconds();
        var early = (Proof() with { Iat = createdAt - 10 }).Sign();
        var onTime = (Proof() with { Iat = createdAt }).Sign();
        using (var ring = NonceRing.Open(path, 1024, created))
        {
            Assert.NotNull(ring.Recovery);
            var verifier = NewVerifier(ring, AllAlgorithms);
            Assert.Equal(DpopFailure.Iat, verifier.Check(early, "GET", Url, _token).Failure);
            Assert.Equal(DpopFailure.None, verifier.Check(onTime, "GET", Url, _token).Failure);
        }

        _time.Advance(TimeSpan.FromSeconds(5));
        using var reopened = NonceRing.Open(path, 1024, _time.GetUtcNow());
        Assert.Null(reopened.Recovery);
        var afterRestart = NewVerifier(reopened, AllAlgorithms);

        Assert.Equal(DpopFailure.Iat, afterRestart.Check(early, "GET", Url, _token).Failure);
        Assert.Equal(DpopFailure.Replayed, afterRestart.Check(onTime, "GET", Url, _token).Failure);
    }
}
