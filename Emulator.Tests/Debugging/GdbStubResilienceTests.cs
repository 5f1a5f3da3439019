using System.Net.Sockets;
using System.Text;
using Emulator.Debugging;
using Emulator.Platform;
using Emulator.Tests.Integration;

namespace Emulator.Tests.Debugging;

/// <summary>The server outlives bad clients: one that sends junk and hangs up mid-packet is followed by one that is served normally.</summary>
public class GdbStubResilienceTests
{
    [Fact]
    public void AClientThatSendsJunkAndHangsUpMidPacketDoesNotStopTheServer()
    {
        using var machine = new Machine(new MachineConfig { Cpus = 2 });
        machine.Load("hello.elf", File.ReadAllBytes(RepoPaths.GuestImage("hello")));
        using var server = GdbStubServer.Listen(machine, 0);
        var thread = new Thread(() => server.Serve()) { IsBackground = true, Name = "gdb stub" };
        thread.Start();

        // Binary junk (a fixed seed), a packet with a bad checksum, an overlong packet, then
        // half a packet, and the connection closes.
        using (var bad = new TcpClient("127.0.0.1", server.Port))
        {
            var s = bad.GetStream();
            var junk = new byte[64 * 1024];
            new Random(9).NextBytes(junk);
            s.Write(junk);
            s.Write(Encoding.ASCII.GetBytes("$qC#00"));
            s.Write(Encoding.ASCII.GetBytes("$" + new string('m', GdbStub.MaxPacket * 2) + "#00"));
            s.Write(Encoding.ASCII.GetBytes("$m100000,4"));
            s.Flush();
        }

        // The next client gets answers.
        using var good = new TcpClient("127.0.0.1", server.Port) { NoDelay = true };
        var g = good.GetStream();
        g.ReadTimeout = 60_000;
        Assert.Equal("QC1", Ask(g, "qC"));
        Assert.Equal("m1,2", Ask(g, "qfThreadInfo"));
        server.Stop();
    }

    /// <summary>Sends a framed packet and returns the reply's body (skipping acknowledgements).</summary>
    private static string Ask(NetworkStream s, string body)
    {
        s.Write(Encoding.ASCII.GetBytes(RspClient.Frame(body)));
        int c;
        while ((c = s.ReadByte()) != '$')
        {
            Assert.True(c >= 0, "connection closed");
        }

        var reply = new StringBuilder();
        while ((c = s.ReadByte()) != '#')
        {
            Assert.True(c >= 0, "connection closed");
            reply.Append((char)c);
        }

        s.ReadByte();
        s.ReadByte();
        s.WriteByte((byte)'+');
        return reply.ToString();
    }
}
