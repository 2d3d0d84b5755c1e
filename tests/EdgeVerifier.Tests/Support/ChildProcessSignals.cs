using System.Runtime.InteropServices;

namespace EdgeVerifier.Tests.Support;

/// <summary>Hard kills for crash tests: <c>kill -9</c> by PID, then a bounded wait for the exit.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static class ChildProcessSignals
{
    private const int SigKill = 9;

    /// <summary>Sends SIGKILL to <paramref name="child"/>'s PID (no handler runs, nothing is flushed) and waits for it to be gone.</summary>
    /// <returns>The exit code the runtime reports (137 = 128 + SIGKILL).</returns>
    public static async Task<int> KillHardAsync(this ChildProcess child)
    {
        if (SysKill(child.Id, SigKill) != 0)
        {
            throw new InvalidOperationException($"kill({child.Id}, SIGKILL) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return await child.WaitForExitAsync(ChildProcess.Bound);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SysKill(int pid, int signal);
}
