using EdgeVerifier.Keys;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>
/// DESIGN.md step 3: a kid must match <c>^[A-Za-z0-9_-]{1,128}$</c> before any lookup. Each hostile
/// kid is refused with no question asked of the key source (a counting double around a real
/// directory source), and where the file system allows it, a real key file sits exactly where a
/// naive <c>{dir}/{kid}.jwk</c> lookup would find it, signed for, and is still not used.
/// </summary>
public sealed class TokenVerifierKidTests : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly string _keys;
    private readonly VerifierRig _rig;

    public TokenVerifierKidTests()
    {
        _keys = Path.Combine(_root.Path, "keys");
        Directory.CreateDirectory(_keys);
        TestKeys.WriteAllPublic(_keys);
        _rig = new VerifierRig((loader, time) => new DirectoryKeySource(_keys, loader, time, TimeSpan.FromSeconds(5), 2048, NullLogger.Instance));
    }

    public void Dispose()
    {
        _rig.Dispose();
        _root.Dispose();
    }

    /// <summary>Kids as they appear inside the JSON string (so escapes are JSON escapes).</summary>
    public static TheoryData<string> HostileKids() =>
    [
        "../x",
        "..%2fx",
        "..\\/x",
        "\\u002e\\u002e\\u002fx",
        "/etc/passwd",
        "a/b",
        "a\\\\b",
        "..\\\\x",
        "\\u0000",
        "k-ES256\\u0000",
        "k-ES256\\u0000.txt",
        "k\u00efd",
        "k\\u00efd",
        "k\u2010ES256",
        "\u0130",
        " k-ES256",
        "k-ES256 ",
        "k-ES256\\n",
        "k.ES256",
        "k-ES256.jwk",
        "*",
        "%00",
        "~",
        "C:x",
        "k+ES256",
        "k=ES256",
        "a".PadRight(129, 'a'),
        "a".PadRight(1000, 'a'),
    ];

    [Theory]
    [MemberData(nameof(HostileKids))]
    public async Task VerifyAsync_HostileKid_InvalidKidWithoutAnyLookup(string jsonKid)
    {
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), Jws.Header("ES256", jsonKid), TestTokens.Payload(_rig.Time.GetUtcNow()));

        var result = await _rig.VerifyAsync(token);

        Assert.Equal(VerifyError.InvalidKid, result.Error);
        Assert.Equal(0, _rig.Source.KidLookups);
        Assert.Equal(0, _rig.Source.GetDefaultCalls);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("0")]
    [InlineData("-1.5e3")]
    [InlineData("true")]
    [InlineData("false")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("[\"k-ES256\"]")]
    [InlineData("{}")]
    [InlineData("{\"kid\":\"k-ES256\"}")]
    public async Task VerifyAsync_NonStringKid_InvalidKidWithoutAnyLookup(string kidJson)
    {
        var header = $"{{\"alg\":\"ES256\",\"kid\":{kidJson},\"typ\":\"JWT\"}}";
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), header, TestTokens.Payload(_rig.Time.GetUtcNow()));

        Assert.Equal(VerifyError.InvalidKid, await _rig.ErrorOfAsync(token));
        Assert.Equal(0, _rig.Source.KidLookups);
    }

    [Fact]
    public async Task VerifyAsync_EmptyKidWithDirectorySource_MissingKidWithoutKidLookup()
    {
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), Jws.Header("ES256", ""), TestTokens.Payload(_rig.Time.GetUtcNow()));

        Assert.Equal(VerifyError.MissingKid, await _rig.ErrorOfAsync(token));
        Assert.Equal(0, _rig.Source.KidLookups);
    }

    [Fact]
    public async Task VerifyAsync_AbsentKidWithDirectorySource_MissingKidWithoutKidLookup()
    {
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), Jws.Header("ES256", kid: null), TestTokens.Payload(_rig.Time.GetUtcNow()));

        Assert.Equal(VerifyError.MissingKid, await _rig.ErrorOfAsync(token));
        Assert.Equal(0, _rig.Source.KidLookups);
    }

    [Fact]
    public async Task VerifyAsync_WellFormedKid_IsLookedUpAndVerifies()
    {
        // The control for the zero-lookup assertions above: a good kid does reach the source.
        var token = TestTokens.Valid(SigningAlgorithm.ES256, _rig.Time.GetUtcNow());

        Assert.Equal(VerifyError.None, await _rig.ErrorOfAsync(token));
        Assert.True(_rig.Source.KidLookups > 0);
        Assert.Contains("k-ES256", _rig.Source.Kids);
    }

    [Fact]
    public async Task VerifyAsync_JsonEscapedWellFormedKid_UnescapedAndLookedUp()
    {
        var token = TestTokens.SignRaw(TestKeys.For(SigningAlgorithm.ES256), Jws.Header("ES256", "k\\u002dES256"), TestTokens.Payload(_rig.Time.GetUtcNow()));

        Assert.Equal(VerifyError.None, await _rig.ErrorOfAsync(token));
        Assert.Contains("k-ES256", _rig.Source.Kids);
    }

    [Fact]
    public async Task VerifyAsync_KidOf128Characters_LookedUp()
    {
        var kid = new string('k', 128);
        using var key = TestKeys.Fresh(SigningAlgorithm.ES256, kid);
        TestKeys.WritePublic(_keys, key);

        Assert.Equal(VerifyError.None, await _rig.ErrorOfAsync(TestTokens.Sign(key, TestTokens.Payload(_rig.Time.GetUtcNow()))));
        Assert.Contains(kid, _rig.Source.Kids);
    }

    [Fact]
    public async Task VerifyAsync_KidOf128CharactersWithoutKeyFile_UnknownKid()
    {
        var token = TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(_rig.Time.GetUtcNow()), kid: new string('k', 128));

        Assert.Equal(VerifyError.UnknownKid, await _rig.ErrorOfAsync(token));
    }

    /// <summary>Kid (raw text) and where a naive <c>Path.Join(keys, kid + ".jwk")</c> would read.</summary>
    public static TheoryData<string> BaitedKids() =>
    [
        "../x",
        "..%2fx",
        "a/b",
        "a\\b",
        "k\u00efd",
        "k-ES256 ",
        "a".PadRight(129, 'a'),
        "../keys/k-ES256",
        "./k-ES256",
    ];

    [Theory]
    [MemberData(nameof(BaitedKids))]
    public async Task VerifyAsync_KeyFilePlacedAtTraversalTarget_NotUsed(string kid)
    {
        using var attacker = TestKeys.Fresh(SigningAlgorithm.ES256, "bait");
        var target = Path.GetFullPath(Path.Join(_keys, kid + ".jwk"));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.WriteAllText(target, TestKeys.PublicJson(attacker).Replace("\"kid\":\"bait\",", string.Empty, StringComparison.Ordinal));
        var header = System.Text.Json.JsonSerializer.Serialize(
            new Dictionary<string, string> { ["alg"] = "ES256", ["kid"] = kid, ["typ"] = "JWT" },
            KidTestJson.Default.DictionaryStringString);

        var result = await _rig.VerifyAsync(TestTokens.SignRaw(attacker, header, TestTokens.Payload(_rig.Time.GetUtcNow())));

        Assert.True(File.Exists(target));
        Assert.Equal(VerifyError.InvalidKid, result.Error);
        Assert.Null(result.Token);
        Assert.Equal(0, _rig.Source.KidLookups);
    }

    [Fact]
    public async Task VerifyAsync_AbsolutePathKidWithBaitFile_NotUsed()
    {
        using var attacker = TestKeys.Fresh(SigningAlgorithm.ES256, "bait");
        var bait = _root.File("abs.jwk");
        File.WriteAllText(bait, TestKeys.PublicJson(attacker).Replace("\"kid\":\"bait\",", string.Empty, StringComparison.Ordinal));
        var kid = bait[..^".jwk".Length].Replace("\\", "\\\\", StringComparison.Ordinal);

        var result = await _rig.VerifyAsync(TestTokens.SignRaw(attacker, Jws.Header("ES256", kid), TestTokens.Payload(_rig.Time.GetUtcNow())));

        Assert.Equal(VerifyError.InvalidKid, result.Error);
        Assert.Equal(0, _rig.Source.KidLookups);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class KidTestJson : System.Text.Json.Serialization.JsonSerializerContext;
