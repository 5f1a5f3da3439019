using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Emulator.Cpu.Segmentation;
using Emulator.Loading;
using Emulator.Platform;
using Emulator.Tracing;

namespace Emulator.Cli;

/// <summary>
/// `trace [IMAGE]`: one line per executed instruction with CPU, cycle, CS:EIP, symbol, AT&amp;T
/// disassembly and, for instructions with a memory operand, how the access resolves
/// (selector -> descriptor -> base -> linear -> physical -> per-CPU variable -> value).
/// Stepping keeps the scheduler's slices, so the trace shows the same interleaving as `run`.
/// </summary>
public static class TraceCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var machine = new MachineOptions();
        var cpuFilter = new Option<int?>("--cpu") { Description = "Only show instructions of this CPU" };
        var segFilter = new Option<string?>("--segment") { Description = "Only show accesses through this segment register (es, cs, ss, ds, fs, gs)" };
        var symbolFilter = new Option<string?>("--symbol") { Description = "Only show instructions inside this function or object" };
        var rangeFilter = new Option<string?>("--range") { Description = "Only show instructions with EIP in A-B (hex)" };
        var limit = new Option<long?>("--limit") { Description = "Stop after printing this many lines" };
        var startAt = new Option<string?>("--start-at") { Description = "Start printing when a CPU reaches this symbol" };
        var stopAt = new Option<string?>("--stop-at") { Description = "Stop when a CPU reaches this symbol" };
        var json = new Option<bool>("--json") { Description = "One JSON object per line" };
        var command = new Command("trace", "Run an image one instruction at a time and print each instruction and how its memory access resolves");
        machine.AddTo(command);
        command.Options.Add(cpuFilter);
        command.Options.Add(segFilter);
        command.Options.Add(symbolFilter);
        command.Options.Add(rangeFilter);
        command.Options.Add(limit);
        command.Options.Add(startAt);
        command.Options.Add(stopAt);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var (name, bytes, defaultCpus) = RunCommand.ResolveImage(parse.GetValue(machine.Image));
            var config = machine.ToConfig(parse, defaultCpus);
            using var m = new Machine(config, _ => { });
            var image = m.Load(name, bytes);
            int? onlyCpu = parse.GetValue(cpuFilter);
            if (onlyCpu is int c && (c < 0 || c >= m.Cpus.Length))
            {
                throw new UsageException($"--cpu {c}: the machine has CPUs 0 to {m.Cpus.Length - 1}");
            }

            if (parse.GetValue(limit) is long l && l < 1)
            {
                throw new UsageException($"--limit must be at least 1 (got {l})");
            }

            var filter = new TraceFilter
            {
                Cpu = onlyCpu,
                Segment = ParseSegment(parse.GetValue(segFilter)),
                Range = ParseRange(parse.GetValue(rangeFilter), parse.GetValue(symbolFilter), image.Symbols),
                Limit = parse.GetValue(limit) ?? long.MaxValue,
                StartAt = ResolveSymbol(parse.GetValue(startAt), image.Symbols),
                StopAt = ResolveSymbol(parse.GetValue(stopAt), image.Symbols),
            };
            var result = Trace(m, image, filter, parse.GetValue(json), stdout);
            return result is null ? 0 : RunCommand.Report(result, m, stderr);
        });
        return command;
    }

    public sealed record TraceFilter
    {
        public int? Cpu { get; init; }

        public int? Segment { get; init; }

        public (uint Start, uint End)? Range { get; init; }

        public long Limit { get; init; } = long.MaxValue;

        public uint? StartAt { get; init; }

        public uint? StopAt { get; init; }
    }

    /// <summary>Traces until the machine stops (returns its result), the limit or the stop symbol is reached (returns null).</summary>
    public static RunResult? Trace(Machine m, LoadedImage image, TraceFilter filter, bool json, TextWriter output)
    {
        var resolver = new PerCpuResolver(image.Symbols, m.Memory);
        var view = new InstructionView(image.Symbols);
        bool started = filter.StartAt is null;
        long printed = 0;
        while (printed < filter.Limit)
        {
            var cpu = m.PrepareStep();
            if (cpu is null)
            {
                return m.Advance(1);
            }

            uint eip = cpu.Eip;
            if (filter.StopAt == eip)
            {
                return null;
            }

            started |= filter.StartAt == eip;
            bool decoded = InstructionView.TryDecode(cpu, out var ins);
            AccessExplanation? access = decoded ? AccessExplainer.Explain(cpu, ins, resolver) : null;
            bool show = started && decoded &&
                (filter.Cpu is null || filter.Cpu == cpu.Id) &&
                (filter.Range is null || (eip >= filter.Range.Value.Start && eip <= filter.Range.Value.End)) &&
                (filter.Segment is null || access?.Segment == filter.Segment);
            long cycle = cpu.Cycles;
            long retiredBefore = cpu.Instructions;
            ushort cs = cpu.Seg(SegReg.CS).Selector;
            long[] exceptionsBefore = show ? (long[])cpu.ExceptionCounts.Clone() : [];
            var result = m.Advance(1);
            if (show)
            {
                if (access is { Write: true })
                {
                    access.Value = AccessExplainer.ReadValue(cpu, access.Linear, access.Size);
                }

                string where = image.Symbols.Format(eip);
                string text = view.Format(ins);
                if (cpu.Instructions == retiredBefore)
                {
                    int v = -1;
                    for (int i = 0; i < exceptionsBefore.Length; i++)
                    {
                        if (cpu.ExceptionCounts[i] != exceptionsBefore[i])
                        {
                            v = i;
                            break;
                        }
                    }

                    text += v >= 0 ? $"    -> faulted: {Emulator.Cpu.Vectors.Mnemonic(v)}" : "    -> did not complete";
                }
                output.WriteLine(json ? Json(cpu.Id, cycle, cs, eip, where, text, access) : TraceLine.Format(cpu.Id, cycle, cs, eip, where, text, access));
                printed++;
            }

            if (result is not null)
            {
                return result;
            }
        }

        return null;
    }

    private static string Json(int cpu, long cycle, ushort cs, uint eip, string where, string disasm, AccessExplanation? a)
    {
        var record = new Dictionary<string, object?>
        {
            ["cpu"] = cpu,
            ["cycle"] = cycle,
            ["cs"] = cs,
            ["eip"] = eip,
            ["symbol"] = where,
            ["disasm"] = disasm,
        };
        if (a is not null)
        {
            record["access"] = new Dictionary<string, object?>
            {
                ["segment"] = SegReg.Name(a.Segment),
                ["selector"] = a.Selector,
                ["table"] = a.Table,
                ["index"] = a.Index,
                ["descriptor_address"] = a.DescriptorAddress,
                ["base"] = a.Base,
                ["limit"] = a.Limit,
                ["type"] = AccessExplanation.TypeName(a.AccessRights),
                ["stale"] = a.Stale,
                ["offset"] = a.Offset,
                ["linear"] = a.Linear,
                ["physical"] = a.Physical,
                ["target"] = a.Target,
                ["size"] = a.Size,
                ["write"] = a.Write,
                ["value"] = a.Value,
                ["cache"] = a.Cache,
            };
        }

        return JsonSerializer.Serialize(record);
    }

    private static int? ParseSegment(string? text)
    {
        if (text is null)
        {
            return null;
        }

        for (int s = 0; s < SegReg.Count; s++)
        {
            if (string.Equals(SegReg.Name(s), text.TrimStart('%'), StringComparison.OrdinalIgnoreCase))
            {
                return s;
            }
        }

        throw new UsageException($"--segment: '{text}' is not one of es, cs, ss, ds, fs, gs");
    }

    private static (uint, uint)? ParseRange(string? range, string? symbol, SymbolTable symbols)
    {
        if (symbol is not null)
        {
            if (!symbols.TryGetByName(symbol, out var s))
            {
                throw new UsageException($"--symbol: the image has no symbol '{symbol}'");
            }

            return (s.Address, s.Address + Math.Max(s.Size, 1) - 1);
        }

        if (range is null)
        {
            return null;
        }

        string[] parts = range.Split('-');
        if (parts.Length != 2 || !TryHex(parts[0], out uint a) || !TryHex(parts[1], out uint b) || b < a)
        {
            throw new UsageException($"--range: '{range}' is not A-B in hex, e.g. 0x100000-0x100fff");
        }

        return (a, b);
    }

    private static uint? ResolveSymbol(string? name, SymbolTable symbols)
    {
        if (name is null)
        {
            return null;
        }

        if (symbols.TryGetByName(name, out var s))
        {
            return s.Address;
        }

        if (TryHex(name, out uint a))
        {
            return a;
        }

        throw new UsageException($"the image has no symbol '{name}'");
    }

    public static bool TryHex(string text, out uint value)
    {
        string t = text.Trim();
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            t = t[2..];
        }

        return uint.TryParse(t, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }
}
