using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeVerifier.Tests.Support;

/// <summary>
/// A process of the published binary with captured output. Disposing kills it by its PID if it
/// is still running; every wait is bounded.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    /// <summary>How long any single wait for a child may take.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private ChildProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    /// <summary>For a <c>serve</c> process: polls <c>/healthz</c> until it answers 200, the process exits, or the bound passes.</summary>
    public async Task WaitHealthyAsync(HttpClient client)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (true)
        {
            Xunit.Assert.False(HasExited, $"serve exited early; stderr: {Error}; stdout: {Output}");
            try
            {
                using var response = await client.GetAsync("/healthz", bound.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (bound.IsCancellationRequested)
            {
                Xunit.Assert.Fail($"/healthz did not answer within {Bound.TotalSeconds} s; stderr: {Error}");
            }

            await Task.Delay(50, bound.Token);
        }
    }

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="executable"/>; <paramref name="environment"/> entries with a null value are removed.</summary>
    public static ChildProcess Start(string executable, IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // Its own directory by default: serve keeps state there (the replay ring file, locked while running).
            WorkingDirectory = workingDirectory ?? Directory.CreateTempSubdirectory("edgeverifier-child-").FullName,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The child must not inherit settings from whoever runs the tests.
        foreach (var name in info.Environment.Keys.ToArray())
        {
            if (name.StartsWith("EDGEVERIFIER_", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(name);
            }
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.Append(child._output, e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(child._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return child;
    }

    /// <summary>Runs the binary to completion (bounded) and returns exit code and output.</summary>
    public static async Task<CliResult> RunAsync(IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        using var child = Start(PublishedBinary.Path, args, workingDirectory, environment);
        var exit = await child.WaitForExitAsync(Bound);
        return new CliResult(exit, child.Output, child.Error);
    }

    /// <summary>Waits for exit; on timeout kills the process and throws.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"process {_process.Id} did not exit within {timeout.TotalSeconds} s; stderr: {Error}");
        }

        // WaitForExitAsync also waits for the redirected streams to reach end of file.
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM to this process (by PID).</summary>
    public void Terminate()
    {
        if (SysKill(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(Bound);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (target)
        {
            target.Append(line).Append('\n');
        }
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SysKill(int pid, int signal);
}
