using System.Text.Json;
using Emulator.Cpu;
using Emulator.Interrupts;
using Emulator.Loading;
using Emulator.Platform;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Tracing;

/// <summary>
/// Records what every CPU does on the cycle axis as Chrome trace-event JSON (Perfetto and
/// chrome://tracing open it): one track per CPU with slices for the guest code it runs (named
/// by the function it was in when the scheduler gave it the slice; consecutive slices in the same
/// function are merged), halts, the wait for STARTUP, interrupts and exceptions delivered, IPIs
/// sent and received (with flow arrows), and in the cycle timing mode the coherence stalls of at
/// least <see cref="StallThreshold"/> cycles. Timestamps are the CPU's cycle clock: the file's
/// "ts" unit (nominally µs) is one cycle. It hooks the machine only through null-checked
/// delegates called per slice, per interrupt and per coherence transaction, never per instruction.
/// </summary>
public sealed class TimelineRecorder : IDisposable
{
    /// <summary>Coherence stalls shorter than this are left out (they are in run --stats).</summary>
    public const int DefaultStallThreshold = 20;

    private readonly Machine _m;
    private readonly Utf8JsonWriter _json;
    private readonly SymbolTable _symbols;
    private readonly PerCpuResolver _resolver;
    private readonly Slice[] _open;
    private readonly long[] _lastEnd;
    private readonly RunState[] _lastState;
    private readonly Stall[] _stalls;
    private long _flowId;

    public TimelineRecorder(Machine machine, Stream output, int stallThreshold = DefaultStallThreshold)
    {
        _m = machine;
        StallThreshold = stallThreshold;
        _symbols = machine.Image?.Symbols ?? SymbolTable.Empty;
        _resolver = new PerCpuResolver(_symbols, machine.Memory);
        _json = new Utf8JsonWriter(output);
        int n = machine.Cpus.Length;
        _open = new Slice[n];
        _lastEnd = new long[n];
        _lastState = new RunState[n];
        _stalls = new Stall[n];
        _json.WriteStartObject();
        _json.WriteString("displayTimeUnit", "ns");
        _json.WriteStartObject("otherData");
        _json.WriteString("time_unit", "1 ts unit = 1 CPU cycle");
        _json.WriteString("timing", machine.Config.Timing.ToString());
        _json.WriteNumber("cpus", n);
        _json.WriteEndObject();
        _json.WriteStartArray("traceEvents");
        Meta("process_name", -1, "machine");
        foreach (var c in machine.Cpus)
        {
            _lastState[c.Id] = c.State;
            _lastEnd[c.Id] = c.Cycles;
            Meta("thread_name", c.Id, $"CPU {c.Id}");
            Meta("thread_sort_index", c.Id, null, c.Id);
            c.InterruptDelivered = OnInterrupt;
        }

        machine.SliceRan = OnSlice;
        machine.Apics.IpiSent = OnIpi;
        if (machine.Caches is { } caches)
        {
            caches.CoherenceStall = OnStall;
        }
    }

    public int StallThreshold { get; }

    /// <summary>Events written so far (metadata included).</summary>
    public long Events { get; private set; }

    private void OnSlice(CpuCore cpu, long start, uint startPc)
    {
        int id = cpu.Id;
        long end = cpu.Cycles;

        // The time since this CPU's last run: asleep in HLT, or waiting for STARTUP.
        if (start > _lastEnd[id] && _lastState[id] is RunState.Halted or RunState.WaitForSipi)
        {
            Close(id);
            Complete(id, _lastState[id] == RunState.Halted ? "halt" : "wait for STARTUP", "idle", _lastEnd[id], start - _lastEnd[id], null);
        }

        if (end > start)
        {
            // Code outside every symbol (the real-mode trampoline, firmware) is one region, so its slices merge too.
            string name = _symbols.FindByAddress(startPc)?.Symbol.Name ?? "(no symbol)";
            ref Slice open = ref _open[id];
            if (open.Name == name && open.End == start)
            {
                open.End = end;
            }
            else
            {
                Close(id);
                open = new Slice(name, start, end);
            }
        }

        _lastEnd[id] = end;
        _lastState[id] = cpu.State;
    }

    private void OnInterrupt(CpuCore cpu, int vector, CpuCore.InterruptKind kind)
    {
        string name = kind switch
        {
            CpuCore.InterruptKind.Exception => $"exception {Vectors.Mnemonic(vector)}",
            CpuCore.InterruptKind.External => $"interrupt 0x{vector:x2}",
            _ => $"int 0x{vector:x2}",
        };
        Instant(cpu.Id, name, "interrupt", cpu.Cycles, ("vector", vector));
    }

    private void OnIpi(int from, ApicMessage message, int[] to)
    {
        long now = _m.Cpus[from].Cycles;
        string what = message.Mode switch
        {
            DeliveryMode.Init => "INIT",
            DeliveryMode.Startup => $"STARTUP page 0x{message.Vector:x2}",
            DeliveryMode.Nmi => "NMI",
            _ => $"vector 0x{message.Vector:x2}",
        };
        Instant(from, $"IPI sent: {what} to CPU {string.Join(",", to)}", "ipi", now, ("vector", message.Vector));
        foreach (int t in to)
        {
            // Delivery is immediate on the APIC bus: the receiver's mark is at the sender's time.
            Instant(t, $"IPI received: {what} from CPU {from}", "ipi", now, ("vector", message.Vector));
            long flow = ++_flowId;
            Flow("s", from, now, flow);
            Flow("f", t, now, flow);
        }
    }

