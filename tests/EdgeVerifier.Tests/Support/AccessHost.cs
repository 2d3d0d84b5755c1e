using System.Diagnostics.Metrics;
using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// The real HTTP service (Kestrel on 127.0.0.1, ephemeral port) over a key directory with every
/// algorithm's public key, for introspection, revocation and access-policy tests: a fake clock,
/// captured logs (the verifier's from Debug), fast introspection timeouts, and helpers that send
/// a credential with a forwarded target.
/// </summary>
public sealed class AccessHost : IAsyncDisposable
{
    private VerifierApp? _app;

    private AccessHost(TempDirectory directory)
    {
        Directory = directory;
    }

    public TempDirectory Directory { get; }

    public FakeTimeProvider Time { get; } = new(VerifierHarness.Start);

    public CapturingLoggerProvider Logs { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public VerifierApp App => _app!;

    /// <param name="configure">Adjusts the options (introspection and remote fetches: 2 s per attempt, no retries, no breaker).</param>
    /// <param name="configuration">Extra configuration handed to the host (e.g. <c>Logging:LogLevel</c>).</param>
    /// <param name="minimumLevel">Lowest level captured from the verifier; at Trace the libraries' logs are captured from Trace too.</param>
    public static async Task<AccessHost> StartAsync(Action<VerifierOptions>? configure = null, IDictionary<string, string?>? configuration = null, LogLevel minimumLevel = LogLevel.Debug)
    {
        var host = new AccessHost(new TempDirectory());
        var options = AppHost.LocalOptions(host.Directory.Path);

        // No retries and no breaker, so upstream calls can be counted; timeouts generous enough for a loaded
        // 2-core machine (tests of slowness set their own, smaller ones).
        options.Introspection.AttemptTimeoutMs = 2000;
        options.Introspection.TotalTimeoutMs = 3000;
        options.Introspection.MaxRetries = 0;
        options.Introspection.BreakerMinimumThroughput = 1000;
        options.Remote.MaxRetries = 0;
        options.Remote.AttemptTimeoutMs = 2000;
        options.Remote.TotalTimeoutMs = 3000;
        options.Remote.BreakerMinimumThroughput = 1000;
        configure?.Invoke(options);
        var invalid = SettingsLoader.Validate(options);
        if (invalid is not null)
        {
            throw new InvalidOperationException(invalid);
        }

        var config = configuration is null ? null : new ConfigurationBuilder().AddInMemoryCollection(configuration).Build();
        host._app = VerifierApp.Create(options, config, host.Time, out var error, logging => logging
                .ClearProviders()
                .SetMinimumLevel(minimumLevel)
                .AddFilter((category, level) => level >= (category?.StartsWith("EdgeVerifier", StringComparison.Ordinal) == true || minimumLevel == LogLevel.Trace ? minimumLevel : LogLevel.Warning))
                .AddProvider(host.Logs))
            ?? throw new InvalidOperationException(error);
        await host._app.StartAsync();
        host.Client = new HttpClient { BaseAddress = new Uri(host._app.Addresses.First()), Timeout = TimeSpan.FromSeconds(20) };
        return host;
    }

    /// <summary>A valid ES256 JWT at the fake now, with extra payload members.</summary>
    public string Jwt(string sub = "user-1", string? extra = null) =>
        TestTokens.Sign(TestKeys.For(SigningAlgorithm.ES256), TestTokens.Payload(Time.GetUtcNow(), sub: sub, extra: extra));

    /// <summary>GET /verify with an optional bearer token and forwarded target headers.</summary>
    public async Task<HttpResponseMessage> VerifyAsync(string? token, string? forwardedUri = null, string? originalUri = null, string path = "/verify")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        if (forwardedUri is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-Uri", forwardedUri);
        }

        if (originalUri is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Original-URI", originalUri);
        }

        return await Client.SendAsync(request);
    }

    /// <summary>The <c>error</c> member of a refusal's JSON body.</summary>
    public static async Task<string?> ErrorCodeAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (string.IsNullOrEmpty(body))
        {
            return null;
        }

        using var json = System.Text.Json.JsonDocument.Parse(body);
        return json.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
    }

    /// <summary>Status and error code in one line, for assertions that say what came back.</summary>
    public static async Task<string> OutcomeAsync(HttpResponseMessage response) =>
        $"{(int)response.StatusCode} {await ErrorCodeAsync(response) ?? "-"}";

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (_app is not null)
        {
            await _app.App.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Dispose();
    }
}

/// <summary>Counts measurements of one EdgeVerifier instrument while alive (thread-safe).</summary>
public sealed class MetricCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public MetricCounter(string instrument)
    {
        _listener.InstrumentPublished = (i, listener) =>
        {
            if (i.Meter.Name == EdgeVerifier.Diagnostics.EdgeMetrics.MeterName && i.Name == instrument)
            {
                listener.EnableMeasurementEvents(i);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
