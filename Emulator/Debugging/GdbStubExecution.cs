using Emulator.Cpu.Segmentation;
using Emulator.Platform;
using Emulator.Tracing;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Debugging;

/// <summary>Breakpoints, watchpoints, continue and per-thread stepping.</summary>
public sealed partial class GdbStub
{
    /// <summary>What a resume packet asks of one thread.</summary>
    public enum ResumeAction
    {
        /// <summary>Not resumed by gdb; it still runs when the scheduler picks it (the machine stays deterministic), but stops no one.</summary>
        None,
        Continue,
        Step,
    }

    private sealed record Watchpoint(int Type, uint Address, uint Length);

    /// <summary>Instructions run in one go when no breakpoint, watchpoint or step needs looking at each instruction.</summary>
    private const int Chunk = 20_000;

    /// <summary>Linear address -> Z type (0 software, 1 hardware).</summary>
    private readonly Dictionary<uint, int> _breakpoints = [];
    private readonly List<Watchpoint> _watchpoints = [];
    private readonly AccessExplanation?[] _lastAccess = new AccessExplanation?[64];
    private int _current;
    private int _stepThread = -1;
    private int _lastStopCpu = -1;
    private string? _exitReply;
    private PerCpuResolver? _resolver;

    private PerCpuResolver? Resolver =>
        _resolver ??= M.Image is { } image ? new PerCpuResolver(image.Symbols, M.Memory) : null;

    private static uint Pc(CpuCore cpu) => cpu.Seg(SegReg.CS).Base + cpu.Eip;

    private string Breakpoint(bool insert, string args)
    {
        string[] parts = args.Split(',');
        if (parts.Length < 3 || parts[0].Length != 1 || parts[0][0] is < '0' or > '4')
        {
            return string.Empty;
        }

        int type = parts[0][0] - '0';
        uint addr = ParseHex(parts[1]);
        uint kind = ParseHex(parts[2].Split(';')[0]);
        if (type <= 1)
        {
            if (insert)
            {
                _breakpoints[addr] = type;
            }
            else
            {
                _breakpoints.Remove(addr);
            }

            return "OK";
        }

        if (kind == 0)
        {
            return "E01";
        }

        var w = new Watchpoint(type, addr, kind);
        if (insert)
        {
            _watchpoints.Add(w);
        }
        else
        {
            _watchpoints.Remove(w);
        }

        return "OK";
    }

    private ResumeAction[]? ParseVCont(string args)
    {
        var actions = new ResumeAction[M.Cpus.Length];
        var done = new bool[M.Cpus.Length];
        foreach (string part in args.Split(';'))
        {
            string[] ap = part.Split(':');
            ResumeAction action = ap[0].Length > 0 && ap[0][0] is 's' or 'S' ? ResumeAction.Step
                : ap[0].Length > 0 && ap[0][0] is 'c' or 'C' ? ResumeAction.Continue
                : ap[0] == "t" ? ResumeAction.None
                : (ResumeAction)(-1);
            if ((int)action < 0 || ap.Length > 2)
            {
                return null;
            }

            int? t = ap.Length == 2 ? ParseThread(ap[1]) : -1;
            if (t is null)
            {
                return null;
            }

            // The leftmost action that applies to a thread wins.
            for (int i = 0; i < actions.Length; i++)
            {
                if ((t == -1 || t == i) && !done[i])
                {
                    actions[i] = action;
                    done[i] = true;
                }
            }
        }

        return actions;
    }

    private string StopReply(int cpu, string signal, string reason)
    {
        _current = cpu;
        _lastStopCpu = cpu;
        return $"T{signal}thread:{cpu + 1:x2};{reason}";
    }

