using System.Globalization;
using System.Text;
using System.Text.Json;
using Emulator.Platform;
using Emulator.Timing;

namespace Emulator.Statistics;

/// <summary>Formats <see cref="RunStatistics"/> as a readable summary or as JSON for tools.</summary>
public static class StatisticsReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string FormatText(RunStatistics s)
    {
        var sb = new StringBuilder();
        string timing = s.Timing == TimingMode.Cycle ? "cycle" : "functional";
        sb.AppendLine(Inv, $"statistics: {s.Image}, {s.Cpus.Count} CPU(s), --timing {timing}, quantum {s.Quantum} cycles; stopped: {s.Result.Message}; state hash {s.StateHash:x16}");
        sb.AppendLine("  cpu   instructions         cycles    IPC  exceptions  interrupts  page walks  state");
        foreach (var c in s.Cpus)
        {
            sb.AppendLine(Inv, $"  {c.Id,3}  {c.Instructions,13:N0}  {c.Cycles,13:N0}  {c.Ipc,5:F2}  {c.Exceptions,10:N0}  {c.ExternalInterrupts,10:N0}  {c.PageWalks,10:N0}  {c.State}");
        }

        sb.AppendLine(Inv, $"  all  {s.TotalInstructions,13:N0}  {s.Result.Cycles,13:N0}  (cycles: the furthest CPU clock)");
        AppendInterrupts(sb, s);
        if (s.Timing == TimingMode.Cycle)
        {
            AppendBreakdown(sb, s);
            AppendCaches(sb, s);
            AppendLines(sb, s);
        }
        else
        {
            sb.AppendLine("  (functional timing: one cycle per instruction and no caches; use --timing cycle for cache, coherence and cycle-breakdown figures)");
        }

        AppendUnmodelled(sb, s);
        return sb.ToString();
    }

    private static void AppendInterrupts(StringBuilder sb, RunStatistics s)
    {
        if (s.Cpus.All(c => c.InterruptsByVector.Count == 0))
        {
            sb.AppendLine("external interrupts by vector: none");
            return;
        }

        sb.AppendLine("external interrupts by vector (NMI = 0x02):");
        foreach (var c in s.Cpus)
        {
            string vectors = c.InterruptsByVector.Count == 0 ? "none" : string.Join(", ", c.InterruptsByVector.Select(v => $"0x{v.Vector:x2} x{v.Count.ToString("N0", Inv)}"));
            sb.AppendLine(Inv, $"  {c.Id,3}  {vectors}");
        }
    }

    private static string Access(UnmodelledAccess a) =>
        $"{a.Reads.ToString("N0", Inv)} read{(a.Reads == 1 ? "" : "s")}, {a.Writes.ToString("N0", Inv)} write{(a.Writes == 1 ? "" : "s")}";

    private static string Pct(long part, long whole) => whole == 0 ? "    -" : ((double)part * 100 / whole).ToString("F1", Inv).PadLeft(5) + "%";

    private static void AppendBreakdown(StringBuilder sb, RunStatistics s)
    {
        sb.AppendLine("cycle breakdown (share of each CPU's cycles):");
        sb.AppendLine("  cpu     base  memory  coherence  locked     I/O  halted  penalties");
        foreach (var c in s.Cpus)
        {
            var t = c.Timing!;
            long all = t.BreakdownTotal;
            sb.AppendLine(Inv, $"  {c.Id,3}  {Pct(t.BaseCycles, all)}  {Pct(t.MemoryCycles, all)}     {Pct(t.CoherenceCycles, all)}  {Pct(t.LockedCycles, all)}  {Pct(t.IoCycles, all)}  {Pct(t.HaltedCycles, all)}     {Pct(t.PenaltyCycles, all)}");
        }
    }

    private static void AppendCaches(StringBuilder sb, RunStatistics s)
    {
        sb.AppendLine("caches and coherence:");
        sb.AppendLine("  cpu  L1I hits  L1D hits    L2 hits  L2 misses  inval sent  inval recv  xfers in  xfers out  upgrades  write-backs  locked ops");
        foreach (var c in s.Cpus)
        {
            var t = c.Timing!;
            sb.AppendLine(Inv, $"  {c.Id,3}  {Pct(t.L1IHits, t.L1IHits + t.L1IMisses),8}  {Pct(t.L1DHits, t.L1DHits + t.L1DMisses),8}  {t.L2Hits,9:N0}  {t.L2Misses,9:N0}  {t.InvalidationsSent,10:N0}  {t.InvalidationsReceived,10:N0}  {t.TransfersReceived,8:N0}  {t.TransfersSent,9:N0}  {t.Upgrades,8:N0}  {t.WriteBacks,11:N0}  {t.LockedAccesses,10:N0}");
        }
    }

    private static void AppendLines(StringBuilder sb, RunStatistics s)
    {
        if (s.Lines.Count == 0)
        {
            sb.AppendLine("contended lines: none (no line moved between CPUs)");
            return;
        }

        sb.AppendLine("most contended cache lines (coherence cycles, all CPUs):");
        sb.AppendLine("  line            cycles    events  transfers  invalidations  upgrades  sharing        symbols");
        foreach (var l in s.Lines)
        {
            var t = l.Total;
            string sharing = l.Sharing switch
            {
                SharingKind.FalseSharing => "FALSE SHARING",
                SharingKind.TrueSharing => "true sharing",
                _ => "read-shared",
            };
            string symbols = l.Symbols.Count == 0 ? "(no symbol)" : string.Join(", ", l.Symbols);
            var others = l.AllSymbols.Except(l.Symbols).ToList();
            if (others.Count > 0)
            {
                symbols += $" (line shared with {string.Join(", ", others)})";
            }

            sb.AppendLine(Inv, $"  0x{l.Address:x8}  {t.Cycles,10:N0}  {t.Events,8:N0}  {t.TransfersReceived,9:N0}  {t.InvalidationsReceived,13:N0}  {t.Upgrades,8:N0}  {sharing,-13}  {symbols}");
            if (l.Writers.Count > 0)
            {
                sb.Append("      written at line bytes by ");
                sb.AppendLine(string.Join("; ", l.Writers.Select(w => $"CPU {w.Cpu}: {ByteRanges(w.Bytes)}")));
            }
        }

        if (s.Symbols.Count > 0)
        {
            sb.AppendLine("contended symbols:");
            foreach (var sym in s.Symbols)
            {
                sb.AppendLine(Inv, $"  {sym.Name,-40} {sym.Cycles,12:N0} cycles  {sym.Events,9:N0} events  {sym.Lines,4} line(s)");
            }
        }
    }

    private static void AppendUnmodelled(StringBuilder sb, RunStatistics s)
    {
        if (s.Unimplemented.Count == 0 && s.UnclaimedPorts.Count == 0 && s.UnclaimedMemory.Count == 0)
        {
            sb.AppendLine("unmodelled: none (every instruction and device access was modelled)");
            return;
        }

        if (s.Unimplemented.Count > 0)
        {
            sb.AppendLine("unmodelled instructions (each raised #UD): " + string.Join(", ", s.Unimplemented.Select(u => $"{u.Mnemonic} x{u.Count}")));
        }

        if (s.UnclaimedPorts.Count > 0)
        {
            sb.AppendLine("unclaimed I/O ports (reads return all ones, writes are dropped):");
            foreach (var p in s.UnclaimedPorts)
            {
                sb.AppendLine(Inv, $"  port 0x{p.Address:x4}: {Access(p)}");
            }
        }

        if (s.UnclaimedMemory.Count > 0)
        {
            sb.AppendLine("unbacked physical addresses (neither RAM nor a device; reads return all ones, writes are dropped):");
            foreach (var p in s.UnclaimedMemory)
            {
                sb.AppendLine(Inv, $"  page 0x{p.Address:x8}: {Access(p)}");
            }
        }
    }

    /// <summary>"0-3,8-11" for a byte mask.</summary>
    public static string ByteRanges(ulong mask)
    {
        var parts = new List<string>();
        int b = 0;
        while (b < 64)
        {
            if ((mask >> b & 1) == 0)
            {
                b++;
                continue;
            }

            int start = b;
            while (b < 64 && (mask >> b & 1) != 0)
            {
                b++;
            }

            parts.Add(start == b - 1 ? start.ToString(Inv) : $"{start}-{b - 1}");
        }

        return string.Join(",", parts);
    }

    /// <summary>Everything, as one JSON object (documented in docs/timing.md).</summary>
    public static void WriteJson(RunStatistics s, Stream output)
    {
        using var j = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        j.WriteStartObject();
        j.WriteString("image", s.Image);
        j.WriteString("timing", s.Timing == TimingMode.Cycle ? "cycle" : "functional");
        j.WriteNumber("quantum", s.Quantum);
        j.WriteStartObject("stop");
        j.WriteString("reason", s.Result.Reason.ToString());
        j.WriteString("message", s.Result.Message);
        j.WriteNumber("guest_exit_status", s.Result.GuestExitStatus);
        j.WriteEndObject();
        j.WriteNumber("instructions", s.TotalInstructions);
        j.WriteNumber("cycles", s.Result.Cycles);
        j.WriteNumber("blocks_decoded", s.BlocksDecoded);
        j.WriteNumber("blocks_invalidated", s.BlocksInvalidated);
        j.WriteString("state_hash", $"{s.StateHash:x16}");
        if (s.Cache is { } cache)
        {
            j.WritePropertyName("cache_config");
            using var doc = JsonDocument.Parse(cache.ToJson());
            doc.WriteTo(j);
        }

        j.WriteStartArray("cpus");
        foreach (var c in s.Cpus)
        {
            j.WriteStartObject();
            j.WriteNumber("id", c.Id);
            j.WriteString("state", c.State);
            j.WriteNumber("instructions", c.Instructions);
            j.WriteNumber("cycles", c.Cycles);
            j.WriteNumber("ipc", Math.Round(c.Ipc, 4));
            j.WriteNumber("exceptions", c.Exceptions);
            j.WriteNumber("external_interrupts", c.ExternalInterrupts);
            j.WriteStartObject("interrupts_by_vector");
            foreach (var (vector, count) in c.InterruptsByVector)
            {
                j.WriteNumber($"0x{vector:x2}", count);
            }

            j.WriteEndObject();
            j.WriteNumber("page_walks", c.PageWalks);
            if (c.Timing is { } t)
            {
                j.WriteStartObject("caches");
                j.WriteNumber("l1i_hits", t.L1IHits);
                j.WriteNumber("l1i_misses", t.L1IMisses);
                j.WriteNumber("l1d_hits", t.L1DHits);
                j.WriteNumber("l1d_misses", t.L1DMisses);
                j.WriteNumber("l2_hits", t.L2Hits);
                j.WriteNumber("l2_misses", t.L2Misses);
                j.WriteNumber("invalidations_sent", t.InvalidationsSent);
                j.WriteNumber("invalidations_received", t.InvalidationsReceived);
                j.WriteNumber("transfers_received", t.TransfersReceived);
                j.WriteNumber("transfers_sent", t.TransfersSent);
                j.WriteNumber("upgrades", t.Upgrades);
                j.WriteNumber("write_backs", t.WriteBacks);
                j.WriteNumber("back_invalidations", t.BackInvalidations);
                j.WriteNumber("locked_accesses", t.LockedAccesses);
                j.WriteNumber("uncached_accesses", t.UncachedAccesses);
                j.WriteEndObject();
                j.WriteStartObject("cycle_breakdown");
                j.WriteNumber("base", t.BaseCycles);
                j.WriteNumber("memory", t.MemoryCycles);
                j.WriteNumber("coherence", t.CoherenceCycles);
                j.WriteNumber("locked", t.LockedCycles);
                j.WriteNumber("io", t.IoCycles);
                j.WriteNumber("halted", t.HaltedCycles);
                j.WriteNumber("penalties", t.PenaltyCycles);
                j.WriteEndObject();
            }

            j.WriteEndObject();
        }

        j.WriteEndArray();
        j.WriteStartArray("contended_lines");
        foreach (var l in s.Lines)
        {
            j.WriteStartObject();
            j.WriteString("address", $"0x{l.Address:x8}");
            j.WriteNumber("coherence_cycles", l.Total.Cycles);
            j.WriteNumber("events", l.Total.Events);
            j.WriteNumber("transfers", l.Total.TransfersReceived);
            j.WriteNumber("invalidations", l.Total.InvalidationsReceived);
            j.WriteNumber("upgrades", l.Total.Upgrades);
            j.WriteString("sharing", l.Sharing switch
            {
                SharingKind.FalseSharing => "false",
                SharingKind.TrueSharing => "true",
                _ => "read",
            });
            j.WriteStartArray("symbols");
            foreach (string name in l.Symbols)
            {
                j.WriteStringValue(name);
            }

            j.WriteEndArray();
            j.WriteStartArray("all_symbols");
            foreach (string name in l.AllSymbols)
            {
                j.WriteStringValue(name);
            }

            j.WriteEndArray();
            j.WriteStartArray("writers");
            foreach (var (cpu, bytes) in l.Writers)
            {
                j.WriteStartObject();
                j.WriteNumber("cpu", cpu);
                j.WriteString("bytes", ByteRanges(bytes));
                j.WriteEndObject();
            }

            j.WriteEndArray();
            j.WriteEndObject();
        }

        j.WriteEndArray();
        j.WriteStartArray("contended_symbols");
        foreach (var sym in s.Symbols)
        {
            j.WriteStartObject();
            j.WriteString("name", sym.Name);
            j.WriteNumber("coherence_cycles", sym.Cycles);
            j.WriteNumber("events", sym.Events);
            j.WriteNumber("lines", sym.Lines);
            j.WriteEndObject();
        }

        j.WriteEndArray();
        j.WriteStartObject("unmodelled");
        j.WriteStartObject("instructions");
        foreach (var (mnemonic, count) in s.Unimplemented)
        {
            j.WriteNumber(mnemonic, count);
        }

        j.WriteEndObject();
        j.WriteStartObject("io_ports");
        foreach (var p in s.UnclaimedPorts)
        {
            WriteAccess(j, $"0x{p.Address:x4}", p);
        }

        j.WriteEndObject();
        j.WriteStartObject("physical_addresses");
        foreach (var p in s.UnclaimedMemory)
        {
            WriteAccess(j, $"0x{p.Address:x8}", p);
        }

        j.WriteEndObject();
        j.WriteEndObject();
        j.WriteEndObject();
    }

    private static void WriteAccess(Utf8JsonWriter j, string name, UnmodelledAccess a)
    {
        j.WriteStartObject(name);
        j.WriteNumber("reads", a.Reads);
        j.WriteNumber("writes", a.Writes);
        j.WriteEndObject();
    }
}
