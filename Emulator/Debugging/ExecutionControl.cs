using Emulator.Cpu.Segmentation;
using Emulator.Platform;
using Emulator.Tracing;
using Iced.Intel;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Debugging;

/// <summary>What a resume asks of one CPU.</summary>
public enum ResumeAction
{
    /// <summary>Not resumed by the debugger; it still runs when the scheduler picks it (the machine stays deterministic), but its breakpoints and watchpoints stop no one.</summary>
    None,
    Continue,

    /// <summary>Stop once this CPU has retired one instruction (or taken an interrupt or exception).</summary>
    Step,
}

/// <summary>What a watchpoint stops on (the values are gdb's Z packet types).</summary>
public enum WatchKind
{
    Write = 2,
    Read = 3,
    Access = 4,
}

/// <summary>Which address a watchpoint compares: the access's linear address or its physical one.</summary>
public enum WatchSpace
{
    Linear,
    Physical,
}

/// <summary>A code breakpoint at a linear address, for every CPU or only <see cref="Cpu"/>; <see cref="Tag"/> is the client's own (gdb's Z type).</summary>
public sealed record Breakpoint(int Id, uint Address, int? Cpu, string Label, int Tag = 0);

/// <summary>A data watchpoint over [Start, Start + Length).</summary>
public sealed record Watchpoint(int Id, WatchSpace Space, uint Start, uint Length, WatchKind Kind, string Label);

public enum DebugStopKind
{
    Breakpoint,
    Watchpoint,

    /// <summary>A stepping CPU retired its instruction (or an interrupt or exception moved it).</summary>
    Stepped,

    /// <summary>The host asked to stop (Ctrl-C).</summary>
    Interrupted,

    /// <summary>The machine stopped on its own (<see cref="DebugStop.Result"/> says why).</summary>
    MachineStopped,
}

/// <summary>Why a resume returned, and on which CPU.</summary>
public sealed record DebugStop(DebugStopKind Kind, int Cpu)
{
    public Breakpoint? Breakpoint { get; init; }

    public Watchpoint? Watchpoint { get; init; }

    /// <summary>The access that hit the watchpoint.</summary>
    public AccessExplanation? Access { get; init; }

    public RunResult? Result { get; init; }
}

/// <summary>One instruction a stepping or watched CPU ran: what it was and how its memory operand resolved.</summary>
public sealed record StepRecord(int Cpu, long Cycle, ushort Cs, uint Eip, Instruction Instruction, bool Decoded, AccessExplanation? Access, bool Retired, int FaultVector);

/// <summary>
/// Breakpoints, watchpoints, stepping and continuing of a whole machine: the engine under the
/// gdb stub and the `debug` command. It keeps the machine deterministic: a "step" of one CPU
/// runs the scheduler one instruction at a time (other CPUs run in their turn, exactly as in a
/// plain run) until that CPU has retired one. Breakpoints are the code cache's (checked at block
/// starts, nothing written into guest memory), so a continue with only breakpoints runs at full
/// speed; watchpoints and steps explain each instruction of the CPUs concerned before it runs.
/// </summary>
public sealed class ExecutionControl
{
    /// <summary>Instructions run in one go when no watchpoint or step needs looking at each instruction.</summary>
    public const int Chunk = 20_000;

    private readonly Machine _m;
    private readonly List<Breakpoint> _breakpoints = [];
    private readonly List<Watchpoint> _watchpoints = [];
    private readonly AccessExplanation?[] _lastAccess;
    private readonly StepRecord?[] _lastStep;
    private PerCpuResolver? _resolver;
    private int _nextId = 1;

    public ExecutionControl(Machine machine)
    {
        _m = machine;
        _lastAccess = new AccessExplanation?[machine.Cpus.Length];
        _lastStep = new StepRecord?[machine.Cpus.Length];
    }

    public Machine Machine => _m;