    private void OnStall(int cpu, uint line, int cycles)
    {
        if (cycles < StallThreshold)
        {
            return;
        }

        // A contended line stalls a loop on every iteration: stalls on the same line less than
        // StallMergeGap cycles apart make one slice (with their count and total), not thousands.
        long now = _m.Cpus[cpu].Cycles;
        ref Stall open = ref _stalls[cpu];
        if (open.Count > 0 && open.Line == line && now - open.End <= StallMergeGap)
        {
            open.End = Math.Max(open.End, now + cycles);
            open.Count++;
            open.Cycles += cycles;
            return;
        }

        CloseStall(cpu);
        open = new Stall { Line = line, Start = now, End = now + cycles, Count = 1, Cycles = cycles };
    }

    /// <summary>Stalls on one line closer together than this (in cycles) are merged into one slice.</summary>
    public const long StallMergeGap = 1000;

    private void CloseStall(int cpu)
    {
        ref Stall s = ref _stalls[cpu];
        if (s.Count > 0)
        {
            string name = s.Count == 1 ? "coherence stall" : $"coherence stalls x{s.Count}";
            Complete(cpu, name, "coherence", s.Start, s.End - s.Start, $"line 0x{s.Line:x8} ({_resolver.Describe(s.Line)}): {s.Count} stall{(s.Count == 1 ? string.Empty : "s")} of at least {StallThreshold} cycles, {s.Cycles} cycles in all");
            s = default;
        }
    }

    /// <summary>Closes the open slices and idle periods at the machine's end and finishes the JSON document.</summary>
    public void Finish()
    {
        long endOfRun = _m.Cpus.Max(c => c.Cycles);
        foreach (var c in _m.Cpus)
        {
            Close(c.Id);
            CloseStall(c.Id);
            if (_lastState[c.Id] is RunState.Halted or RunState.WaitForSipi && endOfRun > _lastEnd[c.Id])
            {
                Complete(c.Id, _lastState[c.Id] == RunState.Halted ? "halt" : "wait for STARTUP", "idle", _lastEnd[c.Id], endOfRun - _lastEnd[c.Id], null);
            }

            c.InterruptDelivered = null;
        }

        _m.SliceRan = null;
        _m.Apics.IpiSent = null;
        if (_m.Caches is { } caches)
        {
            caches.CoherenceStall = null;
        }

        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
    }

    public void Dispose() => _json.Dispose();

    private void Close(int cpu)
    {
        ref Slice open = ref _open[cpu];
        if (open.Name is not null)
        {
            Complete(cpu, open.Name, "run", open.Start, open.End - open.Start, null);
            open = default;
        }
    }

    private void Begin(string ph, int tid, long ts)
    {
        _json.WriteStartObject();
        _json.WriteString("ph", ph);
        _json.WriteNumber("pid", 1);
        _json.WriteNumber("tid", tid);
        _json.WriteNumber("ts", ts);
        Events++;
    }

    private void Complete(int cpu, string name, string category, long ts, long dur, string? detail)
    {
        Begin("X", cpu, ts);
        _json.WriteNumber("dur", dur);
        _json.WriteString("name", name);
        _json.WriteString("cat", category);
        if (detail is not null)
        {
            _json.WriteStartObject("args");
            _json.WriteString("detail", detail);
            _json.WriteEndObject();
        }

        _json.WriteEndObject();
    }

    private void Instant(int cpu, string name, string category, long ts, (string Key, int Value) arg)
    {
        Begin("i", cpu, ts);
        _json.WriteString("s", "t");
        _json.WriteString("name", name);
        _json.WriteString("cat", category);
        _json.WriteStartObject("args");
        _json.WriteNumber(arg.Key, arg.Value);
        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    private void Flow(string ph, int cpu, long ts, long id)
    {
        Begin(ph, cpu, ts);
        _json.WriteString("name", "IPI");
        _json.WriteString("cat", "ipi");
        _json.WriteNumber("id", id);
        if (ph == "f")
        {
            _json.WriteString("bp", "e");
        }

        _json.WriteEndObject();
    }

    private void Meta(string name, int tid, string? value, int? sortIndex = null)
    {
        _json.WriteStartObject();
        _json.WriteString("ph", "M");
        _json.WriteNumber("pid", 1);
        if (tid >= 0)
        {
            _json.WriteNumber("tid", tid);
        }

        _json.WriteString("name", name);
        _json.WriteStartObject("args");
        if (value is not null)
        {
            _json.WriteString("name", value);
        }

        if (sortIndex is int s)
        {
            _json.WriteNumber("sort_index", s);
        }

        _json.WriteEndObject();
        _json.WriteEndObject();
        Events++;
    }

    private struct Stall
    {
        public uint Line;
        public long Start;
        public long End;
        public int Count;
        public long Cycles;
    }

    private struct Slice(string name, long start, long end)
    {
        public string? Name = name;
        public long Start = start;
        public long End = end;
    }
}
