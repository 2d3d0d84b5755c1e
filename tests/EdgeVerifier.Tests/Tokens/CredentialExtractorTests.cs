using EdgeVerifier.Tokens;
using Microsoft.Extensions.Primitives;

namespace EdgeVerifier.Tests.Tokens;

public sealed class CredentialExtractorTests
{
    private const int Max = 8192;

    [Theory]
    [InlineData("Bearer abc.def.ghi")]
    [InlineData("bearer abc.def.ghi")]
    [InlineData("BEARER abc.def.ghi")]
    [InlineData("bEaReR abc.def.ghi")]
    [InlineData("Bearer\tabc.def.ghi")]
    [InlineData("Bearer    abc.def.ghi")]
    [InlineData("  Bearer abc.def.ghi  ")]
    [InlineData("\tBearer \t abc.def.ghi\t")]
    public void FromAuthorization_BearerSchemeAnyCaseAndWhitespace_ExtractsToken(string header)
    {
        var error = CredentialExtractor.FromAuthorization(new StringValues(header), Max, out var token);

        Assert.Equal(VerifyError.None, error);
        Assert.Equal("abc.def.ghi", token.ToString());
    }

    [Fact]
    public void FromAuthorization_Success_TokenIsSliceOfHeaderValue()
    {
        const string header = "Bearer abc.def.ghi";

        CredentialExtractor.FromAuthorization(new StringValues(header), Max, out var token);

        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetString(token, out var text, out var start, out _));
        Assert.Same(header, text);
        Assert.Equal(7, start);
    }

    [Fact]
    public void FromAuthorization_NoHeader_MissingToken()
    {
        Assert.Equal(VerifyError.MissingToken, CredentialExtractor.FromAuthorization(StringValues.Empty, Max, out var token));
        Assert.True(token.IsEmpty);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Bearer")]
    [InlineData("bearer")]
    [InlineData("Bearer ")]
    [InlineData("Bearer \t  ")]
    [InlineData("Basic x")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("DPoPx abc.def.ghi")]
    [InlineData("Bearerabc.def.ghi")]
    [InlineData("Bearer:abc.def.ghi")]
    [InlineData("Token abc.def.ghi")]
    [InlineData("abc.def.ghi")]
    [InlineData("Bear abc")]
    public void FromAuthorization_NotABearerCredential_MissingToken(string header)
    {
        var error = CredentialExtractor.FromAuthorization(new StringValues(header), Max, out var token);

        Assert.Equal(VerifyError.MissingToken, error);
        Assert.True(token.IsEmpty);
    }

    [Fact]
    public void FromAuthorization_NullHeaderValue_MissingToken()
    {
        var error = CredentialExtractor.FromAuthorization(new StringValues([null]), Max, out _);

        Assert.Equal(VerifyError.MissingToken, error);
    }

    [Theory]
    [InlineData("Bearer a b")]
    [InlineData("Bearer a\tb")]
    [InlineData("Bearer a,b")]
    [InlineData("Bearer a, Bearer b")]
    [InlineData("Bearer abc.def.ghi extra")]
    public void FromAuthorization_TwoCredentialsInOneHeader_MultipleTokens(string header)
    {
        var error = CredentialExtractor.FromAuthorization(new StringValues(header), Max, out var token);

        Assert.Equal(VerifyError.MultipleTokens, error);
        Assert.True(token.IsEmpty);
    }

    [Theory]
    [InlineData("Bearer a.b.c", "Bearer a.b.c")]
    [InlineData("Bearer a.b.c", "Bearer x.y.z")]
    [InlineData("Bearer a.b.c", "")]
    [InlineData("Basic x", "Bearer a.b.c")]
    public void FromAuthorization_TwoAuthorizationHeaders_MultipleTokens(string first, string second)
    {
        var error = CredentialExtractor.FromAuthorization(new StringValues([first, second]), Max, out var token);

        Assert.Equal(VerifyError.MultipleTokens, error);
        Assert.True(token.IsEmpty);
    }

    [Fact]
    public void FromAuthorization_TokenOneOverLimit_TokenTooLarge()
    {
        var header = "Bearer " + new string('a', Max + 1);

        Assert.Equal(VerifyError.TokenTooLarge, CredentialExtractor.FromAuthorization(new StringValues(header), Max, out var token));
        Assert.True(token.IsEmpty);
    }

    [Fact]
    public void FromAuthorization_TokenExactlyAtLimit_Extracted()
    {
        var header = "Bearer " + new string('a', Max) + "  ";

        Assert.Equal(VerifyError.None, CredentialExtractor.FromAuthorization(new StringValues(header), Max, out var token));
        Assert.Equal(Max, token.Length);
    }

    [Fact]
    public void FromAuthorization_SmallerConfiguredLimit_Honoured()
    {
        var header = "Bearer " + new string('a', 300);

        Assert.Equal(VerifyError.TokenTooLarge, CredentialExtractor.FromAuthorization(new StringValues(header), 299, out _));
        Assert.Equal(VerifyError.None, CredentialExtractor.FromAuthorization(new StringValues(header), 300, out _));
    }

    [Fact]
    public void FromAuthorization_HugeMultiCredentialHeader_TokenTooLargeNotParsedFurther()
    {
        // Size is judged before content: a megabyte of "a b a b ..." costs one length check.
        var header = "Bearer " + string.Concat(Enumerable.Repeat("a b ", 100_000));

        Assert.Equal(VerifyError.TokenTooLarge, CredentialExtractor.FromAuthorization(new StringValues(header), Max, out _));
    }
}
