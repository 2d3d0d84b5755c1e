using System.Text;
using EdgeVerifier.Revocation;

namespace EdgeVerifier.Tests.Revocation;

/// <summary>The list document: <c>{"jti":[…],"sub":[…]}</c>, both optional, strings only.</summary>
public sealed class RevocationListParseTests
{
    private static bool Parse(string json, out HashSet<string> jtis, out HashSet<string> subjects, out string? error) =>
        RevocationList.TryParse(Encoding.UTF8.GetBytes(json), out jtis, out subjects, out error);

    [Fact]
    public void TryParse_BothLists_ReadsEveryEntry()
    {
        Assert.True(Parse("{\"jti\":[\"a\",\"b\"],\"sub\":[\"u\\u00e9\"],\"generated\":\"2026-11-01\",\"extra\":{\"x\":[1]}}", out var jtis, out var subjects, out _));

        Assert.Equal(["a", "b"], jtis.Order());
        Assert.Equal(["ué"], subjects);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"jti\":[]}")]
    [InlineData("{\"sub\":[]}")]
    [InlineData(" { \"jti\" : [ ] , \"sub\" : [ ] } ")]
    public void TryParse_EmptyOrMissingLists_EmptySets(string json)
    {
        Assert.True(Parse(json, out var jtis, out var subjects, out _));
        Assert.Empty(jtis);
        Assert.Empty(subjects);
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{\"jti\":\"a\"}", "not an array")]
    [InlineData("{\"sub\":[1]}", "other than strings")]
    [InlineData("{\"jti\":[null]}", "other than strings")]
    [InlineData("{\"jti\":[\"a\"],\"jti\":[]}", "appears twice")]
    [InlineData("{\"jti\":[\"a\"]} {}", "not")]
    [InlineData("{\"jti\":[\"a\"", "not valid JSON")]
    public void TryParse_Malformed_RefusedWithReason(string json, string reason)
    {
        Assert.False(Parse(json, out _, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
