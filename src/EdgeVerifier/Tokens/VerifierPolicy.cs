namespace EdgeVerifier.Tokens;

/// <summary>An immutable snapshot of everything the verifier enforces, built once from options.</summary>
public sealed record VerifierPolicy
{
    /// <summary>Largest credential accepted, in characters (default 8 KiB).</summary>
    public int MaxTokenLength { get; init; } = 8192;

    /// <summary>Bit mask of allowed <see cref="SigningAlgorithm"/>s (default: all implemented).</summary>
    public int AllowedAlgorithms { get; init; } = AllAlgorithms;

    public TypPolicy Types { get; init; } = TypPolicy.Default;

    public required ClaimsPolicy Claims { get; init; }

    public static int AllAlgorithms
    {
        get
        {
            var mask = 0;
            foreach (var alg in SigningAlgorithms.All)
            {
                mask |= alg.Bit();
            }

            return mask;
        }
    }
}
