using System.Globalization;
using System.Text;
using Emulator.Cpu.Segmentation;
using Emulator.Loading;
using Emulator.Platform;
using Emulator.Tracing;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Debugging;

/// <summary>
/// The command interpreter of the interactive `debug` command: one line in, text out. It drives
/// the machine through <see cref="ExecutionControl"/> (the gdb stub's engine) and shows state
/// through <see cref="StateViews"/> and the <see cref="AccessExplainer"/> chain. A bad command
/// prints one "error:" line and the session goes on.
/// </summary>
public sealed class DebugShell
{
    private readonly Machine _m;
    private readonly TextWriter _out;
    private readonly ExecutionControl _control;
    private readonly InstructionView _view;
    private readonly SymbolTable _symbols;
    private int _cpu;

    public DebugShell(Machine machine, TextWriter output)
    {
        _m = machine;
        _out = output;
        _control = new ExecutionControl(machine);
        _symbols = machine.Image?.Symbols ?? SymbolTable.Empty;
        _view = new InstructionView(_symbols);
    }

    /// <summary>Polled while the machine runs; true stops it (Ctrl-C).</summary>
    public Func<bool>? Interrupt { get; set; }

    /// <summary>The CPU commands apply to when they name none (the one the last stop was on).</summary>
    public int SelectedCpu => _cpu;

    public ExecutionControl Control => _control;

    public const string HelpText = """
        commands (ADDR is a symbol, symbol+0xN or a hex address; C a CPU number):
          step [N] [cpu C|all]      run until CPU C (default: the selected one) retires N instructions, printing each
                                    (all: the next N instructions of any CPU, in the scheduler's order)
          continue                  run every CPU until a breakpoint, a watchpoint or the end of the run (Ctrl-C stops)
          break ADDR [cpu C]        stop when a CPU (or only CPU C) is about to run ADDR
          watch linear|physical ADDR[-END] [write|read|access]
                                    stop after an instruction that accesses [ADDR, END] (default: writes, 4 bytes)
          watch percpu VAR cpu C [write|read|access]
                                    watch CPU C's copy of VAR (&VAR + __per_cpu_offset[C]), accessed by any CPU
          delete [ID]               delete one breakpoint or watchpoint (default: all)
          info cpus                 every CPU: state, clock, CS:EIP, %fs base
          info breakpoints          breakpoints and watchpoints
          cpu C                     select CPU C
          regs [cpu C]              registers with the segment registers' hidden descriptor caches
          gdt [cpu C] | gdt diff    a CPU's GDT; or every CPU's side by side, differing entries marked *
          idt [cpu C]               the IDT's present gates
          tss [cpu C]               the task register and its TSS
          x/N linear|physical ADDR [cpu C]
                                    N 32-bit words (linear: through CPU C's page tables)
          percpu VAR                VAR's value on every CPU (&VAR + __per_cpu_offset[cpu])
          explain [cpu C]           how the next instruction's memory operand resolves, and the last access seen
          help                      this list
          quit                      end the session

        """;

    /// <summary>Prints where every CPU stands (the session's first words).</summary>
    public void Start()
    {
        _out.WriteLine($"debug: {_m.Cpus.Length} CPU{(_m.Cpus.Length == 1 ? string.Empty : "s")}, {_m.Config.Timing} timing, stopped before the first instruction; 'help' lists the commands");
        _out.WriteLine(Where(_m.Cpus[0]));
    }

    /// <summary>Runs one command line; false when it asks to end the session.</summary>
    public bool Execute(string line)
    {
        string[] w = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (w.Length == 0 || w[0].StartsWith('#'))
        {
            return true;
        }

        try
        {
            return Dispatch(w);
        }
        catch (DebugCommandException e)
        {
            _out.WriteLine($"error: {e.Message}");
        }

        return true;
    }