    /// <summary>Runs the machine as the actions ask until something stops it; returns the stop reply.</summary>
    private string Resume(ResumeAction[] actions)
    {
        if (_exitReply is not null)
        {
            return _exitReply;
        }

        int stepCpu = Array.IndexOf(actions, ResumeAction.Step);
        long stepFrom = stepCpu >= 0 ? M.Cpus[stepCpu].Instructions : 0;
        uint stepEip = stepCpu >= 0 ? M.Cpus[stepCpu].Eip : 0;

        // The thread gdb last stopped resumes past a breakpoint at its own PC (as the RF flag does).
        int skipCpu = _lastStopCpu;
        uint skipPc = skipCpu >= 0 ? Pc(M.Cpus[skipCpu]) : 0;
        long sincePoll = 0;
        while (true)
        {
            if (_breakpoints.Count == 0 && _watchpoints.Count == 0 && stepCpu < 0)
            {
                var r = M.Advance(Chunk);
                if (r is not null)
                {
                    return Stopped(r);
                }

                if (PollInterrupt())
                {
                    return Interrupted();
                }

                continue;
            }

            CpuCore? cpu = M.PrepareStep();
            if (cpu is null)
            {
                var r = M.Advance(1);
                if (r is not null)
                {
                    return Stopped(r);
                }

                continue;
            }

            int id = cpu.Id;
            bool watched = actions[id] != ResumeAction.None;
            uint pc = Pc(cpu);
            if (id == skipCpu && pc != skipPc)
            {
                skipCpu = -1;
            }

            if (watched && id != skipCpu && _breakpoints.TryGetValue(pc, out int bpType))
            {
                return StopReply(id, "05", bpType == 0 ? "swbreak:;" : "hwbreak:;");
            }

            string? watchHit = null;
            if (watched && (_watchpoints.Count > 0 || id == stepCpu))
            {
                AccessExplanation? access = InstructionView.TryDecode(cpu, out var ins) ? AccessExplainer.Explain(cpu, ins, Resolver) : null;
                if (access is not null && id < _lastAccess.Length)
                {
                    _lastAccess[id] = access;
                }

                watchHit = access is null ? null : WatchHit(access);
            }

            long before = cpu.Instructions;
            uint eipBefore = cpu.Eip;
            var result = M.Advance(1);
            if (result is not null)
            {
                return Stopped(result);
            }

            bool retired = cpu.Instructions != before || cpu.Eip != eipBefore;
            if (id == skipCpu && retired)
            {
                skipCpu = -1;
            }

            if (watchHit is not null && cpu.Instructions != before)
            {
                return StopReply(id, "05", watchHit);
            }

            if (id == stepCpu && (M.Cpus[stepCpu].Instructions != stepFrom || M.Cpus[stepCpu].Eip != stepEip))
            {
                return StopReply(id, "05", string.Empty);
            }

            if (++sincePoll >= PollInterval)
            {
                sincePoll = 0;
                if (PollInterrupt())
                {
                    return Interrupted();
                }
            }
        }
    }

    private string? WatchHit(AccessExplanation access)
    {
        foreach (var w in _watchpoints)
        {
            bool overlaps = access.Linear < w.Address + w.Length && w.Address < access.Linear + (uint)access.Size;
            if (!overlaps)
            {
                continue;
            }

            switch (w.Type)
            {
                case 2 when access.Write:
                    return $"watch:{w.Address:x};";
                case 3 when !access.Write:
                    return $"rwatch:{w.Address:x};";
                case 4:
                    return $"awatch:{w.Address:x};";
            }
        }

        return null;
    }

    private string Interrupted() => StopReply(M.CurrentCpu?.Id ?? _current, "02", string.Empty);

    private string Stopped(RunResult r)
    {
        switch (r.Reason)
        {
            case StopReason.GuestExit:
                _exitReply = $"W{r.GuestExitStatus & 0xFF:x2}";
                return _exitReply;
            case StopReason.Halted:
            case StopReason.ResetRequest:
                // A reset request the machine is set to stop on ends the run like the CLI's status 0.
                _exitReply = "W00";
                return _exitReply;
            case StopReason.ResetLimit:
                _exitReply = $"W{Cli.ExitCodes.ResetLimit:x2}";
                return _exitReply;
            case StopReason.InstructionLimit:
            case StopReason.CycleLimit:
                _exitReply = $"W{Cli.ExitCodes.LimitReached:x2}";
                return _exitReply;
            case StopReason.TripleFault:
                {
                    // Stay attached so the registers of the dead CPU can be looked at.
                    var dead = M.Cpus.FirstOrDefault(c => c.State == Emulator.Cpu.RunState.Shutdown);
                    return StopReply(dead?.Id ?? _current, "0b", string.Empty);
                }

            default:
                return Interrupted();
        }
    }
}
