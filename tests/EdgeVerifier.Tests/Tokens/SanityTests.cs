using EdgeVerifier.Tests.Support;
using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

public sealed class SanityTests
{
    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task VerifyAsync_ValidTokenEveryAlgorithm_Succeeds(string alg)
    {
        using var harness = new VerifierHarness();
        var algorithm = SigningAlgorithms.Parse(alg);
        var result = await harness.VerifyAsync(TestTokens.Valid(algorithm, harness.Time.GetUtcNow()));
        Assert.Equal(VerifyError.None, result.Error);
        Assert.Equal("user-1", result.Token!.Subject);
        Assert.Equal(TestTokens.Issuer, result.Token.Issuer);
        Assert.Equal("k-" + alg, result.Token.Kid);
    }

    public static TheoryData<string> Algorithms()
    {
        var data = new TheoryData<string>();
        foreach (var alg in SigningAlgorithms.All)
        {
            data.Add(alg.Name());
        }

        return data;
    }
}
