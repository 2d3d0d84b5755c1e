namespace EdgeVerifier.Tokens;

/// <summary>What the JOSE header said about its <c>kid</c>.</summary>
public enum KidState : byte
{
    Absent,
    Empty,
    Invalid,
    Valid,
}

/// <summary>
/// The parts of a JOSE header the verifier acts on. The kid itself is written into a
/// caller-provided buffer so that parsing allocates nothing.
/// </summary>
public struct JoseHeader
{
    public SigningAlgorithm Alg;
    public KidState Kid;
    public int KidLength;
}
