using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// A <see cref="TokenVerifier"/> over remote key sources, built by <see cref="VerifierFactory"/> exactly
/// as the service builds it, with a fake clock and captured logs. <c>Keys</c>/<c>KeySources</c> come
/// from the callback; nothing is on disk unless the test puts it there.
/// </summary>
public sealed class RemoteHarness : IDisposable
{
    private readonly KeyFileLoader _loader = new();
    private readonly ILoggerFactory _loggers;

    public RemoteHarness(Action<VerifierOptions> configure)
    {
        Options = new VerifierOptions
        {
            Issuers = [TestTokens.Issuer],
            Audiences = [TestTokens.Audience],
        };
        configure(Options);
        var invalid = SettingsLoader.Validate(Options);
        if (invalid is not null)
        {
            throw new InvalidOperationException(invalid);
        }

        // The verifier's own events from Debug up; the libraries' (FusionCache, Polly, HttpClient) only when they warn.
        _loggers = LoggerFactory.Create(logging => logging
            .SetMinimumLevel(LogLevel.Debug)
            .AddFilter((category, level) => level >= (category?.StartsWith("EdgeVerifier", StringComparison.Ordinal) == true ? LogLevel.Debug : LogLevel.Warning))
            .AddProvider(Logs));
        Resolver = VerifierFactory.CreateKeys(Options, _loader, Time, _loggers, out var error)
            ?? throw new InvalidOperationException(error);
        Verifier = new TokenVerifier(VerifierFactory.CreatePolicy(Options), Resolver, Time);
    }

    public FakeTimeProvider Time { get; } = new(VerifierHarness.Start);

    public CapturingLoggerProvider Logs { get; } = new();

    public VerifierOptions Options { get; }

    public KeyResolver Resolver { get; }

    public TokenVerifier Verifier { get; }

    /// <summary>A token signed by <paramref name="key"/> (header kid <paramref name="kid"/> or the key's), valid for an hour from the fake now.</summary>
    public string Token(SigningKey key, string? kid = null) =>
        TestTokens.Sign(key, TestTokens.Payload(Time.GetUtcNow()), kid);

    public async Task<VerifyResult> VerifyAsync(string token) => await Verifier.VerifyAsync(token.AsMemory());

    /// <summary>Signs a fresh token with <paramref name="key"/> at the fake now and returns the verdict.</summary>
    public async Task<VerifyError> VerifyKeyAsync(SigningKey key, string? kid = null) => (await VerifyAsync(Token(key, kid))).Error;

    /// <summary>Verifies a fresh token signed by <paramref name="key"/>; on a different verdict fails with the log so far.</summary>
    public async Task ExpectAsync(VerifyError expected, SigningKey key, string? kid = null)
    {
        var actual = await VerifyKeyAsync(key, kid);
        if (actual != expected)
        {
            Assert.Fail($"expected {expected}, got {actual} at {Time.GetUtcNow():O}; log:\n{Describe()}");
        }
    }

    /// <summary>The verifier's own log and every warning, one line each (for failure messages).</summary>
    public string Describe() => string.Join("\n", Logs.Entries
        .Where(e => e.Level >= LogLevel.Warning || (e.Level >= LogLevel.Information && e.Category.StartsWith("EdgeVerifier", StringComparison.Ordinal)))
        .Select(e => $"{e.Level} {e.EventId.Id} {e.Category}: {e.Message}"));

    public void Advance(TimeSpan by) => Time.Advance(by);

    /// <summary>A stampede: <paramref name="count"/> verifications of <paramref name="token"/> on the thread pool, released together.</summary>
    public Task<VerifyResult[]> StampedeAsync(string token, int count = 100)
    {
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var requests = new Task<VerifyResult>[count];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = Task.Run(async () =>
            {
                await go.Task;
                return await VerifyAsync(token);
            });
        }

        go.SetResult();
        return Task.WhenAll(requests);
    }

    public void Dispose()
    {
        Resolver.Dispose();
        _loader.Dispose();
        _loggers.Dispose();
    }
}