    private bool Dispatch(string[] w)
    {
        string cmd = w[0].ToLowerInvariant();
        if (cmd.StartsWith("x/", StringComparison.Ordinal) || cmd == "x")
        {
            Examine(w);
            return true;
        }

        switch (cmd)
        {
            case "quit" or "q" or "exit":
                return false;
            case "help" or "h" or "?":
                _out.Write(HelpText);
                break;
            case "step" or "s" or "si" or "stepi":
                Step(w);
                break;
            case "continue" or "c" or "cont":
                NoMoreArgs(w, 1);
                Continue();
                break;
            case "break" or "b":
                Break(w);
                break;
            case "delete" or "d":
                Delete(w);
                break;
            case "watch":
                Watch(w);
                break;
            case "info" when w.Length == 2 && w[1] is "cpus" or "threads":
                InfoCpus();
                break;
            case "info" when w.Length == 2 && w[1] is "breakpoints" or "break" or "watchpoints":
                InfoBreakpoints();
                break;
            case "cpu" when w.Length == 2:
                _cpu = ParseCpu(w[1]);
                _out.WriteLine(Where(_m.Cpus[_cpu]));
                break;
            case "regs" or "registers":
                _out.Write(StateViews.FormatRegisters(CpuArg(w, 1), _symbols));
                break;
            case "gdt" when w.Length == 2 && w[1] == "diff":
                _out.Write(StateViews.FormatGdtDiff(_m.Cpus, _control.Resolver));
                break;
            case "gdt":
                Gdt(CpuArg(w, 1));
                break;
            case "idt":
                _out.Write(StateViews.FormatIdt(CpuArg(w, 1), _symbols));
                break;
            case "tss":
                _out.Write(StateViews.FormatTss(CpuArg(w, 1), _control.Resolver));
                break;
            case "percpu" when w.Length == 2:
                PerCpu(w[1]);
                break;
            case "explain":
                Explain(CpuArg(w, 1));
                break;
            default:
                throw new DebugCommandException($"unknown command '{string.Join(' ', w)}' (try 'help')");
        }

        return true;
    }

    private void Step(string[] w)
    {
        long count = 1;
        int i = 1;
        if (i < w.Length && long.TryParse(w[i], NumberStyles.None, CultureInfo.InvariantCulture, out long n))
        {
            if (n < 1)
            {
                throw new DebugCommandException("step: the count must be at least 1");
            }

            count = n;
            i++;
        }

        bool all = false;
        int cpu = _cpu;
        if (i < w.Length)
        {
            if (w[i] == "all" && i + 1 == w.Length)
            {
                all = true;
            }
            else if (w[i] == "cpu" && i + 2 == w.Length)
            {
                cpu = ParseCpu(w[i + 1]);
            }
            else
            {
                throw new DebugCommandException($"step: expected 'step [N] [cpu C|all]', got '{string.Join(' ', w)}'");
            }
        }

        var actions = new ResumeAction[_m.Cpus.Length];
        for (int k = 0; k < actions.Length; k++)
        {
            // Every other CPU goes on in its turn and its breakpoints still count (all-stop, as in gdb).
            actions[k] = all || k == cpu ? ResumeAction.Step : ResumeAction.Continue;
        }

        for (long k = 0; k < count; k++)
        {
            var stop = _control.Resume(actions, Interrupt);
            if (stop.Kind != DebugStopKind.Stepped)
            {
                Report(stop);
                return;
            }

            _out.WriteLine(StepLine(_control.LastStep(stop.Cpu), _m.Cpus[stop.Cpu]));
            if (!all)
            {
                _cpu = cpu;
            }
        }
    }

    private string StepLine(StepRecord? r, CpuCore cpu)
    {
        if (r is null)
        {
            return Where(cpu);
        }

        string disasm = r.Decoded ? _view.Format(r.Instruction) : "(cannot decode)";
        if (!r.Retired)
        {
            disasm += r.FaultVector >= 0
                ? $"    -> faulted: {Emulator.Cpu.Vectors.Mnemonic(r.FaultVector)}, now at {cpu.Seg(SegReg.CS).Selector:x4}:{cpu.Eip:x8} <{_symbols.Format(ExecutionControl.Pc(cpu))}>"
                : $"    -> interrupted before it ran: now at {cpu.Seg(SegReg.CS).Selector:x4}:{cpu.Eip:x8} <{_symbols.Format(ExecutionControl.Pc(cpu))}>";
        }

        return TraceLine.Format(r.Cpu, r.Cycle, r.Cs, r.Eip, _symbols.Format(r.Eip), disasm, r.Retired ? r.Access : null);
    }

    private void Continue()
    {
        var actions = Enumerable.Repeat(ResumeAction.Continue, _m.Cpus.Length).ToArray();
        Report(_control.Resume(actions, Interrupt));
    }

