using Microsoft.Extensions.Options;

namespace EdgeVerifier.Configuration;

/// <summary>
/// Builds <see cref="VerifierOptions"/> from defaults &lt; JSON file &lt; environment &lt; flags,
/// and validates them. A failure is one line naming the setting.
/// </summary>
public static class SettingsLoader
{
    public const string DefaultConfigFile = "edgeverifier.json";
    public const string EnvironmentPrefix = "EDGEVERIFIER_";

    /// <param name="configFile">An explicit file (must exist), or null for an optional <c>edgeverifier.json</c>.</param>
    /// <param name="applyFlags">Applies command-line flags last; a flag replaces the whole setting (lists included).</param>
    /// <param name="options">The validated options.</param>
    /// <param name="configuration">The merged configuration, also handed to the host.</param>
    /// <param name="error">One line naming the bad setting.</param>
    public static bool TryLoad(string? configFile, Action<VerifierOptions> applyFlags, out VerifierOptions options, out IConfigurationRoot configuration, out string? error)
    {
        options = new VerifierOptions();
        configuration = new ConfigurationBuilder().Build();
        if (configFile is not null && !File.Exists(configFile))
        {
            error = $"--config: '{configFile}' does not exist";
            return false;
        }

        try
        {
            configuration = new ConfigurationBuilder()
                .AddJsonFile(Path.GetFullPath(configFile ?? DefaultConfigFile), optional: configFile is null, reloadOnChange: false)
                .AddEnvironmentVariables(EnvironmentPrefix)
                .Build();
            configuration.Bind(options);
            BindListsWhole(configuration, options);
            applyFlags(options);
        }
        catch (InvalidDataException e)
        {
            // The loader's own message only names the file; the JSON parser's says where it broke.
            error = $"{configFile ?? DefaultConfigFile}: {Describe(e)}";
            return false;
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key: "Failed to convert configuration value at 'ClockSkewSeconds' ..."
            error = e.Message;
            return false;
        }
        catch (FormatException e)
        {
            error = $"{configFile ?? DefaultConfigFile}: {e.Message}";
            return false;
        }

        error = Validate(options);
        return error is null;
    }

    /// <summary>
    /// Configuration merges lists index by index across sources, so <c>EDGEVERIFIER_ISSUERS__0</c>
    /// over a file listing two issuers would still accept the file's second one. A list is one
    /// setting: the highest-precedence source that sets any element of it supplies all of it.
    /// </summary>
    private static void BindListsWhole(IConfigurationRoot configuration, VerifierOptions options)
    {
        options.Issuers = WholeList(configuration, nameof(VerifierOptions.Issuers)) ?? options.Issuers;
        options.Audiences = WholeList(configuration, nameof(VerifierOptions.Audiences)) ?? options.Audiences;
        options.RequiredClaims = WholeList(configuration, nameof(VerifierOptions.RequiredClaims)) ?? options.RequiredClaims;
        options.Algorithms = WholeList(configuration, nameof(VerifierOptions.Algorithms)) ?? options.Algorithms;
        options.TokenTypes = WholeList(configuration, nameof(VerifierOptions.TokenTypes)) ?? options.TokenTypes;
        options.Policy.RequiredScopes = WholeList(configuration, "Policy:RequiredScopes") ?? options.Policy.RequiredScopes;
        options.Policy.PublicPaths = WholeList(configuration, "Policy:PublicPaths") ?? options.Policy.PublicPaths;
        options.Introspection.Subjects = WholeList(configuration, "Introspection:Subjects") ?? options.Introspection.Subjects;
    }

    private static string[]? WholeList(IConfigurationRoot configuration, string name)
    {
        var providers = new List<IConfigurationProvider>(configuration.Providers);
        for (var i = providers.Count - 1; i >= 0; i--)
        {
            var children = new SortedSet<string>(providers[i].GetChildKeys([], name), ConfigurationKeyComparer.Instance);
            if (children.Count == 0)
            {
                continue;
            }

            var values = new List<string>(children.Count);
            foreach (var child in children)
            {
                if (providers[i].TryGet(ConfigurationPath.Combine(name, child), out var value) && value is not null)
                {
                    values.Add(value);
                }
            }

            return [.. values];
        }

        return null;
    }

    private static string Describe(InvalidDataException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Text.Json.JsonException { LineNumber: { } line, BytePositionInLine: { } position })
            {
                return $"not valid JSON (line {line + 1}, byte {position + 1})";
            }
        }

        return e.InnerException is FormatException format ? format.Message : e.Message;
    }

    /// <summary>Runs the generated and the cross-field validators; returns the first failure, or null.</summary>
    public static string? Validate(VerifierOptions options)
    {
        foreach (var validator in new IValidateOptions<VerifierOptions>[] { new VerifierOptionsValidator(), new VerifierOptionsCrossValidator(), new AccessOptionsCrossValidator() })
        {
            var result = validator.Validate(Options.DefaultName, options);
            if (result.Failed)
            {
                return First(result);
            }
        }

        return null;
    }

    private static string First(ValidateOptionsResult result)
    {
        foreach (var failure in result.Failures ?? [])
        {
            return Normalise(failure);
        }

        return result.FailureMessage ?? "invalid settings";
    }

    // The generated validator says "Keys: is required ..." via "<member>: <message>"-shaped text; keep one line.
    private static string Normalise(string failure) => failure.ReplaceLineEndings(" ");
}
