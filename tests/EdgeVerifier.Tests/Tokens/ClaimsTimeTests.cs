using System.Globalization;
using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>
/// DESIGN.md step 7 and RFC 7519 §4.1.4–4.1.6: exp, nbf and iat against the fake clock, default
/// skew 60 s. T is <see cref="VerifierHarness.Start"/> in Unix seconds.
/// </summary>
public sealed class ClaimsTimeTests
{
    private static readonly long T = VerifierHarness.Start.ToUnixTimeSeconds();

    private static string Token(string timeMembers)
    {
        var payload = $"{{\"iss\":\"{TestTokens.Issuer}\",\"aud\":\"{TestTokens.Audience}\",\"sub\":\"user-1\"{(timeMembers.Length == 0 ? "" : ",")}{timeMembers}}}";
        return TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), payload);
    }

    private static string At(long offset) => (T + offset).ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task VerifyAsync_ExpBoundaryWithDefaultSkew_ValidUntilExpPlusSkew()
    {
        using var h = new VerifierHarness();
        var token = Token($"\"exp\":{At(100)}");

        h.Time.Advance(TimeSpan.FromSeconds(100 + 60 - 1)); // now = exp + skew - 1
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(token));

        h.Time.Advance(TimeSpan.FromMilliseconds(999)); // now = exp + skew - 0.001
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(token));

        h.Time.Advance(TimeSpan.FromMilliseconds(1)); // now = exp + skew
        Assert.Equal(VerifyError.Expired, await h.ErrorOfAsync(token));

        h.Time.Advance(TimeSpan.FromDays(365));
        Assert.Equal(VerifyError.Expired, await h.ErrorOfAsync(token));
    }

    [Theory]
    [InlineData(-59, VerifyError.None)]
    [InlineData(-60, VerifyError.Expired)]
    [InlineData(-61, VerifyError.Expired)]
    [InlineData(-86_400, VerifyError.Expired)]
    [InlineData(0, VerifyError.None)]
    public async Task VerifyAsync_ExpRelativeToNow_ExpiredOnlyPastSkew(long expOffset, VerifyError expected)
    {
        using var h = new VerifierHarness();

        Assert.Equal(expected, await h.ErrorOfAsync(Token($"\"exp\":{At(expOffset)}")));
    }

    [Fact]
    public async Task VerifyAsync_NbfBoundaryWithDefaultSkew_ValidFromNbfMinusSkew()
    {
        using var h = new VerifierHarness();
        var token = Token($"\"nbf\":{At(100)},\"exp\":{At(3600)}");

        Assert.Equal(VerifyError.NotYetValid, await h.ErrorOfAsync(token));

        h.Time.Advance(TimeSpan.FromSeconds(100 - 60 - 1)); // now = nbf - skew - 1
        Assert.Equal(VerifyError.NotYetValid, await h.ErrorOfAsync(token));

        h.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(VerifyError.NotYetValid, await h.ErrorOfAsync(token));

        h.Time.Advance(TimeSpan.FromMilliseconds(1)); // now = nbf - skew
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(token));
    }

    [Theory]
    [InlineData(60, VerifyError.None)]
    [InlineData(61, VerifyError.NotYetValid)]
    [InlineData(3600, VerifyError.NotYetValid)]
    [InlineData(-86_400, VerifyError.None)]
    public async Task VerifyAsync_IatRelativeToNow_NotYetValidOnlyBeyondSkew(long iatOffset, VerifyError expected)
    {
        using var h = new VerifierHarness();

        Assert.Equal(expected, await h.ErrorOfAsync(Token($"\"iat\":{At(iatOffset)},\"exp\":{At(7200)}")));
    }

    [Fact]
    public async Task VerifyAsync_ExpiredAndNotYetValid_ExpiredReported()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.Expired, await h.ErrorOfAsync(Token($"\"nbf\":{At(500)},\"exp\":{At(-500)}")));
    }

    [Fact]
    public async Task VerifyAsync_MissingExpByDefault_MissingClaim()
    {
        using var h = new VerifierHarness();

        Assert.Equal(VerifyError.MissingClaim, await h.ErrorOfAsync(Token($"\"iat\":{At(0)}")));
    }

    [Fact]
    public async Task VerifyAsync_MissingExpWithRequireExpirationOff_ValidWithoutExpiry()
    {
        using var h = new VerifierHarness(o => o.RequireExpiration = false);

        var result = await h.VerifyAsync(Token($"\"iat\":{At(0)}"));

        Assert.Equal(VerifyError.None, result.Error);
        Assert.True(double.IsNaN(result.Token!.ExpiresAt));
    }

    [Fact]
    public async Task VerifyAsync_ExpPresentWithRequireExpirationOff_StillEnforced()
    {
        using var h = new VerifierHarness(o => o.RequireExpiration = false);

        Assert.Equal(VerifyError.Expired, await h.ErrorOfAsync(Token($"\"exp\":{At(-61)}")));
    }

    [Theory]
    [InlineData("exp", "\"1893456000\"")]
    [InlineData("exp", "true")]
    [InlineData("exp", "null")]
    [InlineData("exp", "[1893456000]")]
    [InlineData("exp", "{\"v\":1893456000}")]
    [InlineData("exp", "1e400")]
    [InlineData("exp", "-1e400")]
    [InlineData("nbf", "\"0\"")]
    [InlineData("nbf", "null")]
    [InlineData("iat", "\"now\"")]
    [InlineData("iat", "false")]
    public async Task VerifyAsync_NonNumericDate_MalformedToken(string claim, string value)
    {
        using var h = new VerifierHarness();
        var members = claim == "exp" ? $"\"exp\":{value}" : $"\"{claim}\":{value},\"exp\":{At(3600)}";

        Assert.Equal(VerifyError.MalformedToken, await h.ErrorOfAsync(Token(members)));
    }

    [Fact]
    public async Task VerifyAsync_FractionalExpWithZeroSkew_HonouredToTheMillisecond()
    {
        using var h = new VerifierHarness(o => o.ClockSkewSeconds = 0);
        var token = Token($"\"exp\":{At(10)}.5");

        h.Time.Advance(TimeSpan.FromMilliseconds(10_499));
        var result = await h.VerifyAsync(token);
        Assert.Equal(VerifyError.None, result.Error);
        Assert.Equal(T + 10.5, result.Token!.ExpiresAt);

        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(VerifyError.Expired, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_FractionalNbfWithZeroSkew_Honoured()
    {
        using var h = new VerifierHarness(o => o.ClockSkewSeconds = 0);
        var token = Token($"\"nbf\":{At(2)}.25,\"exp\":{At(3600)}");

        h.Time.Advance(TimeSpan.FromMilliseconds(2_249));
        Assert.Equal(VerifyError.NotYetValid, await h.ErrorOfAsync(token));

        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(token));
    }

    [Fact]
    public async Task VerifyAsync_ExpInExponentNotation_Honoured()
    {
        using var h = new VerifierHarness(o => o.ClockSkewSeconds = 0);
        var exp = (T + 20) / 10.0; // e.g. 178799762.2e1

        var token = Token($"\"exp\":{exp.ToString("R", CultureInfo.InvariantCulture)}e1");

        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(token));
        h.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(VerifyError.Expired, await h.ErrorOfAsync(token));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(300)]
    public async Task VerifyAsync_ConfiguredSkew_MovesEveryBoundary(int skew)
    {
        using var h = new VerifierHarness(o => o.ClockSkewSeconds = skew);
        var expiring = Token($"\"exp\":{At(10)}");
        var early = Token($"\"nbf\":{At(10 + (2 * skew))},\"exp\":{At(7200)}");

        h.Time.Advance(TimeSpan.FromSeconds(10 + skew - 1));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(expiring));
        Assert.Equal(VerifyError.NotYetValid, await h.ErrorOfAsync(early));

        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(VerifyError.Expired, await h.ErrorOfAsync(expiring));
        Assert.Equal(VerifyError.None, await h.ErrorOfAsync(early));
    }

    [Fact]
    public async Task VerifyAsync_ValidToken_ReportsExpiresAt()
    {
        using var h = new VerifierHarness();

        var result = await h.VerifyAsync(Token($"\"exp\":{At(3600)}"));

        Assert.Equal(T + 3600, result.Token!.ExpiresAt);
    }
}