    private void Report(DebugStop stop)
    {
        if (stop.Cpu >= 0)
        {
            _cpu = stop.Cpu;
        }

        switch (stop.Kind)
        {
            case DebugStopKind.Breakpoint:
                _out.WriteLine($"cpu{stop.Cpu}: breakpoint {stop.Breakpoint!.Id} ({stop.Breakpoint.Label})");
                _out.WriteLine(Where(_m.Cpus[stop.Cpu]));
                break;
            case DebugStopKind.Watchpoint:
                _out.WriteLine($"cpu{stop.Cpu}: watchpoint {stop.Watchpoint!.Id} ({stop.Watchpoint.Label}) hit by:");
                _out.WriteLine(StepLine(_control.LastStep(stop.Cpu), _m.Cpus[stop.Cpu]));
                _out.WriteLine(Where(_m.Cpus[stop.Cpu]));
                break;
            case DebugStopKind.Stepped:
                _out.WriteLine(StepLine(_control.LastStep(stop.Cpu), _m.Cpus[stop.Cpu]));
                break;
            case DebugStopKind.Interrupted:
                _out.WriteLine($"interrupted");
                _out.WriteLine(Where(_m.Cpus[_cpu]));
                break;
            default:
                var r = stop.Result!;
                string status = r.Reason == StopReason.GuestExit ? $" (exit status {r.GuestExitStatus})" : string.Empty;
                _out.WriteLine($"the machine stopped: {r.Message}{status} after {r.Instructions} instructions, {r.Cycles} cycles");
                if (stop.Cpu >= 0)
                {
                    _out.WriteLine(Where(_m.Cpus[stop.Cpu]));
                }

                break;
        }
    }

    /// <summary>A CPU's position: clock, CS:EIP, symbol and the instruction it runs next.</summary>
    private string Where(CpuCore cpu)
    {
        uint pc = ExecutionControl.Pc(cpu);
        string next = cpu.State switch
        {
            Emulator.Cpu.RunState.WaitForSipi => "(waiting for INIT/STARTUP)",
            Emulator.Cpu.RunState.Shutdown => "(shut down)",
            _ => InstructionView.TryDecode(cpu, out var ins) ? _view.Format(ins) : "(cannot decode)",
        };
        string state = cpu.State == Emulator.Cpu.RunState.Running ? string.Empty : $" [{cpu.State}]";
        return $"cpu{cpu.Id} {cpu.Cycles,10} {cpu.Seg(SegReg.CS).Selector:x4}:{cpu.Eip:x8} <{_symbols.Format(pc)}>  next: {next}{state}";
    }

    private void Break(string[] w)
    {
        if (w.Length is not (2 or 4) || (w.Length == 4 && w[2] != "cpu"))
        {
            throw new DebugCommandException("break: expected 'break SYMBOL|ADDR [cpu C]'");
        }

        uint addr = ParseAddress(w[1], out _);
        int? cpu = w.Length == 4 ? ParseCpu(w[3]) : null;
        var b = _control.AddBreakpoint(addr, cpu, w[1]);
        _out.WriteLine($"breakpoint {b.Id} at 0x{addr:x8} <{_symbols.Format(addr)}>{(cpu is int c ? $", CPU {c} only" : ", any CPU")}");
    }

