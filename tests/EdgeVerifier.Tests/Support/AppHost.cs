using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// The real service (Kestrel on 127.0.0.1, an ephemeral port) over a key directory holding
/// every algorithm's public key, with a fake clock and an <see cref="HttpClient"/> pointed at it.
/// </summary>
public sealed class AppHost : IAsyncDisposable
{
    private VerifierApp? _app;

    private AppHost(TempDirectory directory, FakeTimeProvider time)
    {
        Directory = directory;
        Time = time;
    }

    public TempDirectory Directory { get; }

    public FakeTimeProvider Time { get; }

    public HttpClient Client { get; private set; } = null!;

    public VerifierApp App => _app!;

    /// <summary>
    /// The options every in-process app of the tests starts from: every algorithm's public key written
    /// to <paramref name="directory"/> and served from it, the test issuer and audience, an ephemeral
    /// port on 127.0.0.1, and a small replay ring of its own in that directory (the file is locked while in use).
    /// </summary>
    public static VerifierOptions LocalOptions(string directory)
    {
        TestKeys.WriteAllPublic(directory);
        var options = new VerifierOptions
        {
            Keys = directory,
            Issuers = [TestTokens.Issuer],
            Audiences = [TestTokens.Audience],
            Urls = "http://127.0.0.1:0",
        };
        options.Replay.Path = System.IO.Path.Combine(directory, "nonces.ring");
        options.Replay.Capacity = 4096;
        return options;
    }

    public static async Task<AppHost> StartAsync(Action<VerifierOptions>? configure = null)
    {
        var host = new AppHost(new TempDirectory(), new FakeTimeProvider(VerifierHarness.Start));
        var options = LocalOptions(host.Directory.Path);
        configure?.Invoke(options);
        var invalid = SettingsLoader.Validate(options);
        if (invalid is not null)
        {
            throw new InvalidOperationException(invalid);
        }

        host._app = VerifierApp.Create(options, null, host.Time, out var error, logging => logging.SetMinimumLevel(LogLevel.Warning))
            ?? throw new InvalidOperationException(error);
        await host._app.StartAsync();
        var address = host._app.Addresses.First();
        host.Client = new HttpClient { BaseAddress = new Uri(address) };
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.App.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Dispose();
    }
}
