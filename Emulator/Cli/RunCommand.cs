using System.CommandLine;
using System.Text;
using Emulator.Loading;
using Emulator.Platform;
using Emulator.Statistics;
using Emulator.Tracing;

namespace Emulator.Cli;

/// <summary>`run [IMAGE]`: boots an image (or the embedded guest) and streams its serial output.</summary>
public static class RunCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, bool interactive)
    {
        var machine = new MachineOptions();
        var stats = new Option<bool?>("--stats")
        {
            Description = "Print statistics at the end (per CPU; in cycle timing the caches, coherence, the cycle breakdown and the most contended lines and symbols) to standard error (default: on for the embedded default guest; --stats false turns it off)",
        };
        var statsJson = new Option<string?>("--stats-json")
        {
            Description = "Write all the statistics as JSON to this file ('-' for standard output)",
            HelpName = "FILE",
        };
        var timeline = new Option<string?>("--timeline")
        {
            Description = "Write a Chrome trace-event JSON timeline (open it in Perfetto): a track per CPU with the functions it runs, halts, interrupts, IPIs and, in cycle timing, coherence stalls; timestamps are cycles",
            HelpName = "FILE",
        };
        var command = new Command("run", "Boot a kernel image (default: the embedded guest) and stream its serial output");
        machine.AddTo(command);
        command.Options.Add(stats);
        command.Options.Add(statsJson);
        command.Options.Add(timeline);
        command.SetAction(parse =>
        {
            var (name, bytes, defaultCpus) = ResolveImage(parse.GetValue(machine.Image));
            var config = machine.ToConfig(parse, defaultCpus, TimingMode.Cycle);
            string? jsonPath = parse.GetValue(statsJson);

            // Opened before the run, so a bad path is reported before minutes of emulation.
            using FileStream? jsonFile = jsonPath is null or "-" ? null : CreateStatsFile(jsonPath);
            string? timelinePath = parse.GetValue(timeline);
            using FileStream? timelineFile = timelinePath is null ? null : CreateFile("--timeline", timelinePath);
            using var output = new SerialWriter(stdout);
            using var m = new Machine(config, output.Write);
            m.Load(name, bytes);
            m.AfterReset = why => stderr.WriteLine($"emulator: machine reset {m.Resets}: {why}");
            using var recorder = timelineFile is null ? null : new TimelineRecorder(m, timelineFile);
            using var input = interactive ? HostInput.Start(m) : null;
            using var cancel = interactive ? new CtrlC(m) : null;
            RunResult result = m.Run();
            recorder?.Finish();
            output.Flush();
            int status = Report(result, m, stderr);

            // The default run tells the whole story: the demos, then what the machine measured.
            bool printStats = parse.GetValue(stats) ?? string.IsNullOrEmpty(parse.GetValue(machine.Image));
            if (printStats || jsonPath is not null)
            {
                var statistics = RunStatistics.Collect(m, result);
                if (printStats)
                {
                    stderr.Write(StatisticsReport.FormatText(statistics));
                }

                if (jsonFile is not null)
                {
                    StatisticsReport.WriteJson(statistics, jsonFile);
                }
                else if (jsonPath is not null)
                {
                    using var buffer = new MemoryStream();
                    StatisticsReport.WriteJson(statistics, buffer);
                    stdout.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
                }
            }

            return status;
        });
        return command;
    }

    private static FileStream CreateStatsFile(string path) => CreateFile("--stats-json", path);

    private static FileStream CreateFile(string option, string path)
    {
        try
        {
            return File.Create(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"{option} {path}: {e.Message}");
        }
    }

    /// <summary>Loads the image bytes from a path or the embedded default.</summary>
    public static (string Name, byte[] Bytes, int DefaultCpus) ResolveImage(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            var bytes = GuestImages.TryGet(GuestImages.DefaultName)
                ?? throw new UsageException("no embedded guest image in this build (run tools/build-guests.sh and rebuild)");
            return ($"embedded:{GuestImages.DefaultName}", bytes, GuestImages.DefaultCpus);
        }

        if (path.StartsWith("embedded:", StringComparison.Ordinal))
        {
            string n = path["embedded:".Length..];
            var bytes = GuestImages.TryGet(n)
                ?? throw new UsageException($"no embedded guest named '{n}' (have: {string.Join(", ", GuestImages.Names)})");
            return (path, bytes, GuestImages.DefaultCpus);
        }

        return (path, ImageLoader.ReadFile(path), 1);
    }

    /// <summary>Prints the one-line verdict for abnormal stops and maps the result to an exit status.</summary>
    public static int Report(RunResult result, Machine m, TextWriter stderr)
    {
        var missing = m.Cpus.SelectMany(c => c.Unimplemented)
            .GroupBy(kv => kv.Key, kv => kv.Value)
            .Select(g => $"{g.Key} x{g.Sum()}")
            .Order(StringComparer.Ordinal)
            .ToList();
        if (missing.Count > 0)
        {
            stderr.WriteLine($"emulator: note: the guest ran instructions this emulator does not implement (each raised #UD): {string.Join(", ", missing)}");
        }

        switch (result.Reason)
        {
            case StopReason.InstructionLimit:
            case StopReason.CycleLimit:
                stderr.WriteLine($"emulator: {result.Message} after {result.Instructions} instructions");
                break;
            case StopReason.TripleFault:
            case StopReason.ResetLimit:
                stderr.WriteLine($"emulator: {result.Message}");
                stderr.Write(StateDump.Format(m));
                break;
            case StopReason.ResetRequest:
                stderr.WriteLine($"emulator: {result.Message}");
                break;
            case StopReason.HostRequest:
                stderr.WriteLine("emulator: interrupted");
                break;
        }

        return RunExitStatus.Of(result);
    }

    /// <summary>Buffers guest serial bytes and writes them as text to the output.</summary>
    private sealed class SerialWriter(TextWriter target) : IDisposable
    {
        private readonly List<byte> _pending = [];

        public void Write(byte b)
        {
            _pending.Add(b);
            if (b == (byte)'\n' || _pending.Count >= 4096)
            {
                Flush();
            }
        }

        public void Flush()
        {
            if (_pending.Count == 0)
            {
                return;
            }

            target.Write(Encoding.Latin1.GetString(_pending.ToArray()));
            target.Flush();
            _pending.Clear();
        }

        public void Dispose() => Flush();
    }

    /// <summary>Feeds the host's standard input to the guest UART from a background thread.</summary>
    private sealed class HostInput : IDisposable
    {
        private HostInput()
        {
        }

        public static HostInput Start(Machine m)
        {
            var t = new Thread(() =>
            {
                try
                {
                    using var stdin = Console.OpenStandardInput();
                    var buf = new byte[256];
                    int n;
                    while ((n = stdin.Read(buf, 0, buf.Length)) > 0)
                    {
                        m.Com1.EnqueueInput(buf.AsSpan(0, n));
                    }
                }
                catch (IOException)
                {
                    // Input closed: nothing more to feed.
                }
            })
            {
                IsBackground = true,
                Name = "serial input",
            };
            t.Start();
            return new HostInput();
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Ctrl-C stops the machine at the next scheduling point instead of killing the process.</summary>
    private sealed class CtrlC : IDisposable
    {
        private readonly ConsoleCancelEventHandler _handler;

        public CtrlC(Machine m)
        {
            _handler = (_, e) =>
            {
                e.Cancel = true;
                m.RequestStop();
            };
            Console.CancelKeyPress += _handler;
        }

        public void Dispose() => Console.CancelKeyPress -= _handler;
    }
}