    private void Watch(string[] w)
    {
        if (w.Length < 3)
        {
            throw new DebugCommandException("watch: expected 'watch linear|physical ADDR[-END]' or 'watch percpu VAR cpu C'");
        }

        var kind = WatchKind.Write;
        var args = w.ToList();
        if (args[^1] is "write" or "read" or "access")
        {
            kind = args[^1] switch { "read" => WatchKind.Read, "access" => WatchKind.Access, _ => WatchKind.Write };
            args.RemoveAt(args.Count - 1);
        }

        Watchpoint wp;
        switch (args[1])
        {
            case "linear" or "physical" when args.Count == 3:
                {
                    string[] range = args[2].Split('-', 2);
                    uint start = ParseAddress(range[0], out Symbol? sym);
                    uint length = sym is { Size: > 0 } && range.Length == 1 ? sym.Size : 4;
                    if (range.Length == 2)
                    {
                        uint end = ParseAddress(range[1], out _);
                        if (end < start)
                        {
                            throw new DebugCommandException($"watch: the range {args[2]} ends before it starts");
                        }

                        length = end - start + 1;
                    }

                    var space = args[1] == "linear" ? WatchSpace.Linear : WatchSpace.Physical;
                    wp = _control.AddWatchpoint(space, start, length, kind, $"{args[1]} {args[2]}");
                    break;
                }

            case "percpu" when args.Count == 5 && args[3] == "cpu":
                {
                    var (sym, resolver) = PerCpuSymbol(args[2]);
                    int cpu = ParseCpu(args[4]);
                    uint offset = resolver.Offset(cpu) ?? throw new DebugCommandException($"watch: __per_cpu_offset[{cpu}] cannot be read");
                    if (offset == 0)
                    {
                        _out.WriteLine($"note: __per_cpu_offset[{cpu}] is 0 so far (setup_per_cpu_areas has not run): this watches the template copy");
                    }

                    wp = _control.AddWatchpoint(WatchSpace.Linear, sym.Address + offset, Math.Max(sym.Size, 1), kind, $"CPU {cpu}'s copy of {sym.Name}");
                    break;
                }

            default:
                throw new DebugCommandException("watch: expected 'watch linear|physical ADDR[-END] [write|read|access]' or 'watch percpu VAR cpu C [write|read|access]'");
        }

        _out.WriteLine($"watchpoint {wp.Id}: {KindWords(wp.Kind)} of {wp.Space.ToString().ToLowerInvariant()} 0x{wp.Start:x8}-0x{wp.Start + wp.Length - 1:x8} ({wp.Label})");
    }

    private static string KindWords(WatchKind kind) => kind switch
    {
        WatchKind.Read => "reads",
        WatchKind.Access => "reads and writes",
        _ => "writes",
    };

    private void Delete(string[] w)
    {
        if (w.Length == 1)
        {
            int n = _control.RemoveBreakpoints(_ => true) + _control.RemoveWatchpoints(_ => true);
            _out.WriteLine($"deleted {n} breakpoint{(n == 1 ? string.Empty : "s")} and watchpoints");
            return;
        }

        if (w.Length != 2 || !int.TryParse(w[1], NumberStyles.None, CultureInfo.InvariantCulture, out int id))
        {
            throw new DebugCommandException("delete: expected 'delete [ID]'");
        }

        if (_control.RemoveBreakpoints(b => b.Id == id) + _control.RemoveWatchpoints(x => x.Id == id) == 0)
        {
            throw new DebugCommandException($"delete: no breakpoint or watchpoint {id}");
        }

        _out.WriteLine($"deleted {id}");
    }

    private void InfoCpus()
    {
        foreach (var c in _m.Cpus)
        {
            _out.WriteLine($"{(c.Id == _cpu ? "*" : " ")} {Where(c)}   %fs base 0x{c.Seg(SegReg.FS).Base:x8}  instructions {c.Instructions}");
        }
    }

    private void InfoBreakpoints()
    {
        if (_control.Breakpoints.Count == 0 && _control.Watchpoints.Count == 0)
        {
            _out.WriteLine("no breakpoints or watchpoints");
        }

        foreach (var b in _control.Breakpoints)
        {
            _out.WriteLine($"{b.Id,3} breakpoint 0x{b.Address:x8} <{_symbols.Format(b.Address)}>{(b.Cpu is int c ? $" CPU {c} only" : string.Empty)}");
        }

        foreach (var x in _control.Watchpoints)
        {
            _out.WriteLine($"{x.Id,3} watchpoint {x.Kind.ToString().ToLowerInvariant()} {x.Space.ToString().ToLowerInvariant()} 0x{x.Start:x8}-0x{x.Start + x.Length - 1:x8} ({x.Label})");
        }
    }

    private void Gdt(CpuCore cpu) => _out.Write(StateViews.FormatGdt(cpu, _control.Resolver));

    private void PerCpu(string name)
    {
        var (sym, resolver) = PerCpuSymbol(name);
        _out.Write(StateViews.FormatPerCpuTable(_m.Cpus, resolver, sym));
    }

    private (Symbol Symbol, PerCpuResolver Resolver) PerCpuSymbol(string name)
    {
        if (!_symbols.TryGetByName(name, out var sym))
        {
            throw new DebugCommandException($"the image has no symbol '{name}'");
        }

        var resolver = _control.Resolver;
        if (resolver is not { HasPerCpu: true })
        {
            throw new DebugCommandException("the image has no per-CPU section (__per_cpu_start, __per_cpu_end, __per_cpu_offset)");
        }

        return (sym, resolver);
    }

