using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// A <see cref="TokenVerifier"/> over any <see cref="IKeySource"/> (a real one or a double), wrapped
/// in a <see cref="CountingKeySource"/> so tests can prove whether a key lookup happened.
/// </summary>
public sealed class VerifierRig : IDisposable
{
    private readonly KeyFileLoader _loader = new();

    public VerifierRig(Func<KeyFileLoader, TimeProvider, IKeySource> createSource, Action<VerifierOptions>? configure = null)
    {
        Options = new VerifierOptions { Issuers = [TestTokens.Issuer], Audiences = [TestTokens.Audience] };
        configure?.Invoke(Options);
        Source = new CountingKeySource(createSource(_loader, Time));
        Resolver = new KeyResolver([Source]);
        Verifier = new TokenVerifier(VerifierFactory.CreatePolicy(Options), Resolver, Time);
    }

    public VerifierRig(IKeySource source, Action<VerifierOptions>? configure = null)
        : this((_, _) => source, configure)
    {
    }

    public FakeTimeProvider Time { get; } = new(VerifierHarness.Start);

    public VerifierOptions Options { get; }

    public CountingKeySource Source { get; }

    public KeyResolver Resolver { get; }

    public TokenVerifier Verifier { get; }

    public async Task<VerifyResult> VerifyAsync(string token) => await Verifier.VerifyAsync(token.AsMemory());

    public async Task<VerifyError> ErrorOfAsync(string token) => (await VerifyAsync(token)).Error;

    public void Dispose()
    {
        Resolver.Dispose();
        _loader.Dispose();
    }
}
