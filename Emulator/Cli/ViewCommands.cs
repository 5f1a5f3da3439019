using System.CommandLine;
using System.Text;
using System.Text.Json;
using Emulator.Cpu.Segmentation;
using Emulator.Loading;
using Emulator.Platform;
using Emulator.Tracing;

namespace Emulator.Cli;

/// <summary>
/// Non-interactive views for scripts and teaching material: boot, run to a point (a symbol, or
/// the end of the run), and print per-CPU state. `percpu [IMAGE] VAR` shows a per-CPU variable
/// on every CPU; `gdt [IMAGE]` shows each CPU's own GDT.
/// </summary>
public static class ViewCommands
{
    public static Command CreatePerCpu(TextWriter stdout, TextWriter stderr)
    {
        var machine = new MachineOptions();
        var args = new Argument<string[]>("args") { Description = "[IMAGE] VAR: the per-CPU variable to show (the image defaults to the embedded guest)", Arity = new ArgumentArity(1, 2) };
        var at = new Option<string?>("--at") { Description = "Stop when a CPU first reaches this symbol (default: run to the end)" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("percpu", "Show a per-CPU variable's address and value on every CPU (&VAR + __per_cpu_offset[cpu])");
        machine.AddTo(command, withImageArgument: false);
        command.Arguments.Add(args);
        command.Options.Add(at);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            string[] a = parse.GetValue(args) ?? [];
            string? imagePath = a.Length == 2 ? a[0] : null;
            string var = a[^1];
            // The names are checked once the image is loaded, before the (possibly long) run.
            Emulator.Loading.Symbol? found = null;
            using var session = Session.Start(machine, parse, imagePath, parse.GetValue(at), stderr, (m, image) =>
            {
                if (!image.Symbols.TryGetByName(var, out found))
                {
                    throw new UsageException($"the image has no symbol '{var}'");
                }

                if (!new PerCpuResolver(image.Symbols, m.Memory).HasPerCpu)
                {
                    throw new UsageException("the image has no per-CPU section (__per_cpu_start/__per_cpu_end/__per_cpu_offset)");
                }
            });
            var m = session.Machine;
            var sym = found!;
            var resolver = new PerCpuResolver(session.Image.Symbols, m.Memory);

            int size = StateViews.ValueSize(sym);
            var rows = StateViews.ReadPerCpu(m.Cpus, resolver, sym, size);
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonSerializer.Serialize(new
                {
                    variable = var,
                    link_address = sym.Address,
                    size,
                    stopped = session.Where,
                    cpus = rows.Select(r => new { cpu = r.Cpu, per_cpu_offset = r.Offset, address = r.Address, value = r.Value, fs_base = r.FsBase }),
                }));
            }
            else
            {
                stdout.Write(StateViews.FormatPerCpuTable(m.Cpus, resolver, sym, session.Where));
            }

