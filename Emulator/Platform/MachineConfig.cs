namespace Emulator.Platform;

/// <summary>How time advances on a virtual CPU.</summary>
public enum TimingMode
{
    /// <summary>One cycle per instruction, no cache model: the fast mode for booting and debugging.</summary>
    Functional,

    /// <summary>Instruction costs plus the modelled memory hierarchy (the cycle model).</summary>
    Cycle,
}

/// <summary>Everything that shapes a machine: the options every machine-booting command shares.</summary>
public sealed record MachineConfig
{
    public const uint DefaultMemory = 128u << 20;
    public const long DefaultQuantum = 1000;

    /// <summary>Number of virtual CPUs (1 to 64).</summary>
    public int Cpus { get; init; } = 1;

    /// <summary>Guest RAM in bytes.</summary>
    public uint MemoryBytes { get; init; } = DefaultMemory;

    public TimingMode Timing { get; init; } = TimingMode.Functional;

    /// <summary>The longest a CPU runs, in its own cycles, before the scheduler picks again.</summary>
    public long Quantum { get; init; } = DefaultQuantum;

    /// <summary>The kernel command line passed through Multiboot.</summary>
    public string CommandLine { get; init; } = string.Empty;

    /// <summary>Stop after this many instructions in total (all CPUs); null for no limit.</summary>
    public long? MaxInstructions { get; init; }

    /// <summary>Stop when every CPU's clock has passed this many cycles; null for no limit.</summary>
    public long? MaxCycles { get; init; }


    /// <summary>
    /// Whether the cycle model drives the CPUs' clocks. The caches and cost table exist
    /// (Emulator/Timing) but are not wired into the CPU loop yet, so `--timing cycle` is refused
    /// rather than silently behaving like functional timing.
    /// </summary>
    public static bool CycleModelAvailable => false;

    /// <summary>Checks ranges; returns an error message or null.</summary>
    public string? Validate()
    {
        if (Timing == TimingMode.Cycle && !CycleModelAvailable)
        {
            return "--timing cycle: the cycle model is not wired into the CPU yet; use --timing functional";
        }

        if (Cpus is < 1 or > 64)
        {
            return $"--cpus must be between 1 and 64 (got {Cpus})";
        }

        if (MemoryBytes < (2u << 20) || MemoryBytes > 3u << 30 || (MemoryBytes & 0xFFF) != 0)
        {
            return "--memory must be between 2 MiB and 3 GiB, a multiple of 4 KiB";
        }

        if (Quantum < 1)
        {
            return $"--quantum must be at least 1 cycle (got {Quantum})";
        }

        if (MaxInstructions is < 1)
        {
            return "--max-instructions must be positive";
        }

        if (MaxCycles is < 1)
        {
            return "--max-cycles must be positive";
        }

        return null;
    }
}