    /// <summary>Names addresses through the image's symbols and the guest's __per_cpu_offset (null before an image is loaded).</summary>
    public PerCpuResolver? Resolver =>
        _resolver ??= _m.Image is { } image ? new PerCpuResolver(image.Symbols, _m.Memory) : null;

    public IReadOnlyList<Breakpoint> Breakpoints => _breakpoints;

    public IReadOnlyList<Watchpoint> Watchpoints => _watchpoints;

    /// <summary>The CPU the last stop was on (it resumes past a breakpoint at its own PC), or -1.</summary>
    public int LastStopCpu { get; set; } = -1;

    /// <summary>Set once the machine stopped for good (exit, halt, limit); resuming then returns it again.</summary>
    public RunResult? Finished { get; private set; }

    /// <summary>The last memory access of a CPU seen while stepping or watching it (value filled in after a write).</summary>
    public AccessExplanation? LastAccess(int cpu) => cpu >= 0 && cpu < _lastAccess.Length ? _lastAccess[cpu] : null;

    /// <summary>The last instruction a CPU ran while stepped or watched.</summary>
    public StepRecord? LastStep(int cpu) => cpu >= 0 && cpu < _lastStep.Length ? _lastStep[cpu] : null;

    public static uint Pc(CpuCore cpu) => cpu.Seg(SegReg.CS).Base + cpu.Eip;

    public Breakpoint AddBreakpoint(uint address, int? cpu, string label, int tag = 0)
    {
        var b = new Breakpoint(_nextId++, address, cpu, label, tag);
        _breakpoints.Add(b);
        _m.Code.SetBreakpoint(address, true);
        return b;
    }

    /// <summary>Removes the breakpoints that match; the code cache's breakpoint goes when none is left at its address.</summary>
    public int RemoveBreakpoints(Predicate<Breakpoint> match)
    {
        var gone = _breakpoints.FindAll(match);
        _breakpoints.RemoveAll(match);
        foreach (var b in gone)
        {
            if (!_breakpoints.Exists(x => x.Address == b.Address))
            {
                _m.Code.SetBreakpoint(b.Address, false);
            }
        }

        return gone.Count;
    }

    public Watchpoint AddWatchpoint(WatchSpace space, uint start, uint length, WatchKind kind, string label)
    {
        var w = new Watchpoint(_nextId++, space, start, Math.Max(length, 1), kind, label);
        _watchpoints.Add(w);
        return w;
    }

    public int RemoveWatchpoints(Predicate<Watchpoint> match)
    {
        _watchedBefore.Clear(); // snapshots are taken afresh before the next step
        return _watchpoints.RemoveAll(match);
    }

