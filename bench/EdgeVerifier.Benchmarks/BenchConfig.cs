using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using Perfolizer.Metrology;

namespace EdgeVerifier.Benchmarks;

/// <summary>
/// The configuration every run uses: times in ns and sizes in B (so reports compare by eye and
/// by script), a GitHub markdown report and a CSV report whose cells are bare numbers.
/// </summary>
internal static class BenchConfig
{
    /// <summary>Our own switch, removed before BenchmarkDotNet parses the rest.</summary>
    public const string OutOfProcessFlag = "--out-of-process";

    /// <param name="args">The command line.</param>
    /// <param name="benchmarkArgs">The command line without our own switches.</param>
    public static IConfig Create(string[] args, out string[] benchmarkArgs)
    {
        var outOfProcess = args.Contains(OutOfProcessFlag, StringComparer.Ordinal);
        benchmarkArgs = [.. args.Where(a => a != OutOfProcessFlag)];

        var display = new SummaryStyle(CultureInfo.InvariantCulture, printUnitsInHeader: false, SizeUnit.B, TimeUnit.Nanosecond);
        var csv = new SummaryStyle(CultureInfo.InvariantCulture, printUnitsInHeader: true, SizeUnit.B, TimeUnit.Nanosecond, printUnitsInContent: false, printZeroValuesInContent: true);
        var config = ManualConfig.CreateEmpty()
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(DefaultConfig.Instance.GetLoggers().ToArray())
            .AddAnalyser(DefaultConfig.Instance.GetAnalysers().ToArray())
            .AddValidator(DefaultConfig.Instance.GetValidators().ToArray())
            .AddExporter(MarkdownExporter.GitHub, new CsvExporter(CsvSeparator.Semicolon, csv))
            .WithSummaryStyle(display)
            .WithCultureInfo(CultureInfo.InvariantCulture);

        if (!outOfProcess)
        {
            // In-process by default: an out-of-process run makes BenchmarkDotNet build a generated
            // project that rebuilds src/EdgeVerifier into its own bin/obj, which collides with other
            // builds of the repository running at the same time. --out-of-process restores it.
            config = config.AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
        }

        return config;
    }
}