            return session.ExitStatus;
        });
        return command;
    }

    public static Command CreateGdt(TextWriter stdout, TextWriter stderr)
    {
        var machine = new MachineOptions();
        var cpuOption = new Option<int?>("--cpu") { Description = "Only this CPU (default: every CPU)" };
        var at = new Option<string?>("--at") { Description = "Stop when a CPU first reaches this symbol (default: run to the end)" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("gdt", "Show each CPU's GDT (its own table, as GDTR points) with the segment registers that use each entry");
        machine.AddTo(command);
        command.Options.Add(cpuOption);
        command.Options.Add(at);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            int? only = parse.GetValue(cpuOption);
            using var session = Session.Start(machine, parse, parse.GetValue(machine.Image), parse.GetValue(at), stderr, (m, _) =>
            {
                if (only is int o && (o < 0 || o >= m.Cpus.Length))
                {
                    throw new UsageException($"--cpu {o}: the machine has CPUs 0 to {m.Cpus.Length - 1}");
                }
            });
            var m = session.Machine;

            var tables = new List<object>();
            var text = new StringBuilder();
            foreach (var cpu in m.Cpus)
            {
                if (only is int sel && sel != cpu.Id)
                {
                    continue;
                }

                var gdtr = cpu.Gdtr;
                text.Append(StateViews.FormatGdt(cpu, new PerCpuResolver(session.Image.Symbols, m.Memory), session.Where));
                var entries = new List<object>();
                foreach (var e in StateViews.ReadGdt(cpu))
                {
                    entries.Add(new { index = e.Index, selector = e.Index * 8, @base = e.Base, limit = e.Limit, access = e.Access, flags = e.Flags, type = e.Type, raw = e.Raw, used_by = e.Users });
                }

                tables.Add(new { cpu = cpu.Id, gdtr_base = gdtr.Base, gdtr_limit = gdtr.Limit, entries });
            }

            stdout.Write(parse.GetValue(json) ? JsonSerializer.Serialize(new { stopped = session.Where, cpus = tables }) + Environment.NewLine : text.ToString());
            return session.ExitStatus;
        });
        return command;
    }

    /// <summary>A machine booted and run to the requested point.</summary>
    private sealed class Session : IDisposable
    {
        private Session(Machine machine, LoadedImage image, string where, int exitStatus)
        {
            Machine = machine;
            Image = image;
            Where = where;
            ExitStatus = exitStatus;
        }

        /// <summary>The command's status: 0, or <see cref="ExitCodes.LimitReached"/> / <see cref="ExitCodes.TripleFault"/> when the run ended that way.</summary>
        public int ExitStatus { get; }

        public Machine Machine { get; }

        public LoadedImage Image { get; }

        /// <summary>Where the machine stopped, in words.</summary>
        public string Where { get; }

        /// <summary>Boots and runs to the point; <paramref name="check"/> sees the loaded image before anything runs (usage errors come first).</summary>
        public static Session Start(MachineOptions options, ParseResult parse, string? imagePath, string? at, TextWriter stderr, Action<Machine, LoadedImage>? check = null)
        {
            var (name, bytes, defaultCpus) = RunCommand.ResolveImage(imagePath);
            var config = options.ToConfig(parse, defaultCpus);
            var m = new Machine(config, _ => { });
            try
            {
                var image = m.Load(name, bytes);
                check?.Invoke(m, image);
                string where;
                int exitStatus = 0;
                if (at is not null)
                {
                    if (!image.Symbols.TryGetByName(at, out var s))
                    {
                        throw new UsageException($"--at: the image has no symbol '{at}'");
                    }

                    m.Code.SetBreakpoint(s.Address, true);
                    var r = m.Run();
                    m.Code.SetBreakpoint(s.Address, false);
                    if (r.Reason is StopReason.InstructionLimit or StopReason.CycleLimit)
                    {
                        throw new GuestStoppedException($"the guest never reached {at}: {r.Message} after {r.Instructions} instructions", ExitCodes.LimitReached);
                    }

                    if (r.Reason is StopReason.TripleFault)
                    {
                        throw new GuestStoppedException($"the guest never reached {at}: {r.Message}", ExitCodes.TripleFault);
                    }

                    if (r.Reason != StopReason.Breakpoint)
                    {
                        throw new UsageException($"the guest never reached {at} ({r.Message})");
                    }

                    where = $"when CPU {r.Cpu} reached {at}";
                }
                else
                {
                    var r = m.Run();
                    where = $"at the end of the run ({r.Message})";

                    // The view is still printed, from where the guest stopped; the status says how it stopped.
                    if (r.Reason is StopReason.TripleFault)
                    {
                        stderr.WriteLine($"emulator: {r.Message}; showing the state at that point");
                        exitStatus = ExitCodes.TripleFault;
                    }
                    else if (r.Reason is StopReason.InstructionLimit or StopReason.CycleLimit)
                    {
                        stderr.WriteLine($"emulator: {r.Message} after {r.Instructions} instructions; showing the state at that point");
                        exitStatus = ExitCodes.LimitReached;
                    }
                }

                return new Session(m, image, where, exitStatus);
            }
            catch
            {
                m.Dispose();
                throw;
            }
        }

        public void Dispose() => Machine.Dispose();
    }
}
