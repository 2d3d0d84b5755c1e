using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Keys;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// The real HTTP service (Kestrel on 127.0.0.1, ephemeral port) over remote key sources, with a
/// fake clock and captured logs, for assertions on status codes, <c>Retry-After</c> and <c>/readyz</c>.
/// </summary>
public sealed class RemoteAppHost : IAsyncDisposable
{
    private readonly TempDirectory _state = new();
    private VerifierApp? _app;

    private RemoteAppHost()
    {
    }

    public FakeTimeProvider Time { get; } = new(VerifierHarness.Start);

    public CapturingLoggerProvider Logs { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public KeyResolver Keys => _app!.Keys;

    public static async Task<RemoteAppHost> StartAsync(Action<VerifierOptions> configure)
    {
        var host = new RemoteAppHost();
        var options = new VerifierOptions
        {
            Issuers = [TestTokens.Issuer],
            Audiences = [TestTokens.Audience],
            Urls = "http://127.0.0.1:0",
        };

        // Each host its own replay ring (the file is locked while in use).
        options.Replay.Path = Path.Combine(host._state.Path, "nonces.ring");
        options.Replay.Capacity = 4096;
        configure(options);
        var invalid = SettingsLoader.Validate(options);
        if (invalid is not null)
        {
            throw new InvalidOperationException(invalid);
        }

        host._app = VerifierApp.Create(options, null, host.Time, out var error, logging => logging.ClearProviders().SetMinimumLevel(LogLevel.Information).AddProvider(host.Logs))
            ?? throw new InvalidOperationException(error);
        await host._app.StartAsync();
        host.Client = new HttpClient { BaseAddress = new Uri(host._app.Addresses.First()) };
        return host;
    }

    /// <summary>GET /verify with <paramref name="token"/> as a bearer token.</summary>
    public async Task<HttpResponseMessage> VerifyAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/verify");
        request.Headers.Authorization = new("Bearer", token);
        return await Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (_app is not null)
        {
            await _app.App.StopAsync();
            await _app.DisposeAsync();
        }

        _state.Dispose();
    }
}
