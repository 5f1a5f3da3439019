using Emulator.Cpu.Segmentation;
using Emulator.Platform;
using Emulator.Tracing;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Debugging;

/// <summary>Breakpoints, watchpoints, continue and per-thread stepping.</summary>
public sealed partial class GdbStub
{
    private int _current;
    private int _stepThread = -1;
    private string? _exitReply;
    private ExecutionControl? _control;

    private ExecutionControl Control => _control ??= new ExecutionControl(M);

    private PerCpuResolver? Resolver => Control.Resolver;

    private static uint Pc(CpuCore cpu) => ExecutionControl.Pc(cpu);

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
                if (!Control.Breakpoints.Any(b => b.Address == addr && b.Tag == type))
                {
                    Control.AddBreakpoint(addr, null, $"Z{type}", type);
                }
            }
            else
            {
                Control.RemoveBreakpoints(b => b.Address == addr && b.Tag == type);
            }

            return "OK";
        }

        if (kind == 0)
        {
            return "E01";
        }

        if (insert)
        {
            Control.AddWatchpoint(WatchSpace.Linear, addr, kind, (WatchKind)type, $"Z{type}");
        }
        else
        {
            Control.RemoveWatchpoints(w => w.Start == addr && w.Length == kind && (int)w.Kind == type);
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
        Control.LastStopCpu = cpu;
        return $"T{signal}thread:{cpu + 1:x2};{reason}";
    }

    /// <summary>Runs the machine as the actions ask until something stops it; returns the stop reply.</summary>
    private string Resume(ResumeAction[] actions)
    {
        if (_exitReply is not null)
        {
            return _exitReply;
        }

        var stop = Control.Resume(actions, PollInterrupt, PollInterval);
        return stop.Kind switch
        {
            DebugStopKind.Breakpoint => StopReply(stop.Cpu, "05", stop.Breakpoint!.Tag == 0 ? "swbreak:;" : "hwbreak:;"),
            DebugStopKind.Watchpoint => StopReply(stop.Cpu, "05", WatchReason(stop.Watchpoint!)),
            DebugStopKind.Stepped => StopReply(stop.Cpu, "05", string.Empty),
            DebugStopKind.Interrupted => Interrupted(),
            _ => Stopped(stop.Result!),
        };
    }

    private static string WatchReason(Watchpoint w) => w.Kind switch
    {
        WatchKind.Write => $"watch:{w.Start:x};",
        WatchKind.Read => $"rwatch:{w.Start:x};",
        _ => $"awatch:{w.Start:x};",
    };

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
            case StopReason.ResetLimit:
            case StopReason.InstructionLimit:
            case StopReason.CycleLimit:
                // The status `run` would exit with (a reset request the machine stops on is 0).
                _exitReply = $"W{RunExitStatus.Of(r):x2}";
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
