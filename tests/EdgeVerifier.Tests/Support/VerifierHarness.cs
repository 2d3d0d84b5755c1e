using EdgeVerifier.Configuration;
using EdgeVerifier.Hosting;
using EdgeVerifier.Keys;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// A <see cref="TokenVerifier"/> over a real key directory (public keys of every algorithm)
/// with a fake clock. Options may be adjusted before the verifier is built.
/// </summary>
public sealed class VerifierHarness : IDisposable
{
    /// <summary>A fixed "now" so time assertions are exact.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly KeyFileLoader _loader = new();

    public VerifierHarness(Action<VerifierOptions>? configure = null, bool writeKeys = true)
    {
        Directory = new TempDirectory();
        if (writeKeys)
        {
            TestKeys.WriteAllPublic(Directory.Path);
        }

        Options = new VerifierOptions
        {
            Keys = Directory.Path,
            Issuers = [TestTokens.Issuer],
            Audiences = [TestTokens.Audience],
        };
        configure?.Invoke(Options);
        var invalid = SettingsLoader.Validate(Options);
        if (invalid is not null)
        {
            throw new InvalidOperationException(invalid);
        }

        Resolver = VerifierFactory.CreateKeys(Options, _loader, Time, NullLoggerFactory.Instance, out var error)
            ?? throw new InvalidOperationException(error);
        Verifier = new TokenVerifier(VerifierFactory.CreatePolicy(Options), Resolver, Time);
    }

    public FakeTimeProvider Time { get; } = new(Start);

    public TempDirectory Directory { get; }

    public VerifierOptions Options { get; }

    public KeyResolver Resolver { get; }

    public TokenVerifier Verifier { get; }

    public async Task<VerifyResult> VerifyAsync(string token, bool includePayload = false) =>
        await Verifier.VerifyAsync(token.AsMemory(), includePayload);

    public async Task<VerifyError> ErrorOfAsync(string token) => (await VerifyAsync(token)).Error;

    /// <summary>
    /// Rotation by rename (atomic): writes the public half of <paramref name="key"/> as
    /// <c>{kid}.jwk</c> in the key directory, then moves the clock past the recheck bound.
    /// </summary>
    public void ReplacePublicKey(string kid, EdgeVerifier.Keys.SigningKey key)
    {
        var temp = System.IO.Path.Combine(Directory.Path, kid + ".tmp");
        File.WriteAllText(temp, TestKeys.PublicJson(key));
        File.Move(temp, System.IO.Path.Combine(Directory.Path, kid + ".jwk"), overwrite: true);
        Time.Advance(TimeSpan.FromSeconds(Options.KeyRecheckSeconds + 1));
    }

    public void Dispose()
    {
        Resolver.Dispose();
        _loader.Dispose();
        Directory.Dispose();
    }
}
