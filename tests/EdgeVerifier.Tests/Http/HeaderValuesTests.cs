using EdgeVerifier.Http;

namespace EdgeVerifier.Tests.Http;

/// <summary>Claim values in response headers: visible ASCII as is, anything else percent-encoded.</summary>
public sealed class HeaderValuesTests
{
    [Theory]
    [InlineData("")]
    [InlineData("user-1")]
    [InlineData("a b")]
    [InlineData("100%")]
    [InlineData("~!\"#$&'()*+,-./:;<=>?@[\\]^_`{|}")]
    public void Safe_VisibleAscii_Unchanged(string value)
    {
        Assert.Same(value, HeaderValues.Safe(value));
    }

    [Theory]
    [InlineData("\r", "%0D")]
    [InlineData("\n", "%0A")]
    [InlineData("\0", "%00")]
    [InlineData("\u007f", "%7F")]
    [InlineData("\u0080", "%C2%80")]
    [InlineData("\u00e9", "%C3%A9")]
    [InlineData("a%\n", "a%25%0A")]
    [InlineData("\ud83d\ude00", "%F0%9F%98%80")]
    public void Safe_UnsafeCharacters_PercentEncodedUtf8(string value, string expected)
    {
        Assert.Equal(expected, HeaderValues.Safe(value));
    }

    [Fact]
    public void Safe_LoneSurrogate_EncodedAsReplacementCharacter()
    {
        Assert.Equal("a%EF%BF%BDb", HeaderValues.Safe("a\ud800b"));
    }

    [Fact]
    public void Safe_EveryChar_OutputIsVisibleAsciiOrSpace()
    {
        for (var c = 0; c <= char.MaxValue; c++)
        {
            var safe = HeaderValues.Safe("x" + (char)c + "y");
            Assert.DoesNotContain(safe, ch => ch is < ' ' or > '~');
        }
    }
}
