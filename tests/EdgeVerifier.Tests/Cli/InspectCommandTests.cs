using EdgeVerifier.Cli;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Cli;

/// <summary><c>edgeverifier inspect</c>: decode without verifying.</summary>
public sealed class InspectCommandTests
{
    private readonly CliRunner _cli = new();

    [Fact]
    public async Task Inspect_SignedToken_PrintsHeaderPayloadAndTimes()
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        var signed = await _cli.RunAsync("sign", "--key", keys.PrivateKey, "--iss", "I", "--sub", "carol", "--ttl", "90m", "--claim", "role=admin");
        var token = signed.Output.Trim();

        var result = await _cli.RunAsync("inspect", token);

        Assert.Equal(CliApp.Ok, result.Exit);
        var lines = result.Output.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Equal("header:", lines[0]);
        Assert.Contains("\"alg\": \"ES256\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"kid\": \"cli-key\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("payload:", lines);
        Assert.Contains("\"sub\": \"carol\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"role\": \"admin\"", result.Output, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("iat: 2026-11-01T12:00:00Z (", StringComparison.Ordinal));
        Assert.Contains("exp: 2026-11-01T13:30:00Z (in 1h 30m)", lines);
        Assert.Contains("signature: not verified (use 'edgeverifier verify')", lines);
    }

    [Fact]
    public async Task Inspect_TamperedToken_StillDecodes()
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        var token = (await _cli.RunAsync("sign", "--key", keys.PrivateKey, "--sub", "dave")).Output.Trim();
        var tampered = token[..^10] + "AAAAAAAAAA";

        var result = await _cli.RunAsync("inspect", tampered);

        Assert.Equal(CliApp.Ok, result.Exit);
        Assert.Contains("\"sub\": \"dave\"", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_ExpiredToken_SaysAgo()
    {
        using var keys = await CliKeys.CreateAsync(_cli);
        var token = (await _cli.RunAsync("sign", "--key", keys.PrivateKey, "--ttl", "1h")).Output.Trim();

        _cli.Time.Advance(TimeSpan.FromDays(2));
        var result = await _cli.RunAsync("inspect", token);

        Assert.Contains("exp: 2026-11-01T13:00:00Z (1d 23h ago)", result.Output.Split('\n', StringSplitOptions.TrimEntries));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("a.b")]
    [InlineData("bm90IGpzb24.e30.c2ln")]
    [InlineData("e30.bm90IGpzb24.c2ln")]
    public async Task Inspect_NotADecodableToken_Exit1WithOneLine(string token)
    {
        var result = await _cli.RunAsync("inspect", token);

        Assert.Equal(CliApp.Failed, result.Exit);
        Assert.Single(result.ErrorLines);
    }

    [Fact]
    public async Task Inspect_PayloadNotAnObject_PrintsItWithoutTimes()
    {
        // Header {} and payload [1,2]: decodable JSON, just not claims.
        var result = await _cli.RunAsync("inspect", "e30.WzEsMl0.c2ln");

        Assert.Equal(CliApp.Ok, result.Exit);
        Assert.DoesNotContain("exp:", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_AbsurdTimes_AreNotInterpreted()
    {
        // exp and iat far outside the years 1-9999.
        var payload = System.Buffers.Text.Base64Url.EncodeToString("{\"exp\":99999999999999999,\"iat\":-99999999999999}"u8);

        var result = await _cli.RunAsync("inspect", $"e30.{payload}.c2ln");

        Assert.Equal(CliApp.Ok, result.Exit);
        Assert.DoesNotContain("exp:", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("iat:", result.Output, StringComparison.Ordinal);
    }
}
