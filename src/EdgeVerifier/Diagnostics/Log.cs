namespace EdgeVerifier.Diagnostics;

/// <summary>
/// Every log line EdgeVerifier writes, with stable event ids. Tokens, secrets and key
/// material are never logged: kids, reasons, lengths and paths only.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Key {Kid} loaded from {Source}")]
    public static partial void KeyLoaded(ILogger logger, string kid, string source);

    [LoggerMessage(2, LogLevel.Warning, "Key file {Path} refused: {Reason}")]
    public static partial void KeyFileInvalid(ILogger logger, string path, string reason);

    [LoggerMessage(3, LogLevel.Information, "Key {Kid} no longer present in {Source}")]
    public static partial void KeyRemoved(ILogger logger, string kid, string source);

    [LoggerMessage(4, LogLevel.Warning, "Key file {Path} could not be read: {Reason}")]
    public static partial void KeyFileReadFailed(ILogger logger, string path, string? reason);

    [LoggerMessage(5, LogLevel.Warning, "Watching {Directory} failed ({Reason}); falling back to re-checking every {Seconds} s")]
    public static partial void WatcherFailed(ILogger logger, string directory, string reason, double seconds);

    [LoggerMessage(6, LogLevel.Information, "Key set {Source} loaded: {Count} key(s)")]
    public static partial void KeySetLoaded(ILogger logger, string source, int count);

    [LoggerMessage(10, LogLevel.Debug, "Token refused: {Code} (kid {Kid})")]
    public static partial void TokenRefused(ILogger logger, string code, string? kid);

    [LoggerMessage(11, LogLevel.Warning, "Key source unavailable for kid {Kid}")]
    public static partial void KeySourceUnavailable(ILogger logger, string? kid);

    [LoggerMessage(30, LogLevel.Error, "Unexpected error while handling {Path}; answered 503")]
    public static partial void UnexpectedError(ILogger logger, string path, Exception exception);

    [LoggerMessage(40, LogLevel.Warning, "Replay ring {Path} created anew ({Reason}); DPoP proofs and one-time tokens issued before {CreatedAt} (unix) are refused")]
    public static partial void ReplayRingCreated(ILogger logger, string path, string reason, long createdAt);

    [LoggerMessage(41, LogLevel.Error, "Replay ring {Path} has no free slot: proof-bearing requests fail closed (raise Replay:Capacity)")]
    public static partial void ReplayRingFull(ILogger logger, string path);

    [LoggerMessage(42, LogLevel.Warning, "DPoP client clock is {SkewSeconds:0.0} s off the server's (proof iat − now); clients can calibrate with GET /v1/time")]
    public static partial void ClientClockSkew(ILogger logger, double skewSeconds);
}
