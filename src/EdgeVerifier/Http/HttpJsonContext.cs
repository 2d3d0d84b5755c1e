using System.Text.Json.Serialization;

namespace EdgeVerifier.Http;

/// <summary>Body of <c>POST /v1/verify</c>.</summary>
public sealed record VerifyRequest
{
    [JsonPropertyName("token")] public string? Token { get; init; }
}

public sealed record TimeResponse
{
    [JsonPropertyName("now")] public long Now { get; init; }
}

public sealed record SourceStatus
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("ready")] public bool Ready { get; init; }
    [JsonPropertyName("detail")] public required string Detail { get; init; }
}

public sealed record ReadinessReport
{
    [JsonPropertyName("ready")] public bool Ready { get; init; }
    [JsonPropertyName("sources")] public required SourceStatus[] Sources { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(VerifyRequest))]
[JsonSerializable(typeof(TimeResponse))]
[JsonSerializable(typeof(ReadinessReport))]
internal sealed partial class HttpJsonContext : JsonSerializerContext;
