using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Emulator.Platform;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Debugging;

/// <summary>
/// One GDB Remote Serial Protocol session over a connected socket. Everything runs on the
/// calling thread: the machine runs only while a resume packet is being served, and the socket
/// is polled for Ctrl-C (0x03) every <see cref="PollInterval"/> instructions, so a session is as
/// deterministic as a plain run. Every vCPU is a thread (thread id = CPU number + 1).
/// Malformed input (bad checksums, junk, overlong or unknown packets) is answered, never fatal.
/// </summary>
public sealed partial class GdbStub
{
    /// <summary>The largest packet body accepted (and advertised as PacketSize).</summary>
    public const int MaxPacket = 0x4000;

    /// <summary>Instructions run between two looks at the socket for Ctrl-C.</summary>
    public const int PollInterval = 4096;

    private readonly Machine _machine;
    private readonly Socket _socket;
    private readonly byte[] _in = new byte[4096];
    private int _inPos;
    private int _inLen;
    private bool _ackMode = true;
    private string _lastSent = string.Empty;
    private bool _closing;

    public GdbStub(Machine machine, Socket socket)
    {
        _machine = machine;
        _socket = socket;
        _current = 0;
    }

    /// <summary>True once the client sent `k` (the server should end, not wait for another client).</summary>
    public bool Killed { get; private set; }

    private Machine M => _machine;

    private CpuCore Current => _machine.Cpus[_current];

