using Emulator.Cpu;
using Emulator.Loading;
using Emulator.Platform;
using Emulator.Timing;
using Emulator.Tracing;

namespace Emulator.Statistics;

/// <summary>One CPU's figures at the end of a run.</summary>
public sealed record CpuStatistics(
    int Id,
    string State,
    long Instructions,
    long Cycles,
    long PageWalks,
    long Exceptions,
    long ExternalInterrupts,
    CpuTimingCounters? Timing)
{
    /// <summary>Instructions per cycle.</summary>
    public double Ipc => Cycles == 0 ? 0 : (double)Instructions / Cycles;

    /// <summary>The external interrupts delivered to this CPU, by vector (NMIs as vector 2), vectors in order.</summary>
    public IReadOnlyList<(int Vector, long Count)> InterruptsByVector { get; init; } = [];
}

/// <summary>Reads and writes of a device address (an I/O port or a physical page) nothing models.</summary>
public readonly record struct UnmodelledAccess(uint Address, long Reads, long Writes)
{
    public long Total => Reads + Writes;
}

/// <summary>How the CPUs that wrote a contended line used it.</summary>
public enum SharingKind
{
    /// <summary>At most one CPU wrote it while it moved (the others only read it).</summary>
    ReadShared,

    /// <summary>Several CPUs wrote the same bytes: a genuinely shared variable (a counter, a lock).</summary>
    TrueSharing,

    /// <summary>Several CPUs wrote different bytes of the line: their variables only share the line.</summary>
    FalseSharing,
}

/// <summary>A cache line with coherence traffic, named by the symbols it holds.</summary>
/// <remarks><see cref="Symbols"/>: the variables written in the line while it moved (all of them when none was); <see cref="AllSymbols"/>: everything in it.</remarks>
public sealed record ContendedLine(
    uint Address,
    LineContention Total,
    IReadOnlyList<string> Symbols,
    IReadOnlyList<string> AllSymbols,
    IReadOnlyList<(int Cpu, ulong Bytes)> Writers,
    SharingKind Sharing);

/// <summary>Coherence traffic summed per data symbol (a per-CPU variable's copies apart, per CPU).</summary>
public sealed record ContendedSymbol(string Name, long Cycles, long Events, int Lines);

/// <summary>
/// What a run did: per CPU instructions, cycles and, in the cycle mode, the cache and coherence
/// counters with the cycle breakdown; the most contended cache lines named by ELF symbol (per-CPU
/// copies of <c>.data..percpu</c> variables recognised through the guest's
/// <c>__per_cpu_offset</c>) and whether their sharing is true or false; the instructions and
/// device accesses the emulator does not model.
/// </summary>
public sealed class RunStatistics
{
    /// <summary>How many contended lines a report lists.</summary>
    public const int DefaultTopLines = 10;

    public required string Image { get; init; }

    public required TimingMode Timing { get; init; }

    public required long Quantum { get; init; }

    public required RunResult Result { get; init; }

    public required IReadOnlyList<CpuStatistics> Cpus { get; init; }

    public CacheConfig? Cache { get; init; }

    public IReadOnlyList<ContendedLine> Lines { get; init; } = [];

    public IReadOnlyList<ContendedSymbol> Symbols { get; init; } = [];

    public IReadOnlyList<(string Mnemonic, long Count)> Unimplemented { get; init; } = [];

    /// <summary>Accesses to I/O ports no device claims (reads return all ones, writes are dropped), by port.</summary>
    public IReadOnlyList<UnmodelledAccess> UnclaimedPorts { get; init; } = [];

    /// <summary>Accesses to physical addresses neither RAM nor a device backs, by page base.</summary>
    public IReadOnlyList<UnmodelledAccess> UnclaimedMemory { get; init; } = [];

    /// <summary><see cref="Machine.StateHash"/> at the end of the run (two runs of the same image and options agree).</summary>
    public ulong StateHash { get; init; }

    public long BlocksDecoded { get; init; }

    public long BlocksInvalidated { get; init; }

    public long TotalInstructions => Cpus.Sum(c => c.Instructions);

