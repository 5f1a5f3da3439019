namespace Emulator.Platform;

/// <summary>
/// The host exit status each way a run can end maps to: the contract every command that boots
/// a machine keeps (docs/running.md), and what the gdb stub reports in its exit (W) reply. Odd
/// values belong to the guest (the debug-exit port gives (value &lt;&lt; 1) | 1, as QEMU's
/// isa-debug-exit does); even values are the emulator's own.
/// </summary>
public static class RunExitStatus
{
    /// <summary>The guest halted cleanly (every CPU halted with nothing left to wake it), or asked for a reset the machine stops on.</summary>
    public const int CleanHalt = 0;

    /// <summary>The --max-instructions or --max-cycles limit stopped the guest.</summary>
    public const int LimitReached = 4;

    /// <summary>The guest triple-faulted and --on-triple-fault is stop (the default).</summary>
    public const int TripleFault = 6;

    /// <summary>A state the run should never end in (a bug: please report it).</summary>
    public const int InternalError = 8;

    /// <summary>The machine would have reset more than --max-resets times.</summary>
    public const int ResetLimit = 12;

    /// <summary>Stopped by the host (Ctrl-C), as a shell reports SIGINT.</summary>
    public const int Interrupted = 130;

    /// <summary>The exit status of a run that ended with <paramref name="result"/>.</summary>
    public static int Of(RunResult result) => result.Reason switch
    {
        StopReason.GuestExit => result.GuestExitStatus,
        StopReason.Halted or StopReason.ResetRequest => CleanHalt,
        StopReason.InstructionLimit or StopReason.CycleLimit => LimitReached,
        StopReason.TripleFault => TripleFault,
        StopReason.ResetLimit => ResetLimit,
        StopReason.HostRequest => Interrupted,
        _ => InternalError,
    };
}
