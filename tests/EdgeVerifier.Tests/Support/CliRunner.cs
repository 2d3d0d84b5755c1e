using EdgeVerifier.Cli;
using Microsoft.Extensions.Time.Testing;

namespace EdgeVerifier.Tests.Support;

/// <summary>Runs the command line in-process with a fake clock and captured output.</summary>
public sealed class CliRunner
{
    public FakeTimeProvider Time { get; } = new(VerifierHarness.Start);

    public async Task<CliResult> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, new CliContext(Time, output, error));
        return new CliResult(exit, output.ToString(), error.ToString());
    }
}

/// <summary>What one command-line run gave.</summary>
public sealed record CliResult(int Exit, string Output, string Error)
{
    /// <summary>The non-empty lines written to standard error.</summary>
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The first line of standard output, trimmed.</summary>
    public string FirstLine => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? string.Empty;

    public override string ToString() => $"exit {Exit}; out: {Output}; err: {Error}";
}