    /// <summary>Gathers the statistics of a machine that has run.</summary>
    public static RunStatistics Collect(Machine m, RunResult result, int topLines = DefaultTopLines)
    {
        var cpus = m.Cpus.Select(c => new CpuStatistics(
            c.Id,
            c.State.ToString(),
            c.Instructions,
            c.Cycles,
            c.PageWalks,
            c.ExceptionCounts.Sum(),
            c.ExternalInterrupts,
            c.Timing)
        {
            InterruptsByVector = Enumerable.Range(0, 256).Where(v => c.ExternalInterruptCounts[v] != 0)
                .Select(v => (v, c.ExternalInterruptCounts[v])).ToList(),
        }).ToList();

        SymbolTable symbols = m.Image?.Symbols ?? SymbolTable.Empty;
        var resolver = new PerCpuResolver(symbols, m.Memory);
        var lines = new List<ContendedLine>();
        var bySymbol = new Dictionary<string, (long Cycles, long Events, int Lines)>(StringComparer.Ordinal);
        if (m.Caches is { } caches)
        {
            int lineSize = caches.Config.LineSize;
            foreach (var (address, total) in caches.TopContendedLines(int.MaxValue))
            {
                var writers = new List<(int Cpu, ulong Bytes)>();
                ulong writtenBytes = 0;
                for (int cpu = 0; cpu < caches.CpuCount; cpu++)
                {
                    if (caches.Counters(cpu).ContendedLines.TryGetValue(address, out var own) && own.WrittenBytes != 0)
                    {
                        writers.Add((cpu, own.WrittenBytes));
                        writtenBytes |= own.WrittenBytes;
                    }
                }

                // The line's traffic goes to the variables written in it (all of its symbols when
                // nobody wrote it while it moved).
                var (names, written) = SymbolsInLine(resolver, address, lineSize, writtenBytes);
                foreach (string name in written.Count > 0 ? written : names)
                {
                    var s = bySymbol.GetValueOrDefault(name);
                    bySymbol[name] = (s.Cycles + total.Cycles, s.Events + total.Events, s.Lines + 1);
                }

                if (lines.Count < topLines)
                {
                    lines.Add(new ContendedLine(address, total, written.Count > 0 ? written : names, names, writers, Classify(writers)));
                }
            }
        }

        var unimplemented = m.Cpus.SelectMany(c => c.Unimplemented)
            .GroupBy(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Sum()))
            .OrderBy(x => x.Key, StringComparer.Ordinal)
            .ToList();

        return new RunStatistics
        {
            Image = m.Image?.DisplayName ?? "(none)",
            Timing = m.Config.Timing,
            Quantum = m.Config.Quantum,
            Result = result,
            Cpus = cpus,
            Cache = m.Caches?.Config,
            Lines = lines,
            Symbols = bySymbol.OrderByDescending(kv => kv.Value.Cycles).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                .Take(topLines).Select(kv => new ContendedSymbol(kv.Key, kv.Value.Cycles, kv.Value.Events, kv.Value.Lines)).ToList(),
            Unimplemented = unimplemented,
            UnclaimedPorts = m.Io.UnclaimedAccesses.OrderBy(kv => kv.Key)
                .Select(kv => Split(kv.Key, kv.Value, m.Io.UnclaimedWrites.GetValueOrDefault(kv.Key))).ToList(),
            UnclaimedMemory = m.Bus.UnclaimedAccesses.OrderBy(kv => kv.Key)
                .Select(kv => Split(kv.Key, kv.Value, m.Bus.UnclaimedWrites.GetValueOrDefault(kv.Key))).ToList(),
            StateHash = m.StateHash(),
            BlocksDecoded = m.Code.BlocksDecoded,
            BlocksInvalidated = m.Code.BlocksInvalidated,
        };
    }

    private static UnmodelledAccess Split(uint address, long total, long writes) => new(address, total - writes, writes);

    /// <summary>
    /// True sharing when two writers wrote a common byte, false sharing when several CPUs wrote
    /// the line but never the same bytes, read sharing when at most one CPU wrote it.
    /// </summary>
    public static SharingKind Classify(IReadOnlyList<(int Cpu, ulong Bytes)> writers)
    {
        if (writers.Count < 2)
        {
            return SharingKind.ReadShared;
        }

        for (int i = 0; i < writers.Count; i++)
        {
            for (int j = i + 1; j < writers.Count; j++)
            {
                if ((writers[i].Bytes & writers[j].Bytes) != 0)
                {
                    return SharingKind.TrueSharing;
                }
            }
        }

        return SharingKind.FalseSharing;
    }

    /// <summary>
    /// The symbols with bytes in a line (per-CPU copies named for their CPU), in address order,
    /// and the subset whose bytes some CPU wrote when the write moved the line: those are the
    /// variables the traffic is about (a read-only neighbour only shares the line).
    /// </summary>
    private static (List<string> All, List<string> Written) SymbolsInLine(PerCpuResolver resolver, uint line, int lineSize, ulong writtenBytes)
    {
        var all = new List<string>();
        var written = new List<string>();
        for (int b = 0; b < lineSize; b++)
        {
            PerCpuAddress r = resolver.Resolve(line + (uint)b);
            if (r.Symbol is null)
            {
                continue;
            }

            string name = r.Cpu is int cpu ? $"{r.Variable} (CPU {cpu})" : r.Variable;
            if (!all.Contains(name))
            {
                all.Add(name);
            }

            int bit = lineSize <= 64 ? b : b * 64 / lineSize;
            if ((writtenBytes >> bit & 1) != 0 && !written.Contains(name))
            {
                written.Add(name);
            }
        }

        return (all, written);
    }
}
