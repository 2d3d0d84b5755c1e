using System.Text;
using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>
/// STYLE.md 22: every truncation of a valid input, and fuzz targets over characters and bytes with
/// fixed seeds (so a failure reproduces). The properties: nothing throws, and nothing but the
/// untouched token verifies.
/// </summary>
public sealed class TokenVerifierFuzzTests
{
    private const string CompactAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

    /// <summary>Byte strings that steer JSON mutations towards interesting parser states.</summary>
    private static readonly byte[][] JsonDictionary =
    [
        "\""u8.ToArray(), "\\"u8.ToArray(), "\\u"u8.ToArray(), "\\ud800"u8.ToArray(), "\\udc00"u8.ToArray(), "\\u0000"u8.ToArray(),
        "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ":"u8.ToArray(), ","u8.ToArray(),
        "\"alg\""u8.ToArray(), "\"kid\""u8.ToArray(), "\"typ\""u8.ToArray(), "\"crit\""u8.ToArray(), "\"exp\""u8.ToArray(),
        "\"aud\""u8.ToArray(), "\"iss\""u8.ToArray(), "\"none\""u8.ToArray(), "null"u8.ToArray(), "true"u8.ToArray(),
        "1e400"u8.ToArray(), "-0"u8.ToArray(), "/*"u8.ToArray(), [0xff], [0xc3], [0xed, 0xa0, 0x80], [0x00],
    ];

    public static TheoryData<string> Algorithms()
    {
        var data = new TheoryData<string>();
        foreach (var alg in SigningAlgorithms.All)
        {
            data.Add(alg.Name());
        }

        return data;
    }

