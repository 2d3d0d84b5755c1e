using EdgeVerifier.Cli;
using EdgeVerifier.Tests.Support;

namespace EdgeVerifier.Tests.Cli;

public sealed class HealthcheckCommandTests
{
    [Theory]
    [InlineData(null, false, "http://127.0.0.1:8080/healthz")]
    [InlineData("http://0.0.0.0:8080", false, "http://127.0.0.1:8080/healthz")]
    [InlineData("http://+:9000/;http://127.0.0.1:9001", true, "http://127.0.0.1:9000/readyz")]
    [InlineData("http://[::]:8080", false, "http://127.0.0.1:8080/healthz")]
    [InlineData("http://10.1.2.3:8080", false, "http://10.1.2.3:8080/healthz")]
    public void DefaultUrl_FromConfiguredUrls_ProbesLoopbackWildcard(string? urls, bool ready, string expected)
    {
        Assert.Equal(expected, HealthcheckCommand.DefaultUrl(urls, ready));
    }

    [Fact]
    public async Task Healthcheck_RunningVerifier_Exit0ThenStopped_Exit1()
    {
        string url;
        await using (var host = await AppHost.StartAsync())
        {
            url = host.App.Addresses.First() + "/healthz";
            var output = new StringWriter();
            var exit = await CliApp.RunAsync(["healthcheck", "--url", url], new CliContext(TimeProvider.System, output, new StringWriter()));
            Assert.Equal(CliApp.Ok, exit);
            Assert.StartsWith("200 ", output.ToString(), StringComparison.Ordinal);
        }

        var error = new StringWriter();
        Assert.Equal(CliApp.Failed, await CliApp.RunAsync(["healthcheck", "--url", url, "--timeout-ms", "500"], new CliContext(TimeProvider.System, new StringWriter(), error)));
        Assert.Contains(url, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthcheck_NotAUrl_Exit2()
    {
        var error = new StringWriter();
        Assert.Equal(CliApp.BadSetting, await CliApp.RunAsync(["healthcheck", "--url", "ftp://x"], new CliContext(TimeProvider.System, new StringWriter(), error)));
        Assert.StartsWith("edgeverifier: --url:", error.ToString(), StringComparison.Ordinal);
    }
}
