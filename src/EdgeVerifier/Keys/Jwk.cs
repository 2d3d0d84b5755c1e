using System.Text.Json.Serialization;

namespace EdgeVerifier.Keys;

/// <summary>A JSON Web Key as it appears on disk or on the wire (RFC 7517, RFC 7518 §6, RFC 8037).</summary>
public sealed record Jwk
{
    [JsonPropertyName("kty")] public string? Kty { get; init; }
    [JsonPropertyName("kid")] public string? Kid { get; init; }
    [JsonPropertyName("alg")] public string? Alg { get; init; }
    [JsonPropertyName("use")] public string? Use { get; init; }
    [JsonPropertyName("key_ops")] public string[]? KeyOps { get; init; }
    [JsonPropertyName("crv")] public string? Crv { get; init; }
    [JsonPropertyName("x")] public string? X { get; init; }
    [JsonPropertyName("y")] public string? Y { get; init; }
    [JsonPropertyName("n")] public string? N { get; init; }
    [JsonPropertyName("e")] public string? E { get; init; }
    [JsonPropertyName("d")] public string? D { get; init; }
    [JsonPropertyName("p")] public string? P { get; init; }
    [JsonPropertyName("q")] public string? Q { get; init; }
    [JsonPropertyName("dp")] public string? DP { get; init; }
    [JsonPropertyName("dq")] public string? DQ { get; init; }
    [JsonPropertyName("qi")] public string? QI { get; init; }
    [JsonPropertyName("k")] public string? K { get; init; }

    /// <summary>Members that only a private or secret key carries.</summary>
    [JsonIgnore]
    public bool HasPrivateParts => D is not null || P is not null || Q is not null || DP is not null || DQ is not null || QI is not null;
}

/// <summary>A JWK Set (RFC 7517 §5).</summary>
public sealed record JwkSet
{
    [JsonPropertyName("keys")] public Jwk[]? Keys { get; init; }
}

[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(Jwk))]
[JsonSerializable(typeof(JwkSet))]
internal sealed partial class JwkJsonContext : JsonSerializerContext;