    public static TheoryData<string> FuzzAlgorithms() => ["RS256", "PS384", "ES256", "ES512", "EdDSA", "HS256"];

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_EveryTruncationOfValidToken_NeverValidNeverThrows(string alg)
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Valid(SigningAlgorithms.Parse(alg), h.Time.GetUtcNow());
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(token));

        for (var length = 0; length < token.Length; length++)
        {
            var prefix = token[..length];
            var result = await VerifyNoThrowAsync(h, prefix);
            Assert.False(result.IsValid, $"prefix of length {length} verified");
        }
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_EverySuffixRemovalFromTheFront_NeverValidNeverThrows(string alg)
    {
        using var h = new VerifierHarness();
        var token = TestTokens.Valid(SigningAlgorithms.Parse(alg), h.Time.GetUtcNow());

        for (var start = 1; start <= token.Length; start++)
        {
            Assert.False((await VerifyNoThrowAsync(h, token[start..])).IsValid, $"suffix from {start} verified");
        }
    }

    [Theory]
    [MemberData(nameof(FuzzAlgorithms))]
    public async Task VerifyAsync_RandomCharacterMutations_NeverThrowNeverValidUnlessUnchanged(string alg)
    {
        using var h = new VerifierHarness();
        var algorithm = SigningAlgorithms.Parse(alg);
        var token = TestTokens.Valid(algorithm, h.Time.GetUtcNow());
        var random = new Random(7_000 + (int)algorithm);

        for (var i = 0; i < 3000; i++)
        {
            var mutated = MutateChars(token, random);
            var result = await VerifyNoThrowAsync(h, mutated);
            if (result.IsValid)
            {
                Assert.Equal(token, mutated);
            }
        }
    }

    [Theory]
    [MemberData(nameof(FuzzAlgorithms))]
    public async Task VerifyAsync_RandomByteMutationsOfDecodedSegments_NeverThrowNeverValidUnlessUnchanged(string alg)
    {
        // Mutating decoded bytes and re-encoding reaches the JSON readers and the signature
        // primitives with well-formed base64url, which character mutations mostly cannot.
        using var h = new VerifierHarness();
        var algorithm = SigningAlgorithms.Parse(alg);
        var token = TestTokens.Valid(algorithm, h.Time.GetUtcNow());
        var segments = Jws.Segments(token);
        var decoded = segments.Select(Jws.Decode).ToArray();
        var random = new Random(9_000 + (int)algorithm);

        for (var i = 0; i < 3000; i++)
        {
            var which = random.Next(3);
            var bytes = MutateBytes(decoded[which], random);
            var parts = (string[])segments.Clone();
            parts[which] = Jws.B64(bytes);
            var mutated = string.Join('.', parts);

            var result = await VerifyNoThrowAsync(h, mutated);
            if (result.IsValid)
            {
                Assert.Equal(token, mutated);
            }
        }
    }

    [Fact]
    public async Task VerifyAsync_ResignedMutatedHeadersAndPayloads_NeverThrow()
    {
        // Properly signed garbage: the claims reader and header reader see attacker-chosen JSON
        // behind a valid signature. Anything may be refused; nothing may throw.
        using var h = new VerifierHarness();
        var key = TestKeys.For(SigningAlgorithm.HS256);
        var header = Encoding.UTF8.GetBytes(Jws.Header("HS256", "k-HS256"));
        var payload = Encoding.UTF8.GetBytes(TestTokens.Payload(h.Time.GetUtcNow(), extra: "\"roles\":[\"a\",\"b\"],\"n\":{\"x\":[1,2]}"));
        var random = new Random(4242);
        var outcomes = new HashSet<VerifyError>();

        for (var i = 0; i < 4000; i++)
        {
            var mutateHeader = random.Next(4) == 0;
            var token = TokenWriter.SignRaw(key, mutateHeader ? MutateBytes(header, random) : header, mutateHeader ? payload : MutateBytes(payload, random));
            outcomes.Add((await VerifyNoThrowAsync(h, token)).Error);
        }

        Assert.Contains(VerifyError.MalformedToken, outcomes);
    }

    [Fact]
    public void HeaderReaderRead_RandomJsonMutations_NeverThrows()
    {
        var seeds = new[]
        {
            "{\"alg\":\"ES256\",\"kid\":\"k-ES256\",\"typ\":\"JWT\"}",
            "{\"alg\":\"RS256\",\"kid\":\"a\",\"crit\":[\"b64\"],\"b64\":false,\"jwk\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}}",
            "{\"typ\":\"application/at+jwt\",\"x5c\":[\"MIIB\"],\"alg\":\"EdDSA\"}",
        };
        var random = new Random(31337);
        Span<char> kid = stackalloc char[HeaderReader.MaxKidLength];

        for (var i = 0; i < 20_000; i++)
        {
            var input = MutateBytes(Encoding.UTF8.GetBytes(seeds[i % seeds.Length]), random);
            try
            {
                var error = HeaderReader.Read(input, TypPolicy.Default, kid, out var header);
                if (error == VerifyError.None && header.Kid == KidState.Valid)
                {
                    Assert.True(HeaderReader.IsValidKid(kid[..header.KidLength]));
                }
            }
            catch (Exception e)
            {
                Assert.Fail($"HeaderReader.Read threw {e.GetType().Name} for {Convert.ToHexString(input)}: {e.Message}");
            }
        }
    }

    [Fact]
    public void ClaimsReaderRead_RandomJsonMutations_NeverThrows()
    {
        var policy = new ClaimsPolicy(
            [TestTokens.Issuer],
            [TestTokens.Audience],
            TimeSpan.FromSeconds(60),
            requiredClaims: ["scope"],
            claimHeaders: new Dictionary<string, string> { ["roles"] = "X-Roles", ["email"] = "X-Email", ["aud"] = "X-Aud" });
        var now = VerifierHarness.Start.ToUnixTimeSeconds();
        var seed = Encoding.UTF8.GetBytes(TestTokens.Payload(VerifierHarness.Start, extra: "\"scope\":\"r\",\"roles\":[\"a\",\"b\"],\"email\":\"e@x\",\"n\":{\"a\":[1,{\"b\":null}]}"));
        Assert.Equal(VerifyError.None, ClaimsReader.Read(seed, policy, now, out _));
        var random = new Random(271828);

        for (var i = 0; i < 20_000; i++)
        {
            var input = MutateBytes(seed, random);
            try
            {
                ClaimsReader.Read(input, policy, now, out _);
            }
            catch (Exception e)
            {
                Assert.Fail($"ClaimsReader.Read threw {e.GetType().Name} for {Convert.ToHexString(input)}: {e.Message}");
            }
        }
    }

    [Fact]
    public void JwkReaderParse_RandomMutations_NeverThrows()
    {
        var seeds = new[]
        {
            TestKeys.PublicJson(TestKeys.For(SigningAlgorithm.RS256)),
            TestKeys.PublicJson(TestKeys.For(SigningAlgorithm.ES384)),
            TestKeys.PublicJson(TestKeys.For(SigningAlgorithm.EdDSA)),
            JwkJson.Set(TestKeys.For(SigningAlgorithm.ES256).PublicJwk, TestKeys.For(SigningAlgorithm.HS512).PublicJwk),
        };
        var random = new Random(161803);

        for (var i = 0; i < 4000; i++)
        {
            var input = MutateBytes(Encoding.UTF8.GetBytes(seeds[i % seeds.Length]), random);
            try
            {
                var parsed = JwkReader.Parse(input);
                Assert.Equal(parsed.Ok, parsed.Keys is not null);
            }
            catch (Exception e)
            {
                Assert.Fail($"JwkReader.Parse threw {e.GetType().Name} for {Encoding.UTF8.GetString(input)}: {e.Message}");
            }
        }
    }

    private static async Task<VerifyResult> VerifyNoThrowAsync(VerifierHarness h, string token)
    {
        try
        {
            return await h.VerifyAsync(token);
        }
        catch (Exception e)
        {
            Assert.Fail($"VerifyAsync threw {e.GetType().Name} for token '{token}': {e.Message}");
            throw;
        }
    }

    private static string MutateChars(string token, Random random)
    {
        var chars = new StringBuilder(token);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            var position = chars.Length == 0 ? 0 : random.Next(chars.Length);
            switch (random.Next(6))
            {
                case 0 when chars.Length > 0:
                    chars[position] = RandomChar(random);
                    break;
                case 1:
                    chars.Insert(position, RandomChar(random));
                    break;
                case 2 when chars.Length > 0:
                    chars.Remove(position, 1);
                    break;
                case 3 when chars.Length > 1:
                    var other = random.Next(chars.Length);
                    (chars[position], chars[other]) = (chars[other], chars[position]);
                    break;
                case 4 when chars.Length > 0:
                    // Flip one bit of a base64url character's 6-bit value.
                    var index = CompactAlphabet.IndexOf(chars[position], StringComparison.Ordinal);
                    if (index is >= 0 and < 64)
                    {
                        chars[position] = CompactAlphabet[index ^ (1 << random.Next(6))];
                    }

                    break;
                default:
                    var length = Math.Min(chars.Length - position, random.Next(1, 8));
                    chars.Remove(position, length);
                    break;
            }
        }

        return chars.ToString();
    }

    private static char RandomChar(Random random) => random.Next(10) switch
    {
        < 7 => CompactAlphabet[random.Next(CompactAlphabet.Length)],
        7 => " \t=+/%\0\n"[random.Next(8)],
        8 => (char)random.Next(0x80, 0x800),
        _ => (char)random.Next(0xd800, 0xe000),
    };

    private static byte[] MutateBytes(byte[] input, Random random)
    {
        var bytes = new List<byte>(input);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            var position = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[position] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[position] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.Insert(position, (byte)random.Next(256));
                    break;
                case 3 when bytes.Count > 0:
                    bytes.RemoveRange(position, Math.Min(bytes.Count - position, random.Next(1, 6)));
                    break;
                default:
                    bytes.InsertRange(position, JsonDictionary[random.Next(JsonDictionary.Length)]);
                    break;
            }
        }

        return [.. bytes];
    }
}
