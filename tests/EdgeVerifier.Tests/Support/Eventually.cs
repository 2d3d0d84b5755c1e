namespace EdgeVerifier.Tests.Support;

/// <summary>
/// Bounded polling for effects that complete on a background thread (a key file read, a
/// watcher event). Real time is used only to wait for that work, never to drive time logic.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(5);

    /// <summary>Polls <paramref name="probe"/> until it returns true or the deadline passes; returns the last answer.</summary>
    public static async Task<bool> TrueAsync(Func<Task<bool>> probe, TimeSpan? deadline = null)
    {
        var limit = deadline ?? DefaultDeadline;
        using var cancel = new CancellationTokenSource(limit);
        while (true)
        {
            if (await probe())
            {
                return true;
            }

            try
            {
                await Task.Delay(20, cancel.Token);
            }
            catch (OperationCanceledException)
            {
                return await probe();
            }
        }
    }
}
