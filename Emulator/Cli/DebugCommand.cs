using System.CommandLine;
using System.Text;
using Emulator.Debugging;
using Emulator.Platform;

namespace Emulator.Cli;

/// <summary>
/// `debug [IMAGE]`: boots an image stopped before its first instruction and reads debugger
/// commands (docs/inspection.md). On a terminal the prompt has line editing and history
/// (<see cref="LineEditor"/>); otherwise commands are read one per line from standard input and
/// echoed after the prompt, so a script's transcript reads like a session.
/// </summary>
public static class DebugCommand
{
    public const string Prompt = "(emu) ";

    public static Command Create(TextReader stdin, TextWriter stdout, TextWriter stderr, bool interactive)
    {
        var machine = new MachineOptions();
        var command = new Command("debug", "Boot an image stopped at its entry and debug it interactively: step CPUs, breakpoints, watchpoints, registers with descriptor caches, GDT/IDT/TSS, per-CPU variables, access explanations ('help' inside lists the commands)");
        machine.AddTo(command);
        command.SetAction(parse =>
        {
            var (name, bytes, defaultCpus) = RunCommand.ResolveImage(parse.GetValue(machine.Image));
            var config = machine.ToConfig(parse, defaultCpus);
            var serial = new SerialLines(stdout);
            using var m = new Machine(config, serial.Write);
            m.Load(name, bytes);
            var shell = new DebugShell(m, stdout);
            bool terminal = interactive && !Console.IsInputRedirected && !Console.IsOutputRedirected;
            using var ctrlC = interactive ? new CtrlCFlag() : null;
            if (ctrlC is not null)
            {
                shell.Interrupt = ctrlC.Take;
            }

            shell.Start();
            var editor = terminal ? new LineEditor() : null;
            while (true)
            {
                string? line;
                if (editor is not null)
                {
                    line = editor.ReadLine(Prompt);
                }
                else
                {
                    line = stdin.ReadLine();
                    if (line is not null)
                    {
                        stdout.WriteLine(Prompt + line);
                    }
                }

                if (line is null)
                {
                    break;
                }

                ctrlC?.Take();
                bool more = shell.Execute(line);
                serial.Flush();
                stdout.Flush();
                if (!more)
                {
                    break;
                }
            }

            serial.Flush();
            return 0;
        });
        return command;
    }

    /// <summary>The guest's serial output, printed a line at a time with a "serial: " mark so it stands apart from the debugger's.</summary>
    private sealed class SerialLines(TextWriter target)
    {
        private readonly List<byte> _pending = [];

        public void Write(byte b)
        {
            if (b == (byte)'\n')
            {
                target.WriteLine("serial: " + Encoding.Latin1.GetString(_pending.ToArray()).TrimEnd('\r'));
                _pending.Clear();
            }
            else
            {
                _pending.Add(b);
            }
        }

        public void Flush()
        {
            if (_pending.Count > 0)
            {
                target.WriteLine("serial: " + Encoding.Latin1.GetString(_pending.ToArray()));
                _pending.Clear();
            }
        }
    }

    /// <summary>Ctrl-C while the machine runs stops it at the next poll, instead of ending the process.</summary>
    private sealed class CtrlCFlag : IDisposable
    {
        private readonly ConsoleCancelEventHandler _handler;
        private volatile bool _pressed;

        public CtrlCFlag()
        {
            _handler = (_, e) =>
            {
                e.Cancel = true;
                _pressed = true;
            };
            Console.CancelKeyPress += _handler;
        }

        public bool Take()
        {
            bool p = _pressed;
            _pressed = false;
            return p;
        }

        public void Dispose() => Console.CancelKeyPress -= _handler;
    }
}
