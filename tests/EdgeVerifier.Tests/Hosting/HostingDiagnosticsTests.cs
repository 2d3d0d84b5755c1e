using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Hosting;

/// <summary>
/// ASP.NET Core starts an Activity and a log scope for every request whenever its
/// <c>Microsoft.AspNetCore.Hosting.Diagnostics</c> logger is enabled at any level: that logger is
/// off unless the configuration names it, and always off while a query-parameter token is allowed.
/// </summary>
public sealed class HostingDiagnosticsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Default_HostingDiagnosticsLoggerDisabledEvenAtCritical()
    {
        await using var app = Create(null, new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace" });

        Assert.False(HostingLogger(app).IsEnabled(LogLevel.Critical));
    }

    [Fact]
    public async Task ConfiguredExplicitly_HostingDiagnosticsLoggerFollowsTheSetting()
    {
        await using var app = Create(null, new Dictionary<string, string?> { [$"Logging:LogLevel:{VerifierApp.HostingDiagnostics}"] = "Information" });

        Assert.True(HostingLogger(app).IsEnabled(LogLevel.Information));
        Assert.False(HostingLogger(app).IsEnabled(LogLevel.Debug));
    }

    [Fact]
    public async Task QueryParameterToken_HostingDiagnosticsLoggerOffWhateverTheSetting()
    {
        await using var app = Create("access_token", new Dictionary<string, string?> { [$"Logging:LogLevel:{VerifierApp.HostingDiagnostics}"] = "Trace" });

        Assert.False(HostingLogger(app).IsEnabled(LogLevel.Critical));
    }

    [Fact]
    public async Task QueryParameterToken_ProviderLevelDefaultOfTrace_HostingDiagnosticsStillOff()
    {
        // A rule for one provider beats a rule for all providers whatever its category: the console's own
        // "Default: Trace" must not turn the request-line log (which would carry the token) back on.
        await using var app = Create("access_token", new Dictionary<string, string?> { ["Logging:Console:LogLevel:Default"] = "Trace" });

        Assert.False(HostingLogger(app).IsEnabled(LogLevel.Critical));
    }

    [Fact]
    public async Task ProviderLevelDefaultOnly_HostingDiagnosticsStillOff()
    {
        await using var app = Create(null, new Dictionary<string, string?> { ["Logging:Console:LogLevel:Default"] = "Information" });

        Assert.False(HostingLogger(app).IsEnabled(LogLevel.Critical));
    }

    [Fact]
    public async Task ConfiguredForOneProvider_HostingDiagnosticsFollowsIt()
    {
        await using var app = Create(null, new Dictionary<string, string?> { [$"Logging:Console:LogLevel:{VerifierApp.HostingDiagnostics}"] = "Information" });

        Assert.True(HostingLogger(app).IsEnabled(LogLevel.Information));
    }

    private static ILogger HostingLogger(VerifierApp app) =>
        app.App.Services.GetRequiredService<ILoggerFactory>().CreateLogger(VerifierApp.HostingDiagnostics);

    private VerifierApp Create(string? queryParameter, Dictionary<string, string?> settings)
    {
        var options = AppHost.LocalOptions(_directory.Path);
        options.Policy.QueryParameter = queryParameter;
        Assert.Null(SettingsLoader.Validate(options));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return VerifierApp.Create(options, configuration, new FakeTimeProvider(VerifierHarness.Start), out var error)
            ?? throw new InvalidOperationException(error);
    }
}
