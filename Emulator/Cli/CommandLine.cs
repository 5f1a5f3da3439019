using System.CommandLine;
using Emulator.Loading;
using Emulator.Platform;

namespace Emulator.Cli;

/// <summary>
/// The command-line interface. Thin: commands parse options, build a <see cref="Machine"/> and
/// call its parts. Every failure the user can cause ends in one clear line on stderr and a
/// documented exit status (<see cref="ExitCodes"/>), never a .NET stack trace.
/// </summary>
public static partial class CommandLine
{
    public static int Run(string[] args) => Run(args, Console.In, Console.Out, Console.Error, interactive: true);

    /// <summary>Runs the CLI with the given writers (tests call this in-process).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool interactive) =>
        Run(args, TextReader.Null, stdout, stderr, interactive);

    /// <summary>Runs the CLI with the given standard input (read by `debug`) and writers.</summary>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, bool interactive)
    {
        var root = new RootCommand("A cycle-level x86-32 SMP emulator that models Linux-style per-CPU data through segmentation.");
        root.Subcommands.Add(RunCommand.Create(stdout, stderr, interactive));
        root.Subcommands.Add(TraceCommand.Create(stdout, stderr));
        root.Subcommands.Add(ViewCommands.CreatePerCpu(stdout, stderr));
        root.Subcommands.Add(ViewCommands.CreateGdt(stdout, stderr));
        root.Subcommands.Add(GdbCommand.Create(stdout, stderr));
        root.Subcommands.Add(DebugCommand.Create(stdin, stdout, stderr, interactive));
        root.Subcommands.Add(BenchCommand.Create(stdout, stderr, interactive));

        try
        {
            ParseResult parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                stderr.WriteLine($"emulator: {OneLine(parse.Errors[0].Message)} (see --help)");
                return ExitCodes.BadInput;
            }

            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"emulator: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (ImageLoadException e)
        {
            stderr.WriteLine($"emulator: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (GuestStoppedException e)
        {
            stderr.WriteLine($"emulator: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("EMULATOR_STACK_TRACES") is null)
        {
            stderr.WriteLine($"emulator: internal error: {e.GetType().Name}: {e.Message} (set EMULATOR_STACK_TRACES=1 for details; please report this)");
            return ExitCodes.InternalError;
        }
    }

    /// <summary>
    /// A parser message as one line: System.CommandLine lists suggestions on lines of their own
    /// and names .NET types ('System.Nullable`1[System.Int32]'), which mean nothing to a user.
    /// </summary>
    public static string OneLine(string message)
    {
        string m = IntegerType().Replace(message, "as a whole number");
        m = AnyType().Replace(m, string.Empty);
        string[] lines = m.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length <= 1 ? m.Trim() : $"{lines[0]} {string.Join(", ", lines[1..])}";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"as expected type '(System\.Nullable`1\[)?System\.U?Int(16|32|64)\]?'")]
    private static partial System.Text.RegularExpressions.Regex IntegerType();

    [System.Text.RegularExpressions.GeneratedRegex(@" as expected type '[^']*'")]
    private static partial System.Text.RegularExpressions.Regex AnyType();
}