    /// <summary>
    /// Runs the machine as <paramref name="actions"/> (one per CPU) ask until a breakpoint or
    /// watchpoint of a resumed CPU, a stepping CPU's instruction, the machine's own stop, or
    /// <paramref name="interrupt"/> (polled every <paramref name="pollInterval"/> instructions) ends it.
    /// </summary>
    public DebugStop Resume(ReadOnlySpan<ResumeAction> actions, Func<bool>? interrupt = null, int pollInterval = 4096)
    {
        if (Finished is { } done)
        {
            return new DebugStop(DebugStopKind.MachineStopped, -1) { Result = done };
        }

        var cpus = _m.Cpus;
        bool anyStep = false;
        Span<long> stepFrom = stackalloc long[cpus.Length];
        Span<uint> stepEip = stackalloc uint[cpus.Length];
        for (int i = 0; i < cpus.Length; i++)
        {
            if (actions[i] == ResumeAction.Step)
            {
                anyStep = true;
                stepFrom[i] = cpus[i].Instructions;
                stepEip[i] = cpus[i].Eip;
            }
        }

        // The CPU the last stop was on resumes past a breakpoint at its own PC (as the RF flag does).
        int skipCpu = LastStopCpu;
        uint skipPc = skipCpu >= 0 ? Pc(cpus[skipCpu]) : 0;
        long skipFrom = skipCpu >= 0 ? cpus[skipCpu].Instructions : 0;
        long sincePoll = 0;
        while (true)
        {
            if (_watchpoints.Count == 0 && !anyStep)
            {
                var r = _m.Advance(Chunk);
                if (r is not null)
                {
                    if (BreakpointStop(r, actions, skipCpu, skipPc, skipFrom) is { } stop)
                    {
                        return stop;
                    }

                    if (r.Reason != StopReason.Breakpoint)
                    {
                        return MachineStopped(r);
                    }
                }

                if (interrupt?.Invoke() == true)
                {
                    return Interrupted();
                }

                continue;
            }

            CpuCore? cpu = _m.PrepareStep();
            if (cpu is null)
            {
                var r = _m.Advance(1);
                if (r is not null)
                {
                    return BreakpointStop(r, actions, skipCpu, skipPc, skipFrom) ?? MachineStopped(r);
                }

                continue;
            }

            int id = cpu.Id;
            bool resumed = actions[id] != ResumeAction.None;
            bool stepping = actions[id] == ResumeAction.Step;
            StepRecord? record = null;
            long[]? exceptionsBefore = null;
            AccessExplanation? access = null;
            Watchpoint? hit = null;
            bool snapped = false;
            if (stepping || (resumed && _watchpoints.Count > 0))
            {
                bool decoded = InstructionView.TryDecode(cpu, out var ins);
                access = decoded ? AccessExplainer.Explain(cpu, ins, Resolver) : null;
                hit = access is null ? null : WatchHit(access);
                if (hit is null && _watchpoints.Count > 0)
                {
                    SnapshotWatchedBytes(cpu);
                    snapped = true;
                }

                record = new StepRecord(id, cpu.Cycles, cpu.Seg(SegReg.CS).Selector, cpu.Eip, ins, decoded, access, false, -1);
                exceptionsBefore = (long[])cpu.ExceptionCounts.Clone();
            }

            long before = cpu.Instructions;
            uint eipBefore = cpu.Eip;
            var result = _m.Advance(1);
            bool retired = cpu.Instructions != before;
            if (record is not null)
            {
                if (retired && access is { Write: true })
                {
                    access.Value = AccessExplainer.ReadValue(cpu, access.Linear, access.Size);
                }

                if (retired && access is not null)
                {
                    _lastAccess[id] = access;
                }

                _lastStep[id] = record with { Retired = retired, FaultVector = retired ? -1 : ChangedVector(exceptionsBefore!, cpu.ExceptionCounts) };
            }

            if (result is not null)
            {
                if (BreakpointStop(result, actions, skipCpu, skipPc, skipFrom) is { } stop)
                {
                    return stop;
                }

                if (result.Reason != StopReason.Breakpoint)
                {
                    return MachineStopped(result);
                }
            }

            // Writes the instruction's explicit operand does not show (pushes, calls, string
            // stores, an interrupt's frame, a task switch) are caught by the value they change.
            if (hit is null && retired && snapped)
            {
                hit = ChangedWatchpoint(cpu);
            }

            if (hit is not null && retired)
            {
                return Stop(new DebugStop(DebugStopKind.Watchpoint, id) { Watchpoint = hit, Access = access });
            }

            if (stepping && (cpus[id].Instructions != stepFrom[id] || cpus[id].Eip != stepEip[id]))
            {
                return Stop(new DebugStop(DebugStopKind.Stepped, id));
            }

            if (interrupt is not null && ++sincePoll >= pollInterval)
            {
                sincePoll = 0;
                if (interrupt())
                {
                    return Interrupted();
                }
            }
        }
    }

