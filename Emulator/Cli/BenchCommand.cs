using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Emulator.Memory;
using Emulator.Platform;
using Emulator.Timing;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Cli;

/// <summary>
/// `bench`: runs the embedded benchmark guest (guest-images/bench) on its workloads and reports
/// guest instructions, host seconds, guest MIPS (aggregate and per vCPU), peak host memory and
/// start-up time, as a table or as JSON. The guest brackets its measured loop with writes to
/// <see cref="MarkerPort"/>; the emulator counts the instructions in between on every CPU and
/// checks that they equal the count the guest reports from the loop's known length.
/// </summary>
public static partial class BenchCommand
{
    /// <summary>The port the bench guest writes 1 (region starts after this) and 2 (region ends here) to.</summary>
    public const ushort MarkerPort = 0xE0;

    /// <summary>Every workload runs about this many instructions per unit of --iterations.</summary>
    public const int InstructionsPerIteration = 8;

    public const long DefaultIterations = 10_000_000;

    private static readonly string[] AllWorkloads = ["alu", "walk", "walk-paging", "counter"];

    public static Command Create(TextWriter stdout, TextWriter stderr, bool interactive)
    {
        var machine = new MachineOptions();
        var workload = new Option<string>("--workload")
        {
            Description = "alu, walk, walk-paging, counter or all",
            DefaultValueFactory = _ => "all",
        };
        workload.AcceptOnlyFromAmong(["alu", "walk", "walk-paging", "counter", "all"]);
        var iterations = new Option<long>("--iterations")
        {
            Description = $"Scale: each workload runs about {InstructionsPerIteration} x N guest instructions (default {DefaultIterations})",
            DefaultValueFactory = _ => DefaultIterations,
        };
        var cpus = new Option<string>("--cpus")
        {
            Description = "vCPU counts for the counter workload, comma-separated (default 1,2,4,8)",
            DefaultValueFactory = _ => "1,2,4,8",
        };
        var timing = new Option<string>("--timing")
        {
            Description = "functional, cycle or both (every workload in each mode)",
            DefaultValueFactory = _ => "both",
        };
        timing.AcceptOnlyFromAmong(["functional", "cycle", "both"]);
        var walkSize = new Option<string>("--walk-size")
        {
            Description = "Array size of the memory walk (default 8M, at most 48M)",
            DefaultValueFactory = _ => "8M",
        };
        var json = new Option<bool>("--json") { Description = "Print the results as one JSON object" };

        var command = new Command("bench", "Run the built-in benchmark guest's workloads and report guest MIPS, host time and memory");
        command.Options.Add(workload);
        command.Options.Add(iterations);
        command.Options.Add(cpus);
        command.Options.Add(timing);
        command.Options.Add(walkSize);
        machine.AddTo(command, withImageArgument: false, withCpusAndTiming: false);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            long n = parse.GetValue(iterations);
            if (n < 1)
            {
                throw new UsageException($"--iterations must be positive (got {n})");
            }

            uint size = MachineOptions.ParseSize(parse.GetValue(walkSize) ?? "8M", "--walk-size");
            if (size < 64 || size > 48u << 20)
            {
                throw new UsageException("--walk-size must be between 64 bytes and 48M");
            }

            var settings = new Settings(
                Workloads: parse.GetValue(workload) is "all" or null ? AllWorkloads : [parse.GetValue(workload)!],
                Iterations: n,
                CounterCpus: ParseCpuList(parse.GetValue(cpus) ?? "1,2,4,8"),
                Timings: parse.GetValue(timing) switch
                {
                    "functional" => [TimingMode.Functional],
                    "cycle" => [TimingMode.Cycle],
                    _ => [TimingMode.Functional, TimingMode.Cycle],
                },
                WalkSize: size & ~63u,
                Machine: machine.ToConfig(parse, 1, TimingMode.Cycle));
            var progress = interactive && !Console.IsErrorRedirected ? stderr : null;
            var report = RunAll(settings, progress);
            if (parse.GetValue(json))
            {
                WriteJson(report, stdout);
            }
            else
            {
                WriteTable(report, stdout);
            }

            foreach (var r in report.Results.Where(r => !r.Ok))
            {
                stderr.WriteLine($"emulator: bench {r.Workload} ({r.Timing}, {r.Cpus} vCPU): {r.Problem}");
            }

            return report.Results.All(r => r.Ok) ? 0 : ExitCodes.BenchFailed;
        });
        return command;
    }

    public sealed record Settings(
        IReadOnlyList<string> Workloads,
        long Iterations,
        IReadOnlyList<int> CounterCpus,
        IReadOnlyList<TimingMode> Timings,
        uint WalkSize,
        MachineConfig Machine);

    /// <summary>One workload run.</summary>
    public sealed record Result
    {
        public required string Workload { get; init; }

        public required string Timing { get; init; }

        public required int Cpus { get; init; }

        public required string CommandLine { get; init; }

        /// <summary>Instructions retired over the whole run, boot included (Machine.TotalInstructions).</summary>
        public long Instructions { get; init; }

        /// <summary>Instructions between the markers, counted by the emulator (all CPUs).</summary>
        public long RegionInstructions { get; init; }

        /// <summary>The same, as the guest computed it from its loop's known length.</summary>
        public long GuestRegionInstructions { get; init; }

        public long Cycles { get; init; }

        /// <summary>Host seconds inside Machine.Run.</summary>
        public double Seconds { get; init; }

        /// <summary>Host seconds from the first CPU's first marker to the last CPU's second marker.</summary>
        public double RegionSeconds { get; init; }

        /// <summary>Host milliseconds to build the machine and load the image.</summary>
        public double SetupMilliseconds { get; init; }

        public long PeakRssBytes { get; init; }

        public bool Ok { get; init; }

        public string? Problem { get; init; }

        public double Mips => Seconds > 0 ? Instructions / Seconds / 1e6 : 0;

        public double MipsPerCpu => Mips / Cpus;

        public double RegionMips => RegionSeconds > 0 ? RegionInstructions / RegionSeconds / 1e6 : 0;
    }

    public sealed record Report(
        Settings Settings,
        IReadOnlyList<Result> Results,
        double StartupMilliseconds,
        string HostCpu,
        int HostProcessors);

    /// <summary>Runs every selected workload in every selected timing mode.</summary>
    public static Report RunAll(Settings s, TextWriter? progress)
    {
        double startup = double.NaN;
        var results = new List<Result>();
        foreach (var timing in s.Timings)
        {
            foreach (string w in s.Workloads)
            {
                foreach (int cpus in w == "counter" ? s.CounterCpus : [1])
                {
                    string cmdline = CommandLineFor(w, s, cpus);
                    progress?.Write($"bench: {w} {TimingName(timing)} {cpus} vCPU ({cmdline}) ... ");
                    var r = RunOne(w, cmdline, cpus, timing, s, measureStartup: double.IsNaN(startup));
                    if (double.IsNaN(startup))
                    {
                        startup = r.Startup;
                    }

                    results.Add(r.Result);
                    progress?.WriteLine($"{r.Result.Mips:F1} MIPS");
                }
            }
        }

        return new Report(s, results, startup, HostCpuModel(), Environment.ProcessorCount);
    }

    /// <summary>The guest command line for a workload: about 8 x iterations instructions each.</summary>
    public static string CommandLineFor(string workload, Settings s, int cpus)
    {
        long target = s.Iterations * InstructionsPerIteration;
        switch (workload)
        {
            case "alu":
                return $"work=alu iters={Clamp(s.Iterations)}";
            case "walk":
            case "walk-paging":
                long perPass = (5L * (s.WalkSize / 64)) + 3;
                long passes = Math.Max(1, (target + (perPass / 2)) / perPass);
                return $"work=walk size={s.WalkSize} passes={Clamp(passes)}" + (workload == "walk-paging" ? " paging=on" : string.Empty);
            case "counter":
                return $"work=counter cpus={cpus} iters={Clamp(Math.Max(1, target / 4 / cpus))}";
            default:
                throw new UsageException($"unknown workload '{workload}'");
        }
    }

    private static long Clamp(long v) => Math.Clamp(v, 1, uint.MaxValue);

    private static string TimingName(TimingMode t) => t == TimingMode.Cycle ? "cycle" : "functional";

    private static (Result Result, double Startup) RunOne(string workload, string cmdline, int cpus, TimingMode timing, Settings s, bool measureStartup)
    {
        var bytes = GuestImages.TryGet("bench")
            ?? throw new UsageException("no embedded bench guest in this build (run tools/build-guests.sh and rebuild)");
        // The shared machine options (memory, quantum, caches, limits, reset policy) with this
        // run's CPU count and timing; a user --cmdline goes after the workload's own words.
        var config = s.Machine with
        {
            Cpus = cpus,
            Timing = timing,
            CommandLine = s.Machine.CommandLine.Length == 0 ? cmdline : $"{cmdline} {s.Machine.CommandLine}",
        };
        string? error = config.Validate();
        if (error is not null)
        {
            throw new UsageException(error);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        bool peakReset = ResetPeakRss();
        var serial = new StringBuilder();
        long setupStart = Stopwatch.GetTimestamp();
        using var m = new Machine(config, b => serial.Append((char)b));
        m.Load("embedded:bench", bytes);
        var markers = new Markers(m);
        m.Io.Register(MarkerPort, 1, markers);
        double setupMs = Stopwatch.GetElapsedTime(setupStart).TotalMilliseconds;

        double startup = double.NaN;
        if (measureStartup)
        {
            m.Cpus[0].AfterInstruction = c =>
            {
                startup = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
                c.AfterInstruction = null;
            };
        }

        long t0 = Stopwatch.GetTimestamp();
        RunResult run = m.Run();
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        long peak = PeakRss(peakReset);

        string output = serial.ToString();
        var match = ResultLine().Match(output);
        long guestRegion = match.Success ? long.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture) : -1;
        string? problem = null;
        if (run.Reason != StopReason.GuestExit)
        {
            problem = $"the guest did not exit through port 0xF4 ({run.Reason}: {run.Message})";
        }
        else if (!match.Success)
        {
            problem = "the guest printed no result line";
        }
        else if (match.Groups["check"].Value != "ok" || run.GuestExitStatus != 1)
        {
            problem = "the guest's own check of its results failed";
        }
        else if (!markers.Complete(cpus))
        {
            problem = "not every CPU wrote both markers";
        }
        else if (markers.RegionInstructions != guestRegion)
        {
            problem = $"the emulator counted {markers.RegionInstructions} instructions in the region, the guest {guestRegion}";
        }

        var result = new Result
        {
            Workload = workload,
            Timing = TimingName(timing),
            Cpus = cpus,
            CommandLine = config.CommandLine,
            Instructions = run.Instructions,
            RegionInstructions = markers.RegionInstructions,
            GuestRegionInstructions = guestRegion,
            Cycles = run.Cycles,
            Seconds = seconds,
            RegionSeconds = markers.RegionSeconds,
            SetupMilliseconds = setupMs,
            PeakRssBytes = peak,
            Ok = problem is null,
            Problem = problem,
        };
        return (result, startup);
    }

    [GeneratedRegex(@"bench: work=\S+ cpus=\d+ region_instructions=(?<n>\d+) check=(?<check>\S+)")]
    private static partial Regex ResultLine();

    /// <summary>
    /// Records, per CPU, the instruction counter and the host time at each marker write. The
    /// write ends the CPU's block right after the OUT (ExitRequested) and the count is read once
    /// the block has retired, so it includes the OUT itself.
    /// </summary>
    private sealed class Markers(Machine machine) : IPortDevice
    {
        private readonly Dictionary<int, (long Count, long Time)> _begin = [];
        private readonly Dictionary<int, (long Count, long Time)> _end = [];

        public long RegionInstructions => _end.Sum(e => _begin.TryGetValue(e.Key, out var b) ? e.Value.Count - b.Count : 0);

        public double RegionSeconds =>
            _begin.Count == 0 || _end.Count == 0 ? 0 :
            Stopwatch.GetElapsedTime(_begin.Values.Min(b => b.Time), _end.Values.Max(e => e.Time)).TotalSeconds;

        public bool Complete(int cpus) => _begin.Count == cpus && _end.Count == cpus;

        public uint In(ushort port, int size) => size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;

        public void Out(ushort port, int size, uint value)
        {
            CpuCore? cpu = machine.CurrentCpu;
            if (cpu is null || (value & 0xFF) is not (1 or 2))
            {
                return;
            }

            var table = (value & 0xFF) == 1 ? _begin : _end;
            cpu.ExitRequested = true;
            cpu.AfterInstruction = c =>
            {
                table[c.Id] = (c.Instructions, Stopwatch.GetTimestamp());
                c.AfterInstruction = null;
            };
        }
    }

    /// <summary>Resets the kernel's peak-RSS mark (VmHWM) for this process; false where that is not possible.</summary>
    private static bool ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>Peak resident set: VmHWM (since the last reset) where Linux has it, else the process's peak working set.</summary>
    private static long PeakRss(bool fromProc)
    {
        if (fromProc && File.Exists("/proc/self/status"))
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    string kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }

        using var p = Process.GetCurrentProcess();
        return p.PeakWorkingSet64;
    }

    private static string HostCpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null)
                {
                    return line[(line.IndexOf(':') + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static List<int> ParseCpuList(string text)
    {
        var list = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > 16)
            {
                throw new UsageException($"--cpus: '{text}' is not a list of CPU counts from 1 to 16 such as 1,2,4,8");
            }

            list.Add(n);
        }

        return list.Count > 0 ? list : throw new UsageException("--cpus: give at least one CPU count");
    }

    public static void WriteTable(Report report, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(inv, $"host: {report.HostCpu}, {report.HostProcessors} processors; .NET {Environment.Version}; start-up to first guest instruction {report.StartupMilliseconds:F0} ms"));
        w.WriteLine($"{"workload",-12} {"timing",-10} {"vCPUs",5} {"instructions",14} {"seconds",8} {"MIPS",8} {"MIPS/vCPU",9} {"region MIPS",11} {"peak RSS",9}  check");
        foreach (var r in report.Results)
        {
            w.WriteLine(string.Create(inv, $"{r.Workload,-12} {r.Timing,-10} {r.Cpus,5} {r.Instructions,14} {r.Seconds,8:F3} {r.Mips,8:F1} {r.MipsPerCpu,9:F1} {r.RegionMips,11:F1} {r.PeakRssBytes / 1048576.0,6:F0} MiB  {(r.Ok ? "ok" : "FAILED")}"));
        }
    }

    public static void WriteJson(Report report, TextWriter w)
    {
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteStartObject("host");
            j.WriteString("cpu", report.HostCpu);
            j.WriteNumber("processors", report.HostProcessors);
            j.WriteString("os", RuntimeInformation.OSDescription);
            j.WriteString("runtime", RuntimeInformation.FrameworkDescription);
            j.WriteEndObject();
            j.WriteNumber("iterations", report.Settings.Iterations);
            j.WriteNumber("memory_bytes", report.Settings.Machine.MemoryBytes);
            if (report.Settings.Machine.QuantumOverride is long q)
            {
                j.WriteNumber("quantum", q);
            }
            else
            {
                j.WriteNull("quantum");
            }

            WriteDouble(j, "startup_ms", report.StartupMilliseconds);
            j.WriteStartArray("results");
            foreach (var r in report.Results)
            {
                j.WriteStartObject();
                j.WriteString("workload", r.Workload);
                j.WriteString("timing", r.Timing);
                j.WriteNumber("cpus", r.Cpus);
                j.WriteString("cmdline", r.CommandLine);
                j.WriteNumber("instructions", r.Instructions);
                j.WriteNumber("region_instructions", r.RegionInstructions);
                j.WriteNumber("guest_region_instructions", r.GuestRegionInstructions);
                j.WriteNumber("cycles", r.Cycles);
                WriteDouble(j, "seconds", r.Seconds);
                WriteDouble(j, "region_seconds", r.RegionSeconds);
                WriteDouble(j, "setup_ms", r.SetupMilliseconds);
                WriteDouble(j, "mips", r.Mips);
                WriteDouble(j, "mips_per_cpu", r.MipsPerCpu);
                WriteDouble(j, "region_mips", r.RegionMips);
                j.WriteNumber("peak_rss_bytes", r.PeakRssBytes);
                j.WriteBoolean("ok", r.Ok);
                if (r.Problem is not null)
                {
                    j.WriteString("problem", r.Problem);
                }

                j.WriteEndObject();
            }

            j.WriteEndArray();
            j.WriteEndObject();
        }

        w.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteDouble(Utf8JsonWriter j, string name, double v)
    {
        if (double.IsFinite(v))
        {
            j.WriteNumber(name, Math.Round(v, 6));
        }
        else
        {
            j.WriteNull(name);
        }
    }
}
