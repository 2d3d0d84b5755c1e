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
            applyFlags(options);
        }
        catch (InvalidDataException e)
        {
            error = $"{configFile ?? DefaultConfigFile}: {e.Message}";
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

    /// <summary>Runs the generated and the cross-field validators; returns the first failure, or null.</summary>
    public static string? Validate(VerifierOptions options)
    {
        foreach (var validator in new IValidateOptions<VerifierOptions>[] { new VerifierOptionsValidator(), new VerifierOptionsCrossValidator() })
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