    private void Examine(string[] w)
    {
        int count = 4;
        string head = w[0];
        if (head.Length > 2)
        {
            if (!int.TryParse(head.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > 4096)
            {
                throw new DebugCommandException($"x: '{head}' is not x/N with N from 1 to 4096");
            }
        }

        if (!(w.Length == 3 || (w.Length == 5 && w[3] == "cpu")) || w[1] is not ("linear" or "physical"))
        {
            throw new DebugCommandException("x: expected 'x/N linear|physical ADDR [cpu C]'");
        }

        uint addr = ParseAddress(w[2], out _);
        if (w[1] == "physical")
        {
            var mem = _m.Memory;
            _out.Write(StateViews.FormatWords(addr, count, (uint a, out uint v) =>
            {
                bool ok = mem.Contains(a, 4);
                v = ok ? mem.Read32(a) : 0;
                return ok;
            }, _control.Resolver));
            return;
        }

        CpuCore cpu = w.Length == 5 ? _m.Cpus[ParseCpu(w[4])] : _m.Cpus[_cpu];
        _out.Write(StateViews.FormatWords(addr, count, (uint a, out uint v) =>
        {
            uint? r = AccessExplainer.ReadValue(cpu, a, 4);
            v = r ?? 0;
            return r is not null;
        }, _control.Resolver));
    }

    private void Explain(CpuCore cpu)
    {
        var text = new StringBuilder();
        if (cpu.State == Emulator.Cpu.RunState.WaitForSipi)
        {
            text.AppendLine($"cpu{cpu.Id} is waiting for INIT/STARTUP: nothing to explain yet");
        }
        else if (InstructionView.TryDecode(cpu, out var ins))
        {
            var next = AccessExplainer.Explain(cpu, ins, _control.Resolver);
            text.AppendLine($"cpu{cpu.Id} next: {_view.Format(ins)}");
            text.AppendLine($"  {next?.Format() ?? "no explicit memory operand"}");
        }
        else
        {
            text.AppendLine($"cpu{cpu.Id} next: the instruction at 0x{ExecutionControl.Pc(cpu):x8} cannot be decoded");
        }

        var last = _control.LastAccess(cpu.Id);
        text.AppendLine(last is null
            ? "  last access: none seen yet (accesses are recorded while a CPU is stepped or watched)"
            : $"  last access: {last.Format()}");
        _out.Write(text.ToString());
    }

    private CpuCore CpuArg(string[] w, int at)
    {
        if (w.Length == at)
        {
            return _m.Cpus[_cpu];
        }

        if (w.Length == at + 2 && w[at] == "cpu")
        {
            return _m.Cpus[ParseCpu(w[at + 1])];
        }

        throw new DebugCommandException($"{w[0]}: expected '{w[0]} [cpu C]'");
    }

    private int ParseCpu(string text)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int c) || c >= _m.Cpus.Length)
        {
            throw new DebugCommandException($"no CPU '{text}' (the machine has CPUs 0 to {_m.Cpus.Length - 1})");
        }

        return c;
    }

    /// <summary>A symbol, symbol+0xN, or a hex address (0x optional).</summary>
    private uint ParseAddress(string text, out Symbol? symbol)
    {
        symbol = null;
        string name = text;
        uint add = 0;
        int plus = text.IndexOf('+', StringComparison.Ordinal);
        if (plus > 0)
        {
            name = text[..plus];
            if (!TryHex(text[(plus + 1)..], out add))
            {
                throw new DebugCommandException($"'{text}' is not SYMBOL+OFFSET (OFFSET in hex)");
            }
        }

        if (_symbols.TryGetByName(name, out var s))
        {
            symbol = plus > 0 ? null : s;
            return s.Address + add;
        }

        if (plus < 0 && TryHex(text, out uint a))
        {
            return a;
        }

        throw new DebugCommandException($"'{text}' is neither a symbol of the image nor a hex address");
    }

    private static bool TryHex(string text, out uint value)
    {
        string t = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        return uint.TryParse(t, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    private static void NoMoreArgs(string[] w, int count)
    {
        if (w.Length > count)
        {
            throw new DebugCommandException($"{w[0]} takes no arguments");
        }
    }

    private sealed class DebugCommandException(string message) : Exception(message);
}
