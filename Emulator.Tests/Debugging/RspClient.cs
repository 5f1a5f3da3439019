using System.Net.Sockets;
using System.Text;
using Emulator.Debugging;
using Emulator.Platform;
using Emulator.Tests.Integration;

namespace Emulator.Tests.Debugging;

/// <summary>A stub serving the percpu guest (4 CPUs) on a free port, and a minimal RSP client for it.</summary>
public sealed class RspClient : IDisposable
{
    private readonly Machine _machine;
    private readonly GdbStubServer _server;
    private readonly Thread _thread;
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    public RspClient(int cpus = 4)
        : this(cpus, "percpu.elf", File.ReadAllBytes(RepoPaths.GuestImage("percpu")))
    {
    }

    /// <summary>A stub over any image (e.g. a flat guest that never ends, for Ctrl-C).</summary>
    public RspClient(int cpus, string name, byte[] image)
        : this(new MachineConfig { Cpus = cpus }, name, image)
    {
    }

    /// <summary>A stub over any image on a machine configured as given (reset policies, limits).</summary>
    public RspClient(MachineConfig config, string name, byte[] image)
    {
        _machine = new Machine(config);
        _machine.Load(name, image);
        _server = GdbStubServer.Listen(_machine, 0);
        _thread = new Thread(() => _server.Serve()) { IsBackground = true, Name = "gdb stub" };
        _thread.Start();
        _client = new TcpClient("127.0.0.1", _server.Port) { NoDelay = true };
        _stream = _client.GetStream();
        _stream.ReadTimeout = 60_000;
    }

    public Machine Machine => _machine;

    public static string Frame(string body) => $"${body}#{body.Sum(c => (byte)c) & 0xFF:x2}";

    public void SendRaw(string text) => SendRaw(Encoding.Latin1.GetBytes(text));

    public void SendRaw(byte[] bytes) => _stream.Write(bytes);

    public char ReadAck()
    {
        int b = _stream.ReadByte();
        return (char)b;
    }

    /// <summary>Reads one packet (skipping acks), checks its checksum and acknowledges it.</summary>
    public string ReadPacket()
    {
        int b;
        while ((b = _stream.ReadByte()) != '$')
        {
            Assert.NotEqual(-1, b);
        }

        var body = new StringBuilder();
        while ((b = _stream.ReadByte()) != '#')
        {
            Assert.NotEqual(-1, b);
            body.Append((char)b);
        }

        string sum = $"{(char)_stream.ReadByte()}{(char)_stream.ReadByte()}";
        Assert.Equal($"{body.ToString().Sum(c => (byte)c) & 0xFF:x2}", sum);
        SendRaw("+");
        return body.ToString();
    }

    /// <summary>Sends a packet, expects '+', returns the reply.</summary>
    public string Ask(string body)
    {
        SendRaw(Frame(body));
        Assert.Equal('+', ReadAck());
        return ReadPacket();
    }

    public uint Symbol(string name)
    {
        Assert.True(_machine.Image!.Symbols.TryGetByName(name, out var s), name);
        return s.Address;
    }

    public uint ReadWord(uint address)
    {
        string hex = Ask($"m{address:x},4");
        return BitConverter.ToUInt32(Convert.FromHexString(hex));
    }

    public uint Register(int tid, int regnum)
    {
        Assert.Equal("OK", Ask($"Hg{tid:x}"));
        return BitConverter.ToUInt32(Convert.FromHexString(Ask($"p{regnum:x}")));
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Stop();
        _thread.Join(10_000);
        _machine.Dispose();
    }
}