    /// <summary>A breakpoint result that counts as a stop (a resumed CPU, the breakpoint's CPU, not the one resuming past it), or null.</summary>
    private DebugStop? BreakpointStop(RunResult r, ReadOnlySpan<ResumeAction> actions, int skipCpu, uint skipPc, long skipFrom)
    {
        if (r.Reason != StopReason.Breakpoint || r.Cpu < 0)
        {
            return null;
        }

        var cpu = _m.Cpus[r.Cpu];
        uint pc = Pc(cpu);
        if (actions[r.Cpu] == ResumeAction.None || (r.Cpu == skipCpu && pc == skipPc && cpu.Instructions == skipFrom))
        {
            return null;
        }

        var b = _breakpoints.Find(x => x.Address == pc && (x.Cpu is null || x.Cpu == r.Cpu));
        return b is null ? null : Stop(new DebugStop(DebugStopKind.Breakpoint, r.Cpu) { Breakpoint = b });
    }

    private DebugStop Stop(DebugStop stop)
    {
        LastStopCpu = stop.Cpu;
        return stop;
    }

    private DebugStop Interrupted() => Stop(new DebugStop(DebugStopKind.Interrupted, _m.CurrentCpu?.Id ?? Math.Max(LastStopCpu, 0)));

    private DebugStop MachineStopped(RunResult r)
    {
        int cpu = r.Reason == StopReason.TripleFault
            ? Array.FindIndex(_m.Cpus, c => c.State == Emulator.Cpu.RunState.Shutdown)
            : -1;
        if (r.Reason is not (StopReason.TripleFault or StopReason.HostRequest))
        {
            Finished = r;
        }

        if (r.Reason == StopReason.HostRequest)
        {
            return Interrupted();
        }

        return new DebugStop(DebugStopKind.MachineStopped, cpu) { Result = r };
    }

    // The watched bytes before a step, one buffer per write/access watchpoint (reused: the
    // watch loop steps every instruction); null where the range was unreadable.
    private readonly Dictionary<int, byte[]?> _watchedBefore = [];
    private readonly byte[] _watchedNow = new byte[MaxValueWatch];

    /// <summary>Longest range whose value is compared around each step (larger ranges are checked on explicit operands only).</summary>
    public const uint MaxValueWatch = 4096;

    private void SnapshotWatchedBytes(CpuCore cpu)
    {
        foreach (var w in _watchpoints)
        {
            if (w.Kind == WatchKind.Read || w.Length > MaxValueWatch)
            {
                continue;
            }

            if (!_watchedBefore.TryGetValue(w.Id, out byte[]? buffer) || buffer is null)
            {
                buffer = new byte[w.Length];
            }

            _watchedBefore[w.Id] = ReadWatched(cpu, w, buffer) ? buffer : null;
        }
    }

    private Watchpoint? ChangedWatchpoint(CpuCore cpu)
    {
        foreach (var w in _watchpoints)
        {
            if (w.Kind == WatchKind.Read || w.Length > MaxValueWatch ||
                !_watchedBefore.TryGetValue(w.Id, out byte[]? before) || before is null)
            {
                continue;
            }

            var current = _watchedNow.AsSpan(0, (int)w.Length);
            if (ReadWatched(cpu, w, current) && !current.SequenceEqual(before))
            {
                return w;
            }
        }

        return null;
    }

    private bool ReadWatched(CpuCore cpu, Watchpoint w, Span<byte> into)
    {
        if (w.Space == WatchSpace.Linear)
        {
            return cpu.DebugRead(w.Start, into);
        }

        if ((ulong)w.Start + w.Length > _m.Memory.Size)
        {
            return false;
        }

        _m.Memory.Read(w.Start, into);
        return true;
    }

    private Watchpoint? WatchHit(AccessExplanation access)
    {
        foreach (var w in _watchpoints)
        {
            uint? at = w.Space == WatchSpace.Linear ? access.Linear : access.Physical;
            if (at is not uint a || !(a < w.Start + w.Length && w.Start < a + (uint)access.Size))
            {
                continue;
            }

            if (w.Kind == WatchKind.Access || (w.Kind == WatchKind.Write) == access.Write)
            {
                return w;
            }
        }

        return null;
    }

    private static int ChangedVector(long[] before, long[] after)
    {
        for (int i = 0; i < before.Length; i++)
        {
            if (after[i] != before[i])
            {
                return i;
            }
        }

        return -1;
    }
}
