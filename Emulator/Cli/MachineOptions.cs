using System.CommandLine;
using System.Globalization;
using Emulator.Platform;

namespace Emulator.Cli;

/// <summary>
/// The options every command that boots a machine shares (run, trace, debug, gdb, percpu, gdt,
/// bench): one vocabulary, parsed and validated in one place.
/// </summary>
public sealed class MachineOptions
{
    public Argument<string?> Image { get; } = new("image")
    {
        Description = "Multiboot or ELF32 kernel image to boot (default: the embedded guest)",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public Option<int?> Cpus { get; } = new("--cpus")
    {
        Description = "Number of virtual CPUs, 1-64 (default: 1 for an image, the embedded guest's own default otherwise)",
    };

    public Option<string> Memory { get; } = new("--memory")
    {
        Description = "Guest RAM size, e.g. 128M, 512M, 1G (default 128M)",
        DefaultValueFactory = _ => "128M",
    };

    public Option<TimingMode?> Timing { get; } = new("--timing")
    {
        HelpName = "functional|cycle",
        Description = "functional: one cycle per instruction, no caches; cycle: the timing and coherent cache model (default: cycle for run, functional otherwise)",
    };

    public Option<long?> Quantum { get; } = new("--quantum")
    {
        Description = $"Cycles a CPU runs before the scheduler picks again, 1 = strict cycle order (default {MachineConfig.DefaultCycleQuantum} in cycle timing, {MachineConfig.DefaultQuantum} in functional)",
    };

    public Option<FileInfo?> CacheConfig { get; } = new("--cache-config")
    {
        Description = "JSON file with cache geometry and latencies for --timing cycle (any subset of the fields in docs/timing.md)",
    };

    public Option<string> CommandLine { get; } = new("--cmdline")
    {
        Description = "Kernel command line passed through Multiboot",
        DefaultValueFactory = _ => string.Empty,
    };

    public Option<long?> MaxInstructions { get; } = new("--max-instructions")
    {
        Description = "Stop after this many instructions (all CPUs together)",
    };

    public Option<long?> MaxCycles { get; } = new("--max-cycles")
    {
        Description = "Stop when the CPUs' clocks pass this many cycles",
    };

    public Option<ResetPolicy?> OnTripleFault { get; } = new("--on-triple-fault")
    {
        HelpName = "stop|reset",
        Description = "stop: a triple fault ends the run with a state dump (default); reset: the machine resets and boots again",
    };

    public Option<ResetPolicy?> OnResetRequest { get; } = new("--on-reset-request")
    {
        HelpName = "reset|stop",
        Description = "A reset the guest asks for (port 0x92 bit 0, keyboard controller command 0xFE): reset the machine (default) or stop with status 0",
    };

    public Option<int?> MaxResets { get; } = new("--max-resets")
    {
        Description = $"Resets allowed before the run stops with exit status 12 (default {MachineConfig.DefaultMaxResets})",
    };

    public Option<string> Jit { get; } = CreateJitOption();

    private static Option<string> CreateJitOption()
    {
        var o = new Option<string>("--jit")
        {
            Description = "on: compile hot blocks to IL (same results, faster); off: interpret every block (default on)",
            DefaultValueFactory = _ => "on",
        };
        o.AcceptOnlyFromAmong("on", "off");
        return o;
    }

    /// <summary>
    /// Adds the machine options to <paramref name="command"/>. A command that sweeps CPU counts
    /// and timing modes (bench) leaves out --cpus and --timing and declares list forms of them
    /// under the same names.
    /// </summary>
    public void AddTo(Command command, bool withImageArgument = true, bool withCpusAndTiming = true)
    {
        if (withImageArgument)
        {
            command.Arguments.Add(Image);
        }

        if (withCpusAndTiming)
        {
            command.Options.Add(Cpus);
            command.Options.Add(Timing);
        }

        command.Options.Add(Memory);
        command.Options.Add(Quantum);
        command.Options.Add(CacheConfig);
        command.Options.Add(CommandLine);
        command.Options.Add(MaxInstructions);
        command.Options.Add(MaxCycles);
        command.Options.Add(OnTripleFault);
        command.Options.Add(OnResetRequest);
        command.Options.Add(MaxResets);
        command.Options.Add(Jit);
    }

    /// <summary>Builds the machine configuration, or throws <see cref="UsageException"/> with a one-line message.</summary>
    public MachineConfig ToConfig(ParseResult result, int defaultCpus, TimingMode defaultTiming = TimingMode.Functional)
    {
        var config = new MachineConfig
        {
            Cpus = result.GetValue(Cpus) ?? defaultCpus,
            MemoryBytes = ParseSize(result.GetValue(Memory) ?? "128M"),
            Timing = result.GetValue(Timing) ?? defaultTiming,
            QuantumOverride = result.GetValue(Quantum),
            Cache = LoadCacheConfig(result.GetValue(CacheConfig)),
            CommandLine = result.GetValue(CommandLine) ?? string.Empty,
            MaxInstructions = result.GetValue(MaxInstructions),
            MaxCycles = result.GetValue(MaxCycles),
            OnTripleFault = result.GetValue(OnTripleFault) ?? ResetPolicy.Stop,
            OnResetRequest = result.GetValue(OnResetRequest) ?? ResetPolicy.Reset,
            MaxResets = result.GetValue(MaxResets) ?? MachineConfig.DefaultMaxResets,
            Jit = result.GetValue(Jit) == "on",
        };
        string? error = config.Validate();
        if (error is not null)
        {
            throw new UsageException(error);
        }

        return config;
    }

    private static global::Emulator.Timing.CacheConfig LoadCacheConfig(FileInfo? file)
    {
        if (file is null)
        {
            return new global::Emulator.Timing.CacheConfig();
        }

        try
        {
            return global::Emulator.Timing.CacheConfig.Load(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or System.Text.Json.JsonException or ArgumentException)
        {
            throw new UsageException($"--cache-config {file.Name}: {e.Message}");
        }
    }

    /// <summary>Parses sizes like 128M, 1G, 65536K or a plain byte count (<paramref name="option"/> names the option in the error).</summary>
    public static uint ParseSize(string text, string option = "--memory")
    {
        string t = text.Trim();
        ulong mult = 1;
        if (t.Length > 0)
        {
            char suffix = char.ToUpperInvariant(t[^1]);
            mult = suffix switch { 'K' => 1UL << 10, 'M' => 1UL << 20, 'G' => 1UL << 30, _ => 1 };
            if (mult != 1)
            {
                t = t[..^1];
            }
            else if (t.EndsWith("B", StringComparison.OrdinalIgnoreCase) && t.Length > 2)
            {
                return ParseSize(t[..^1], option);
            }
        }

        if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) || n == 0 || n * mult > uint.MaxValue)
        {
            throw new UsageException($"{option}: '{text}' is not a size such as 128M or 1G (at most 3G)");
        }

        return (uint)(n * mult);
    }
}

/// <summary>A usage error the CLI reports in one line with exit status 2.</summary>
public sealed class UsageException(string message) : Exception(message);
