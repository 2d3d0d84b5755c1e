using System.Buffers.Text;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>DESIGN.md step 1/2: size limit (default 8 KiB, configurable) and compact-JWS structure.</summary>
public sealed class TokenVerifierSizeTests
{
    private const int HmacSignatureChars = 43; // 32 bytes of HS256, base64url without padding

    /// <summary>A validly signed HS256 token of exactly <paramref name="length"/> characters, found by padding header and payload.</summary>
    private static string Hs256TokenOfLength(VerifierHarness h, int length)
    {
        var payloadBase = TestTokens.Payload(h.Time.GetUtcNow(), extra: "\"pad\":\"\"");
        for (var headerPad = 0; headerPad < 4; headerPad++)
        {
            var header = Jws.Header("HS256", "k-HS256", extra: $"\"p\":\"{new string('h', headerPad)}\"");
            var fixedChars = Base64Url.GetEncodedLength(header.Length) + 2 + HmacSignatureChars;
            for (var pad = 0; ; pad++)
            {
                var total = fixedChars + Base64Url.GetEncodedLength(payloadBase.Length + pad);
                if (total == length)
                {
                    var payload = payloadBase.Replace("\"pad\":\"\"", $"\"pad\":\"{new string('x', pad)}\"", StringComparison.Ordinal);
                    var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.HS256), header, payload);
                    Assert.Equal(length, token.Length);
                    return token;
                }

                if (total > length)
                {
                    break;
                }
            }
        }

        throw new InvalidOperationException($"no padding gives {length} characters");
    }

    [Fact]
    public async Task VerifyAsync_ValidTokenOfExactlyDefaultLimit_NotRefusedForSize()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Hs256TokenOfLength(h, 8192)));
    }

    [Fact]
    public async Task VerifyAsync_ValidTokenOneOverDefaultLimit_TokenTooLarge()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.TokenTooLarge, await h.ErrorOfAsync(Hs256TokenOfLength(h, 8193)));
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(1_000_000)]
    public async Task VerifyAsync_FarOverDefaultLimit_TokenTooLarge(int length)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.TokenTooLarge, await h.ErrorOfAsync(new string('A', length)));
        Assert.Equal(VerifyError.TokenTooLarge, await h.ErrorOfAsync(new string('!', length)));
    }

    [Theory]
    [InlineData(600)]
    [InlineData(1000)]
    [InlineData(20_000)]
    public async Task VerifyAsync_ConfiguredMaxTokenBytes_LimitExactlyHonoured(int limit)
    {
        using var h = new VerifierHarness(o => o.MaxTokenBytes = limit);

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Hs256TokenOfLength(h, limit)));
        Assert.Equal(VerifyError.TokenTooLarge, await h.ErrorOfAsync(Hs256TokenOfLength(h, limit + 1)));
    }

    [Fact]
    public async Task VerifyAsync_LargerConfiguredLimitAndRsaToken_Valid()
    {
        // A payload over the 4 KiB stack buffer exercises the pooled path of the signature check.
        using var h = new VerifierHarness(o => o.MaxTokenBytes = 30_000);
        var payload = TestTokens.Payload(h.Time.GetUtcNow(), extra: $"\"blob\":\"{new string('b', 15_000)}\"");
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.RS256), payload);

        Assert.InRange(token.Length, 8193, 30_000);
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(token));
        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Jws.FlipSignatureByte(token, 0)));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a.b")]
    [InlineData("a.b.")]
    [InlineData(".b.c")]
    [InlineData("a..c")]
    [InlineData("..")]
    [InlineData("...")]
    [InlineData("a.b.c.")]
    [InlineData("a.b.c.d")]
    [InlineData("a.b.c.d.e")]
    [InlineData("a.b.c d")]
    [InlineData(" a.b.c")]
    [InlineData("a.b.c\n")]
    [InlineData("YQ==.Yg.Yw")]
    [InlineData("a+b.c.d")]
    [InlineData("a/b.c.d")]
    [InlineData("a.b.c\u0000")]
    [InlineData("a.b.c\u00e9")]
    [InlineData("a\u2024b.c.d")]
    public void Split_NotCompactJws_MalformedToken(string token)
    {
        Assert.Equal(VerifyError.MalformedToken, TokenVerifier.Split(token, 8192, out _, out _));
    }

    [Fact]
    public void Split_ThreeSegments_ReportsDots()
    {
        Assert.Equal(VerifyError.None, TokenVerifier.Split("AA.AAA.AAAA", 8192, out var dot1, out var dot2));
        Assert.Equal(2, dot1);
        Assert.Equal(6, dot2);
        Assert.Equal(VerifyError.MalformedToken, TokenVerifier.Split("ab.cde.f", 8192, out _, out _)); // "f" cannot encode a byte
    }

    [Fact]
    public void Split_Empty_MissingToken()
    {
        Assert.Equal(VerifyError.MissingToken, TokenVerifier.Split("", 8192, out _, out _));
    }

    [Fact]
    public void Split_OverLimit_TokenTooLargeBeforeAlphabetCheck()
    {
        Assert.Equal(VerifyError.TokenTooLarge, TokenVerifier.Split("a.b.c!", 5, out _, out _));
        Assert.Equal(VerifyError.MalformedToken, TokenVerifier.Split("a.b.c!", 6, out _, out _));
    }

    [Theory]
    [InlineData("QQ.e30.AAAA")] // header "A": not an object
    [InlineData("e.e30.AAAA")] // header of one char cannot decode
    [InlineData("e3=.e30.AAAA")]
    public async Task VerifyAsync_SegmentsThatDoNotDecode_MalformedToken(string token)
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_SignatureOfOneCharacter_MalformedToken()
    {
        // Five bits cannot make a byte: the signature segment does not decode.
        using var h = new VerifierHarness();
        var input = Jws.SigningInput(Jws.Header("HS256", "k-HS256"), TestTokens.Payload(h.Time.GetUtcNow()));

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(input + ".A"));
        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(input + ".AAAAA"));
    }

    [Fact]
    public async Task VerifyAsync_PayloadSegmentThatDoesNotDecode_MalformedToken()
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Valid(SigningAlgorithm.HS256, h.Time.GetUtcNow());
        var s = Jws.Segments(token);

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(s[0] + ".e." + s[2]));
    }

    [Fact]
    public async Task VerifyAsync_NonCanonicalBase64UrlSignature_MalformedToken()
    {
        // The last character of a 32-byte HMAC carries 2 unused bits; setting them gives another
        // string for the same bytes. Refusing it keeps one token text per signature (the cache key).
        using var h = new VerifierHarness();
        var token = TestTokens.Valid(SigningAlgorithm.HS256, h.Time.GetUtcNow());
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var last = alphabet.IndexOf(token[^1], StringComparison.Ordinal);
        var sibling = token[..^1] + alphabet[last ^ 1];

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(token));
        Assert.NotEqual(token, sibling);
        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(sibling));
    }

    [Theory]
    [InlineData("EdDSA")] // 64-byte signature: 4 unused bits in the last character
    [InlineData("ES256")] // 64-byte signature
    [InlineData("HS256")] // 32-byte signature: 2 unused bits
    [InlineData("RS256")] // 256-byte signature: 4 unused bits
    public async Task VerifyAsync_EveryStrayBitInLastSignatureCharacter_MalformedToken(string alg)
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Valid(SigningAlgorithms.Parse(alg), h.Time.GetUtcNow());
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var last = alphabet.IndexOf(token[^1], StringComparison.Ordinal);
        var unusedBits = (token.Length - token.LastIndexOf('.') - 1) % 4 == 2 ? 4 : 2;

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(token));
        for (var bits = 1; bits < 1 << unusedBits; bits++)
        {
            var sibling = token[..^1] + alphabet[last ^ bits];
            Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(sibling));
        }
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("AA", true)]
    [InlineData("AB", false)]
    [InlineData("AAA", true)]
    [InlineData("AAB", false)]
    [InlineData("AAAA", true)]
    [InlineData("A", false)]
    [InlineData("AAAAA", false)]
    [InlineData("Aw", true)]
    [InlineData("Ag", true)]
    [InlineData("Ah", false)]
    public void IsCanonical_LastCharacterBits_AsRfc4648(string segment, bool expected)
    {
        Assert.Equal(expected, TokenVerifier.IsCanonical(segment));
    }
}
