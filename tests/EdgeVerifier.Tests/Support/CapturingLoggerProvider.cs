using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EdgeVerifier.Tests.Support;

/// <summary>Keeps every log entry (thread-safe) so tests can assert what was logged.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public readonly record struct Entry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public IReadOnlyList<Entry> Warnings => [.. _entries.Where(e => e.Level >= LogLevel.Warning)];

    /// <summary>Entries with the stable event id <paramref name="eventId"/> (see <c>Diagnostics/Log.cs</c>).</summary>
    public IReadOnlyList<Entry> WithId(int eventId) => [.. _entries.Where(e => e.EventId.Id == eventId)];

    /// <summary>Waits (real time, bounded) for an entry with <paramref name="eventId"/>; background work logs late.</summary>
    public async Task<Entry> WaitForAsync(int eventId, Func<Entry, bool>? match = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            foreach (var entry in _entries)
            {
                if (entry.EventId.Id == eventId && (match is null || match(entry)))
                {
                    return entry;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no log entry with event id {eventId}; logged: {string.Join(" | ", _entries.Select(e => $"{e.EventId.Id} {e.Message}"))}");
            }

            await Task.Delay(10);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
