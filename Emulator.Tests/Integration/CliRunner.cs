using Emulator.Cli;

namespace Emulator.Tests.Integration;

/// <summary>Runs the command line in-process, as `dotnet run --project Emulator -- ARGS` would, capturing its output.</summary>
public static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr, interactive: false);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the command line with <paramref name="input"/> as its standard input (the `debug` command's script).</summary>
    public static (int Code, string Out, string Err) RunWithInput(string input, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandLine.Run(args, new StringReader(input), stdout, stderr, interactive: false);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
