using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>DESIGN.md step 6: every algorithm verifies its own signatures and nothing else.</summary>
public sealed class TokenVerifierSignatureTests
{
    public static TheoryData<string> Algorithms()
    {
        var data = new TheoryData<string>();
        foreach (var alg in SigningAlgorithms.All)
        {
            data.Add(alg.Name());
        }

        return data;
    }

    public static TheoryData<string> EcdsaAlgorithms() => ["ES256", "ES384", "ES512"];

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_ValidToken_PassesWithItsAlgorithmAndKey(string alg)
    {
        using var h = new VerifierHarness();
        var algorithm = SigningAlgorithms.Parse(alg);

        var result = await h.VerifyAsync(TestTokens.Valid(algorithm, h.Time.GetUtcNow(), sub: "alice"));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.Equal(algorithm, result.Token!.Algorithm);
        Assert.Equal("k-" + alg, result.Token.Kid);
        Assert.Equal("alice", result.Token.Subject);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_TamperedPayload_BadSignature(string alg)
    {
        using var h = new VerifierHarness();
        var now = h.Time.GetUtcNow();
        var token = TestTokens.Valid(SigningAlgorithms.Parse(alg), now, sub: "alice");

        var forged = Jws.WithPayload(token, TestTokens.Payload(now, sub: "admin"));

        Assert.NotEqual(token, forged);
        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(forged));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_TamperedHeaderSameMeaning_BadSignature(string alg)
    {
        // The signature covers the header text, not its meaning: reordering members must fail.
        using var h = new VerifierHarness();
        var token = TestTokens.Valid(SigningAlgorithms.Parse(alg), h.Time.GetUtcNow());
        var segments = Jws.Segments(token);
        var reordered = $"{{\"typ\":\"JWT\",\"kid\":\"k-{alg}\",\"alg\":\"{alg}\"}}";

        var forged = Jws.B64(reordered) + "." + segments[1] + "." + segments[2];

        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(forged));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_OneSignatureByteFlipped_BadSignature(string alg)
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Valid(SigningAlgorithms.Parse(alg), h.Time.GetUtcNow());
        var length = Jws.Decode(Jws.Segments(token)[2]).Length;

        foreach (var index in new[] { 0, length / 2, length - 1 })
        {
            Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Jws.FlipSignatureByte(token, index)));
        }
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_SignatureOneByteShortOrLong_BadSignature(string alg)
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Valid(SigningAlgorithms.Parse(alg), h.Time.GetUtcNow());
        var signature = Jws.Decode(Jws.Segments(token)[2]);

        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Jws.WithSignatureBytes(token, signature.AsSpan(0, signature.Length - 1))));
        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Jws.WithSignatureBytes(token, [.. signature, 0])));
        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Jws.WithSignatureBytes(token, [0])));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_SignedByAnotherKeyOfSameAlgorithmAndKid_BadSignature(string alg)
    {
        using var h = new VerifierHarness();
        var algorithm = SigningAlgorithms.Parse(alg);
        using var impostor = TestKeys.Fresh(algorithm, "k-" + alg);

        var result = await h.VerifyAsync(TestTokens.Sign(impostor, TestTokens.Payload(h.Time.GetUtcNow())));

        Assert.Equal(VerifyError.BadSignature, result.Error);
        Assert.Null(result.Token);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_SignatureFromAnotherValidToken_BadSignature(string alg)
    {
        using var h = new VerifierHarness();
        var now = h.Time.GetUtcNow();
        var alice = TestTokens.Valid(SigningAlgorithms.Parse(alg), now, sub: "alice");
        var admin = TestTokens.Valid(SigningAlgorithms.Parse(alg), now, sub: "admin");

        var spliced = string.Join('.', Jws.Segments(admin)[..2]) + "." + Jws.Segments(alice)[2];

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(admin));
        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(spliced));
    }

    [Theory]
    [MemberData(nameof(EcdsaAlgorithms))]
    public async Task VerifyAsync_EcdsaSignatureInDerForm_BadSignature(string alg)
    {
        // RFC 7518 §3.4: JWS ECDSA signatures are raw R||S. A DER SEQUENCE of the very same (r, s)
        // is a valid signature to X.509 code, and must still be refused here.
        using var h = new VerifierHarness();
        var algorithm = SigningAlgorithms.Parse(alg);
        var key = TestKeys.For(algorithm);
        var token = TestTokens.Valid(algorithm, h.Time.GetUtcNow());
        var segments = Jws.Segments(token);
        var input = Encoding.ASCII.GetBytes(segments[0] + "." + segments[1]);
        var der = RawToDer(Jws.Decode(segments[2]));
        using var ecdsa = Jws.EcdsaOf(key);

        Assert.True(ecdsa.VerifyData(input, der, algorithm.Hash(), DSASignatureFormat.Rfc3279DerSequence), "the DER form is a genuine signature");
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(token));
        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Jws.WithSignatureBytes(token, der)));
    }

    [Theory]
    [MemberData(nameof(EcdsaAlgorithms))]
    public async Task VerifyAsync_EcdsaSignedAsDerByDotNet_BadSignature(string alg)
    {
        using var h = new VerifierHarness();
        var algorithm = SigningAlgorithms.Parse(alg);
        using var ecdsa = Jws.EcdsaOf(TestKeys.For(algorithm));
        var input = Jws.SigningInput(Jws.Header(alg, "k-" + alg), TestTokens.Payload(h.Time.GetUtcNow()));

        var der = ecdsa.SignData(Encoding.ASCII.GetBytes(input), algorithm.Hash(), DSASignatureFormat.Rfc3279DerSequence);
        var raw = ecdsa.SignData(Encoding.ASCII.GetBytes(input), algorithm.Hash(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Jws.WithSignature(input, der)));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(Jws.WithSignature(input, raw)));
    }

    [Theory]
    [MemberData(nameof(EcdsaAlgorithms))]
    public async Task VerifyAsync_EcdsaRawSignatureWithSwappedHalves_BadSignature(string alg)
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Valid(SigningAlgorithms.Parse(alg), h.Time.GetUtcNow());
        var signature = Jws.Decode(Jws.Segments(token)[2]);
        var half = signature.Length / 2;

        byte[] swapped = [.. signature.AsSpan(half), .. signature.AsSpan(0, half)];

        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Jws.WithSignatureBytes(token, swapped)));
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("ES256")]
    [InlineData("EdDSA")]
    [InlineData("HS256")]
    public async Task VerifyAsync_AllZeroSignatureOfRightLength_BadSignature(string alg)
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Valid(SigningAlgorithms.Parse(alg), h.Time.GetUtcNow());
        var length = Jws.Decode(Jws.Segments(token)[2]).Length;

        Assert.Equal(VerifyError.BadSignature, await h.ErrorOfAsync(Jws.WithSignatureBytes(token, new byte[length])));
    }

    /// <summary>IEEE P1363 R||S to the ASN.1 DER <c>SEQUENCE { INTEGER r, INTEGER s }</c>.</summary>
    private static byte[] RawToDer(byte[] raw)
    {
        var half = raw.Length / 2;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(Minimal(raw.AsSpan(0, half)));
            writer.WriteIntegerUnsigned(Minimal(raw.AsSpan(half)));
        }

        return writer.Encode();

        // DER integers carry no redundant leading zero bytes (P-521 halves often start with 0x00).
        static ReadOnlySpan<byte> Minimal(ReadOnlySpan<byte> value)
        {
            var start = 0;
            while (start < value.Length - 1 && value[start] == 0)
            {
                start++;
            }

            return value[start..];
        }
    }
}
