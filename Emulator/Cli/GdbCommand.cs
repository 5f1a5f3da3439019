using System.CommandLine;
using System.Net.Sockets;
using System.Text;
using Emulator.Debugging;
using Emulator.Platform;

namespace Emulator.Cli;

/// <summary>`gdb [IMAGE] --port P`: boots an image stopped at its entry and serves gdb's remote protocol on 127.0.0.1.</summary>
public static class GdbCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var machine = new MachineOptions();
        var port = new Option<int>("--port")
        {
            Description = "TCP port on 127.0.0.1 to serve the GDB remote protocol on (0 = any free port)",
            DefaultValueFactory = _ => 1234,
        };
        var command = new Command("gdb", "Load an image stopped at its entry and let gdb drive it (target remote 127.0.0.1:PORT); every CPU is a thread");
        machine.AddTo(command);
        command.Options.Add(port);
        command.SetAction(parse =>
        {
            int p = parse.GetValue(port);
            if (p is < 0 or > 65535)
            {
                throw new UsageException($"--port: {p} is not a TCP port (0-65535)");
            }

            var (name, bytes, defaultCpus) = RunCommand.ResolveImage(parse.GetValue(machine.Image));
            var config = machine.ToConfig(parse, defaultCpus);
            var serial = new List<byte>();
            void Serial(byte b)
            {
                serial.Add(b);
                if (b == (byte)'\n')
                {
                    stdout.Write(Encoding.Latin1.GetString(serial.ToArray()));
                    stdout.Flush();
                    serial.Clear();
                }
            }

            using var m = new Machine(config, Serial);
            m.Load(name, bytes);
            GdbStubServer server;
            try
            {
                server = GdbStubServer.Listen(m, p);
            }
            catch (SocketException e)
            {
                throw new UsageException($"--port: cannot listen on 127.0.0.1:{p}: {e.Message}");
            }

            using (server)
            {
                stderr.WriteLine($"gdb: listening on 127.0.0.1:{server.Port} ({config.Cpus} CPUs = threads 1-{config.Cpus}); in gdb: target remote 127.0.0.1:{server.Port}");
                server.Serve(stderr.WriteLine);
            }

            stdout.Write(Encoding.Latin1.GetString(serial.ToArray()));
            return 0;
        });
        return command;
    }
}
