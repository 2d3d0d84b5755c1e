using System.Threading.Channels;

namespace EdgeVerifier.Keys;

/// <summary>What reading one key file gave.</summary>
public enum FileReadStatus : byte
{
    Ok,
    Missing,
    TooLarge,
    IoError,
}

public readonly record struct FileReadResult(FileReadStatus Status, byte[]? Content, string? Error);

/// <summary>
/// Reads key files on one dedicated background thread, so that file I/O (which is
/// synchronous on Linux even through the async APIs) never occupies a request thread.
/// </summary>
public sealed class KeyFileLoader : IDisposable
{
    private const int QueueCapacity = 4096;
    private readonly Channel<(string Path, TaskCompletionSource<FileReadResult> Done)> _queue =
        Channel.CreateBounded<(string, TaskCompletionSource<FileReadResult>)>(new BoundedChannelOptions(QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

    private readonly Thread _thread;

    public KeyFileLoader()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "edgeverifier-keyfiles" };
        _thread.Start();
    }

    /// <summary>Queues a read. A full queue (a flood of misses) answers <see cref="FileReadStatus.IoError"/> at once.</summary>
    public Task<FileReadResult> ReadAsync(string path)
    {
        var done = new TaskCompletionSource<FileReadResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((path, done)))
        {
            done.TrySetResult(new(FileReadStatus.IoError, null, "key file queue is full"));
        }

        return done.Task;
    }

    /// <summary>Reads a file synchronously on the calling thread (start-up only).</summary>
    public static FileReadResult Read(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            if (stream.Length > JwkReader.MaxDocumentBytes)
            {
                return new(FileReadStatus.TooLarge, null, $"larger than {JwkReader.MaxDocumentBytes} bytes");
            }

            var content = new byte[stream.Length];
            stream.ReadExactly(content);
            return new(FileReadStatus.Ok, content, null);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new(FileReadStatus.Missing, null, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new(FileReadStatus.IoError, null, e.Message);
        }
    }

    private void Run()
    {
        var reader = _queue.Reader;
        while (true)
        {
            while (reader.TryRead(out var item))
            {
                item.Done.TrySetResult(Read(item.Path));
            }

            // Blocking this one dedicated thread is the point of having it.
            if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                return;
            }
        }
    }

    public void Dispose() => _queue.Writer.TryComplete();
}
