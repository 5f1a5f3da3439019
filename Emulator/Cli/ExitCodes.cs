using Emulator.Platform;

namespace Emulator.Cli;

/// <summary>
/// Process exit statuses. Odd values belong to the guest (the debug-exit port gives
/// (value &lt;&lt; 1) | 1, as QEMU's isa-debug-exit does); even values are the emulator's own.
/// How a run's end maps to one is the machine's (<see cref="RunExitStatus"/>); the rest are the
/// commands' own.
/// </summary>
public static class ExitCodes
{
    /// <summary>The guest halted cleanly (every CPU halted with nothing left to wake it).</summary>
    public const int CleanHalt = RunExitStatus.CleanHalt;

    /// <summary>Bad input: a bad option, a missing, malformed or unloadable image.</summary>
    public const int BadInput = 2;

    /// <summary>The --max-instructions or --max-cycles limit stopped the guest.</summary>
    public const int LimitReached = RunExitStatus.LimitReached;

    /// <summary>The guest triple-faulted and --on-triple-fault is stop (the default): the machine stops with a register dump.</summary>
    public const int TripleFault = RunExitStatus.TripleFault;

    /// <summary>A fault in the emulator itself (a bug: please report it).</summary>
    public const int InternalError = RunExitStatus.InternalError;

    /// <summary>`bench`: a workload failed its checks (the guest's own, or its instruction count).</summary>
    public const int BenchFailed = 10;

    /// <summary>
    /// The machine would have reset more than --max-resets times (triple faults with
    /// --on-triple-fault reset, or guest reset requests): it stops with a register dump. A
    /// reset request with --on-reset-request stop ends the run with status 0 instead.
    /// </summary>
    public const int ResetLimit = RunExitStatus.ResetLimit;

    /// <summary>Stopped by the user (Ctrl-C).</summary>
    public const int Interrupted = RunExitStatus.Interrupted;
}

/// <summary>The guest stopped in a way a command reports with its own status (a limit, a triple fault) before the command could do its work.</summary>
public sealed class GuestStoppedException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
