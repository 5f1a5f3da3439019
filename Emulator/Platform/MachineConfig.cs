using Emulator.Timing;

namespace Emulator.Platform;

/// <summary>How time advances on a virtual CPU.</summary>
public enum TimingMode
{
    /// <summary>One cycle per instruction, no cache model: the fast mode for booting and debugging.</summary>
    Functional,

    /// <summary>Instruction costs plus the modelled memory hierarchy (the cycle model).</summary>
    Cycle,
}

/// <summary>What the machine does on a triple fault or a guest-requested reset.</summary>
public enum ResetPolicy
{
    /// <summary>Stop the run and report it.</summary>
    Stop,

    /// <summary>Reset the machine as a PC does (CPUs, interrupt controllers and timers to their reset state, RAM kept) and boot again.</summary>
    Reset,
}

/// <summary>Everything that shapes a machine: the options every machine-booting command shares.</summary>
public sealed record MachineConfig
{
    public const uint DefaultMemory = 128u << 20;
    public const long DefaultQuantum = 1000;

    /// <summary>
    /// The cycle mode's default quantum: shorter than a cache-to-cache transfer, so that CPUs
    /// contending for a line take turns about as often as they would on hardware (a long
    /// quantum lets one CPU keep a contended line for many accesses and hides the cost of
    /// sharing; docs/timing.md shows the effect).
    /// </summary>
    public const long DefaultCycleQuantum = 20;

    /// <summary>Number of virtual CPUs (1 to 64).</summary>
    public int Cpus { get; init; } = 1;

    /// <summary>Guest RAM in bytes.</summary>
    public uint MemoryBytes { get; init; } = DefaultMemory;

    public TimingMode Timing { get; init; } = TimingMode.Functional;

    /// <summary>
    /// The longest a CPU runs, in its own cycles, before the scheduler picks again: the
    /// <see cref="QuantumOverride"/> when set, else <see cref="DefaultCycleQuantum"/> in the cycle
    /// timing mode and <see cref="DefaultQuantum"/> in the functional mode.
    /// </summary>
    public long Quantum
    {
        get => QuantumOverride ?? (Timing == TimingMode.Cycle ? DefaultCycleQuantum : DefaultQuantum);
        init => QuantumOverride = value;
    }

    /// <summary>An explicit quantum (<c>--quantum</c>), or null for the timing mode's default.</summary>
    public long? QuantumOverride { get; init; }

    /// <summary>The kernel command line passed through Multiboot.</summary>
    public string CommandLine { get; init; } = string.Empty;

    /// <summary>Stop after this many instructions in total (all CPUs); null for no limit.</summary>
    public long? MaxInstructions { get; init; }

    /// <summary>Stop when every CPU's clock has passed this many cycles; null for no limit.</summary>
    public long? MaxCycles { get; init; }

    /// <summary>A triple fault stops the machine (the default) or resets it (<c>--on-triple-fault</c>).</summary>
    public ResetPolicy OnTripleFault { get; init; } = ResetPolicy.Stop;

    /// <summary>A reset asked for by the guest (port 0x92 bit 0, keyboard controller 0xFE) resets the machine (the default) or stops it (<c>--on-reset-request</c>).</summary>
    public ResetPolicy OnResetRequest { get; init; } = ResetPolicy.Reset;

    public const int DefaultMaxResets = 16;

    /// <summary>Resets allowed in one run before the machine stops (<c>--max-resets</c>): a guest that resets forever ends.</summary>
    public int MaxResets { get; init; } = DefaultMaxResets;

    /// <summary>
    /// Compile hot blocks to IL (<c>--jit on</c>, the default): faster, with the same results as
    /// the interpreter (instructions, cycles, faults); false (<c>--jit off</c>) interprets every block.
    /// </summary>
    public bool Jit { get; init; } = true;

    /// <summary>The memory hierarchy of the cycle timing mode (ignored in the functional mode).</summary>
    public CacheConfig Cache { get; init; } = new();

    /// <summary>Checks ranges; returns an error message or null.</summary>
    public string? Validate()
    {
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

        if (MaxResets < 0)
        {
            return $"--max-resets must be 0 or more (got {MaxResets})";
        }

        if (Timing == TimingMode.Cycle && Cache.Validate() is string cacheError)
        {
            return $"cache configuration: {cacheError}";
        }

        return null;
    }
}
