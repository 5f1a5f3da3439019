namespace Emulator.Cli;

/// <summary>The command-line entry point (System.CommandLine commands are built here).</summary>
public static class CommandLine
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("not yet");
        return 2;
    }
}
