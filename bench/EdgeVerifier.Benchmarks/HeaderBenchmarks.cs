using System.Buffers.Text;
using BenchmarkDotNet.Attributes;
using EdgeVerifier.Tokens;
using Microsoft.Extensions.Primitives;

namespace EdgeVerifier.Benchmarks;

/// <summary>
/// The allocation-free front of the pipeline on a typical ES256 token: extracting it from the
/// Authorization header, the structural split, and reading the JOSE header (target: 0 B).
/// </summary>
[MemoryDiagnoser]
public class HeaderBenchmarks : IDisposable
{
    private const int MaxTokenLength = 8192;

    private VerifierFixture _fixture = null!;
    private TokenVerifier _verifier = null!;
    private string _token = null!;
    private string _headerSegment = null!;
    private byte[] _headerJson = null!;
    private StringValues _authorization;

    [GlobalSetup]
    public void Setup()
    {
        _fixture = new VerifierFixture(SigningAlgorithm.ES256);
        _verifier = _fixture.Verifier;
        _token = _fixture.Token(SigningAlgorithm.ES256);
        _headerSegment = _token[.._token.IndexOf('.', StringComparison.Ordinal)];
        _headerJson = Base64Url.DecodeFromChars(_headerSegment);
        _authorization = new StringValues("Bearer " + _token);

        // Each benchmark must succeed, or it measures an early exit.
        Check(ReadHeader(), nameof(ReadHeader));
        Check(HeaderReader_Read(), nameof(HeaderReader_Read));
        Check(Split(), nameof(Split));
        Check(FromAuthorization(), nameof(FromAuthorization));
    }

    /// <summary>base64url-decode into a stack buffer, then <see cref="HeaderReader.Read"/>, then the alg allow-list.</summary>
    [Benchmark]
    public VerifyError ReadHeader()
    {
        Span<char> kid = stackalloc char[HeaderReader.MaxKidLength];
        return _verifier.ReadHeader(_headerSegment, kid, out _);
    }

    /// <summary>The JSON part alone, on the already-decoded header bytes.</summary>
    [Benchmark]
    public VerifyError HeaderReader_Read()
    {
        Span<char> kid = stackalloc char[HeaderReader.MaxKidLength];
        return HeaderReader.Read(_headerJson, TypPolicy.Default, kid, out _);
    }

    [Benchmark]
    public VerifyError Split() => TokenVerifier.Split(_token, MaxTokenLength, out _, out _);

    [Benchmark]
    public VerifyError FromAuthorization() => CredentialExtractor.FromAuthorization(_authorization, MaxTokenLength, out _);

    [GlobalCleanup]
    public void Dispose()
    {
        _fixture?.Dispose();
        GC.SuppressFinalize(this);
    }

    private static void Check(VerifyError error, string benchmark)
    {
        if (error != VerifyError.None)
        {
            throw new InvalidOperationException($"{benchmark}: {error.Code()}");
        }
    }
}