    /// <summary>Serves packets until the client detaches, kills or disconnects.</summary>
    public void Serve()
    {
        try
        {
            while (!_closing)
            {
                string? packet = ReadPacket();
                if (packet is null)
                {
                    return;
                }

                string? reply;
                try
                {
                    reply = Handle(packet);
                }
                catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or IndexOutOfRangeException)
                {
                    reply = "E01";
                }

                if (reply is not null)
                {
                    Send(reply);
                }
            }
        }
        catch (SocketException)
        {
            // The client went away: the session is over.
        }
        catch (ObjectDisposedException)
        {
            // The server was stopped.
        }
    }

    private int ReadByte()
    {
        if (_inPos == _inLen)
        {
            _inLen = _socket.Receive(_in);
            _inPos = 0;
            if (_inLen <= 0)
            {
                _inLen = 0;
                return -1;
            }
        }

        return _in[_inPos++];
    }

    /// <summary>Reads the next well-formed packet body (acknowledging it), or null at end of stream.</summary>
    private string? ReadPacket()
    {
        var body = new StringBuilder();
        while (true)
        {
            int b = ReadByte();
            switch (b)
            {
                case < 0:
                    return null;
                case '-':
                    if (_ackMode && _lastSent.Length > 0)
                    {
                        SendRaw(_lastSent);
                    }

                    continue;
                case '$':
                    break;
                default:
                    // '+' acks, a stray Ctrl-C while stopped, line noise: nothing to do.
                    continue;
            }

            body.Clear();
            bool overlong = false;
            int sum = 0;
            while (true)
            {
                b = ReadByte();
                if (b < 0)
                {
                    return null;
                }

                if (b == '#')
                {
                    break;
                }

                if (b == '$')
                {
                    // A new packet started inside this one: drop what we had.
                    body.Clear();
                    sum = 0;
                    overlong = false;
                    continue;
                }

                sum += b;
                if (body.Length < MaxPacket)
                {
                    body.Append((char)b);
                }
                else
                {
                    overlong = true;
                }
            }

            int hi = ReadByte();
            int lo = ReadByte();
            if (hi < 0 || lo < 0)
            {
                return null;
            }

            bool checksumOk = HexDigit(hi) >= 0 && HexDigit(lo) >= 0 && ((HexDigit(hi) << 4) | HexDigit(lo)) == (sum & 0xFF);
            if (!checksumOk && _ackMode)
            {
                SendAck('-');
                continue;
            }

            if (_ackMode)
            {
                SendAck('+');
            }

            if (overlong)
            {
                Send("E01");
                continue;
            }

            return body.ToString();
        }
    }

    private void SendAck(char c) => _socket.Send([(byte)c]);

    private void Send(string body)
    {
        int sum = 0;
        foreach (char c in body)
        {
            sum += (byte)c;
        }

        string framed = $"${body}#{sum & 0xFF:x2}";
        _lastSent = framed;
        SendRaw(framed);
    }

    private void SendRaw(string framed) => _socket.Send(Encoding.Latin1.GetBytes(framed));

    /// <summary>While the guest runs: true when the client sent Ctrl-C (other bytes are dropped).</summary>
    private bool PollInterrupt()
    {
        bool interrupted = false;
        while (_inPos < _inLen || _socket.Available > 0)
        {
            int b = ReadByte();
            if (b < 0)
            {
                return true;
            }

            interrupted |= b == 0x03;
        }

        return interrupted;
    }

    private static int HexDigit(int c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static uint ParseHex(string s) => uint.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private static string HexText(string text) => ToHex(Encoding.UTF8.GetBytes(text));

    private static byte[] FromHex(string hex) => Convert.FromHexString(hex);

    /// <summary>Dispatches one packet; null means no reply.</summary>
    private string? Handle(string p)
    {
        if (p.Length == 0)
        {
            return string.Empty;
        }

        switch (p[0])
        {
            case '?':
                return StopReply(_current, "05", string.Empty);
            case 'g':
                return ToHex(ReadRegisters(Current));
            case 'G':
                WriteRegisters(Current, FromHex(p[1..]));
                return "OK";
            case 'p':
                return ReadRegister(Current, (int)ParseHex(p[1..]));
            case 'P':
                {
                    int eq = p.IndexOf('=');
                    return WriteRegister(Current, (int)ParseHex(p[1..eq]), FromHex(p[(eq + 1)..]));
                }

            case 'm':
                return ReadMemory(p[1..]);
            case 'M':
                return WriteMemory(p[1..], binary: false);
            case 'X':
                return WriteMemory(p[1..], binary: true);
            case 'Z':
            case 'z':
                return Breakpoint(p[0] == 'Z', p[1..]);
            case 'H':
                return SetThread(p);
            case 'T':
                return ParseThread(p[1..]) is int t && t >= 0 ? "OK" : "E01";
            case 'c':
            case 'C':
                return Resume(Enumerable.Repeat(ResumeAction.Continue, M.Cpus.Length).ToArray());
            case 's':
            case 'S':
                {
                    var actions = new ResumeAction[M.Cpus.Length];
                    actions[_stepThread >= 0 ? _stepThread : _current] = ResumeAction.Step;
                    return Resume(actions);
                }

            case 'k':
                Killed = true;
                _closing = true;
                return null;
            case 'D':
                _closing = true;
                return "OK";
            case 'v':
                return HandleV(p);
            case 'q':
            case 'Q':
                return HandleQuery(p);
            default:
                return string.Empty;
        }
    }

    private string HandleV(string p)
    {
        if (p == "vCont?")
        {
            return "vCont;c;C;s;S";
        }

        if (p.StartsWith("vCont;", StringComparison.Ordinal))
        {
            var actions = ParseVCont(p["vCont;".Length..]);
            return actions is null ? "E01" : Resume(actions);
        }

        if (p.StartsWith("vKill", StringComparison.Ordinal))
        {
            Killed = true;
            _closing = true;
            return "OK";
        }

        return string.Empty;
    }

    private string? HandleQuery(string p)
    {
        if (p.StartsWith("qSupported", StringComparison.Ordinal))
        {
            return $"PacketSize={MaxPacket:x};qXfer:features:read+;vContSupported+;QStartNoAckMode+;swbreak+;hwbreak+";
        }

        if (p == "QStartNoAckMode")
        {
            Send("OK");
            _ackMode = false;
            return null;
        }

        if (p.StartsWith("qXfer:features:read:", StringComparison.Ordinal))
        {
            return FeaturesRead(p["qXfer:features:read:".Length..]);
        }

        switch (p)
        {
            case "qC":
                return $"QC{_current + 1:x}";
            case "qAttached":
                return "1";
            case "qfThreadInfo":
                return "m" + string.Join(",", M.Cpus.Select(c => (c.Id + 1).ToString("x", CultureInfo.InvariantCulture)));
            case "qsThreadInfo":
                return "l";
            case "qSymbol::":
                return "OK";
        }

        if (p.StartsWith("qThreadExtraInfo,", StringComparison.Ordinal))
        {
            int? t = ParseThread(p["qThreadExtraInfo,".Length..]);
            return t is int cpu && cpu >= 0 ? HexText(ThreadExtraInfo(M.Cpus[cpu])) : "E01";
        }

        if (p.StartsWith("qRcmd,", StringComparison.Ordinal))
        {
            string command = Encoding.UTF8.GetString(FromHex(p["qRcmd,".Length..]));
            string output = Monitor(command.Trim());
            if (output.Length > 0)
            {
                Send("O" + HexText(output));
            }

            return "OK";
        }

        return string.Empty;
    }

    private static string ThreadExtraInfo(CpuCore cpu)
    {
        string state = cpu.State switch
        {
            Emulator.Cpu.RunState.Running => "running",
            Emulator.Cpu.RunState.Halted => "halted",
            Emulator.Cpu.RunState.WaitForSipi => "wait-for-SIPI",
            _ => "shutdown",
        };
        return $"CPU {cpu.Id}, {state}";
    }

    private string SetThread(string p)
    {
        if (p.Length < 3)
        {
            return "E01";
        }

        int? t = ParseThread(p[2..]);
        if (t is null)
        {
            return "E01";
        }

        if (p[1] == 'g')
        {
            if (t >= 0)
            {
                _current = t.Value;
            }
        }
        else if (p[1] == 'c')
        {
            _stepThread = t.Value;
        }
        else
        {
            return "E01";
        }

        return "OK";
    }

    /// <summary>A thread id: the CPU index, -1 for "all"/"any" (-1 and 0 in the protocol), null when invalid.</summary>
    private int? ParseThread(string text)
    {
        if (text is "-1" or "0")
        {
            return -1;
        }

        if (!uint.TryParse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint tid) || tid == 0 || tid > M.Cpus.Length)
        {
            return null;
        }

        return (int)tid - 1;
    }
}
