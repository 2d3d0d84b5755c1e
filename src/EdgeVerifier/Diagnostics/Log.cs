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

    [LoggerMessage(12, LogLevel.Debug, "{Source}: unknown-kid fetch budget spent; kid refused without asking the registry")]
    public static partial void UnknownKidBudgetSpent(ILogger logger, string source);

    [LoggerMessage(20, LogLevel.Warning, "Key fetch from {Url} failed: {Reason}")]
    public static partial void KeyFetchFailed(ILogger logger, string url, string reason);

    [LoggerMessage(21, LogLevel.Warning, "{Source}: registry failing ({Reason}); serving the last good keys, fetched {AgeSeconds:0} s ago")]
    public static partial void ServingStale(ILogger logger, string source, double ageSeconds, string reason);

    [LoggerMessage(22, LogLevel.Warning, "{Source}: registry slower than {Milliseconds} ms; serving the stale key while the refresh goes on")]
    public static partial void ServingStaleSlowRegistry(ILogger logger, string source, double milliseconds);

    [LoggerMessage(23, LogLevel.Warning, "{Source}: key refresh gave no value ({Reason})")]
    public static partial void KeyRefreshFailed(ILogger logger, string source, string reason);

    [LoggerMessage(24, LogLevel.Warning, "Circuit to {Authority} opened for {Seconds} s")]
    public static partial void BreakerOpened(ILogger logger, string authority, double seconds);

    [LoggerMessage(25, LogLevel.Information, "Circuit to {Authority} half-open: probing")]
    public static partial void BreakerHalfOpened(ILogger logger, string authority);

    [LoggerMessage(26, LogLevel.Information, "Circuit to {Authority} closed")]
    public static partial void BreakerClosed(ILogger logger, string authority);

    [LoggerMessage(27, LogLevel.Information, "{Source}: skipped {Reason}")]
    public static partial void JwksKeySkipped(ILogger logger, string source, string reason);

    [LoggerMessage(28, LogLevel.Warning, "{Source}: OIDC discovery failed: {Reason}")]
    public static partial void DiscoveryFailed(ILogger logger, string source, string reason);

    [LoggerMessage(40, LogLevel.Warning, "Introspection at {Endpoint} failed: {Reason}; answered 503")]
    public static partial void IntrospectionFailed(ILogger logger, string endpoint, string reason);

    [LoggerMessage(41, LogLevel.Information, "Introspection at {Endpoint} answered active without 'sub'; refused")]
    public static partial void IntrospectionWithoutSubject(ILogger logger, string endpoint);

    [LoggerMessage(42, LogLevel.Debug, "Introspection at {Endpoint}: active token of an unknown subject; refused")]
    public static partial void IntrospectionUnknownSubject(ILogger logger, string endpoint);

    [LoggerMessage(50, LogLevel.Information, "Revocation list {Source} loaded: {Jtis} jti, {Subjects} sub")]
    public static partial void RevocationListLoaded(ILogger logger, string source, int jtis, int subjects);

    [LoggerMessage(51, LogLevel.Warning, "Revocation list {Source}: refresh failed: {Reason}; keeping the last list")]
    public static partial void RevocationRefreshFailed(ILogger logger, string source, string reason);

    [LoggerMessage(52, LogLevel.Warning, "Revocation list {Source} is stale (age {AgeSeconds:0} s) and the policy is fail-open: serving tokens against it")]
    public static partial void RevocationListStaleServing(ILogger logger, string source, double ageSeconds);

    [LoggerMessage(60, LogLevel.Debug, "Path scope refused for target {Target} (ambiguous: {Ambiguous})")]
    public static partial void PathRefused(ILogger logger, string target, bool ambiguous);

    [LoggerMessage(61, LogLevel.Debug, "Public path {Path}: answered without a token")]
    public static partial void PublicPath(ILogger logger, string path);

    [LoggerMessage(70, LogLevel.Warning, "Replay ring {Path} created anew ({Reason}); DPoP proofs and one-time tokens issued before {CreatedAt} (unix) are refused")]
    public static partial void ReplayRingCreated(ILogger logger, string path, string reason, long createdAt);

    [LoggerMessage(71, LogLevel.Error, "Replay ring {Path} has no free slot: proof-bearing requests fail closed (raise Replay:Capacity)")]
    public static partial void ReplayRingFull(ILogger logger, string path);

    [LoggerMessage(72, LogLevel.Warning, "DPoP client clock is {SkewSeconds:0.0} s off the server's (proof iat − now); clients can calibrate with GET /v1/time")]
    public static partial void ClientClockSkew(ILogger logger, double skewSeconds);
}
