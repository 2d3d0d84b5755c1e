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

    public static async Task<AppHost> StartAsync(Action<VerifierOptions>? configure = null)
    {
        var host = new AppHost(new TempDirectory(), new FakeTimeProvider(VerifierHarness.Start));
        TestKeys.WriteAllPublic(host.Directory.Path);
        var options = new VerifierOptions
        {
            Keys = host.Directory.Path,
            Issuers = [TestTokens.Issuer],
            Audiences = [TestTokens.Audience],
            Urls = "http://127.0.0.1:0",
        };
        options.Replay.Path = System.IO.Path.Combine(host.Directory.Path, "nonces.ring");
        options.Replay.Capacity = 4096;
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
