using BenchmarkDotNet.Running;
using EdgeVerifier.Benchmarks;

// Usage: bench/README.md. For example
//   dotnet run -c Release --project bench/EdgeVerifier.Benchmarks --artifacts-path /tmp/art-bench -- --filter '*'
//   bench/compare.sh   (a short job; allocated bytes checked against bench/baseline.json)
var config = BenchConfig.Create(args, out var benchmarkArgs);
var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(benchmarkArgs, config);
foreach (var summary in summaries)
{
    if (summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success))
    {
        return 1;
    }
}

return 0;
