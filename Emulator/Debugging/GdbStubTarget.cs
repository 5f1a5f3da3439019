using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Emulator.Cpu.Segmentation;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Debugging;

/// <summary>Registers, the target description and memory access of the GDB stub.</summary>
public sealed partial class GdbStub
{
    /// <summary>The register numbers of the target description, in `g` packet order.</summary>
    public static class Regs
    {
        public const int Eip = 8;
        public const int Eflags = 9;
        public const int Cs = 10;

        /// <summary>st0..st7 (10 bytes each) start here, then fctrl..fop.</summary>
        public const int St0 = 16;
        public const int Fctrl = 24;
        public const int Xmm0 = 32;
        public const int Mxcsr = 40;
        public const int FsBase = 41;
        public const int GsBase = 42;
        public const int Cr0 = 43;
        public const int Count = 47;
    }

    private static readonly string[] SegmentOrder = ["cs", "ss", "ds", "es", "fs", "gs"];

    private static int RegSize(int n) => n switch
    {
        >= Regs.St0 and < Regs.Fctrl => 10,
        >= Regs.Xmm0 and < Regs.Mxcsr => 16,
        _ => 4,
    };

    /// <summary>
    /// The target description: gdb's i386 core (with the x87 registers it requires; this CPU
    /// model has no FPU state, they read as zero), the segment-base feature gdb knows from
    /// x86 Linux (so <c>$fs_base</c> is the %fs segment base, i.e. this CPU's
    /// <c>__per_cpu_offset</c> in the kernel), and the control registers in a feature of our own.
    /// </summary>
    public static readonly string TargetXml = BuildTargetXml();

    private static string BuildTargetXml()
    {
        var x = new StringBuilder();
        x.Append("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n");
        x.Append("<architecture>i386</architecture>\n");
        x.Append("<feature name=\"org.gnu.gdb.i386.core\">\n");
        x.Append("<flags id=\"i386_eflags\" size=\"4\">");
        string[] flagNames = ["CF", string.Empty, "PF", "AF", "ZF", "SF", "TF", "IF", "DF", "OF", "NT", "RF", "VM", "AC", "VIF", "VIP", "ID"];
        int[] flagBits = [0, 1, 2, 4, 6, 7, 8, 9, 10, 11, 14, 16, 17, 18, 19, 20, 21];
        for (int i = 0; i < flagNames.Length; i++)
        {
            x.Append(CultureInfo.InvariantCulture, $"<field name=\"{flagNames[i]}\" start=\"{flagBits[i]}\" end=\"{flagBits[i]}\"/>");
        }

        x.Append("</flags>\n");
        string[] gprs = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
        foreach (string r in gprs)
        {
            string type = r is "esp" or "ebp" ? "data_ptr" : "int32";
            x.Append(CultureInfo.InvariantCulture, $"<reg name=\"{r}\" bitsize=\"32\" type=\"{type}\"/>\n");
        }

        x.Append("<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n");
        x.Append("<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n");
        foreach (string s in SegmentOrder)
        {
            x.Append(CultureInfo.InvariantCulture, $"<reg name=\"{s}\" bitsize=\"32\" type=\"int32\"/>\n");
        }

        for (int i = 0; i < 8; i++)
        {
            x.Append(CultureInfo.InvariantCulture, $"<reg name=\"st{i}\" bitsize=\"80\" type=\"i387_ext\"/>\n");
        }

        foreach (string f in new[] { "fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop" })
        {
            x.Append(CultureInfo.InvariantCulture, $"<reg name=\"{f}\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n");
        }

        x.Append("</feature>\n");
        x.Append("<feature name=\"org.gnu.gdb.i386.sse\">\n");
        x.Append("<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/><vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>");
        x.Append("<vector id=\"v16i8\" type=\"int8\" count=\"16\"/><vector id=\"v8i16\" type=\"int16\" count=\"8\"/>");
        x.Append("<vector id=\"v4i32\" type=\"int32\" count=\"4\"/><vector id=\"v2i64\" type=\"int64\" count=\"2\"/>");
        x.Append("<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>");
        x.Append("<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/></union>\n");
        for (int i = 0; i < 8; i++)
        {
            x.Append(CultureInfo.InvariantCulture, $"<reg name=\"xmm{i}\" bitsize=\"128\" type=\"vec128\"/>\n");
        }

        x.Append("<reg name=\"mxcsr\" bitsize=\"32\" type=\"int\" group=\"vector\"/>\n");
        x.Append("</feature>\n");
        x.Append("<feature name=\"org.emulator.i386.segments\">\n");
        x.Append("<reg name=\"fs_base\" bitsize=\"32\" type=\"int\"/>\n");
        x.Append("<reg name=\"gs_base\" bitsize=\"32\" type=\"int\"/>\n");
        x.Append("</feature>\n");
        x.Append("<feature name=\"org.emulator.i386.system\">\n");
        foreach (string c in new[] { "cr0", "cr2", "cr3", "cr4" })
        {
            x.Append(CultureInfo.InvariantCulture, $"<reg name=\"{c}\" bitsize=\"32\" type=\"int\" group=\"system\"/>\n");
        }

        x.Append("</feature>\n</target>\n");
        return x.ToString();
    }

    private static string FeaturesRead(string args)
    {
        // annex:offset,length
        int colon = args.IndexOf(':');
        int comma = args.IndexOf(',');
        if (colon < 0 || comma < colon)
        {
            return "E00";
        }

        if (args[..colon] != "target.xml")
        {
            return "E00";
        }

        int offset = (int)ParseHex(args[(colon + 1)..comma]);
        int length = (int)Math.Min(ParseHex(args[(comma + 1)..]), MaxPacket - 16);
        if (offset >= TargetXml.Length)
        {
            return "l";
        }

        string chunk = TargetXml.Substring(offset, Math.Min(length, TargetXml.Length - offset));
        return (offset + chunk.Length >= TargetXml.Length ? "l" : "m") + chunk;
    }

    private static uint GetRegister(CpuCore cpu, int n) => n switch
    {
        < 8 => cpu.R(n),
        Regs.Eip => cpu.Eip,
        Regs.Eflags => cpu.GetEflags(),
        >= Regs.Cs and < Regs.St0 => cpu.Seg(SegmentIndex(n)).Selector,
        Regs.FsBase => cpu.Seg(SegReg.FS).Base,
        Regs.GsBase => cpu.Seg(SegReg.GS).Base,
        Regs.Cr0 => cpu.Cr0,
        Regs.Cr0 + 1 => cpu.Cr2,
        Regs.Cr0 + 2 => cpu.Cr3,
        Regs.Cr0 + 3 => cpu.Cr4,
        _ => 0,
    };

    private static int SegmentIndex(int n) => SegmentOrder[n - Regs.Cs] switch
    {
        "cs" => SegReg.CS,
        "ss" => SegReg.SS,
        "ds" => SegReg.DS,
        "es" => SegReg.ES,
        "fs" => SegReg.FS,
        _ => SegReg.GS,
    };

    /// <summary>
    /// Sets a register. General registers, EIP, EFLAGS and the segment bases can be written;
    /// selectors and control registers are read-only here (loading them has side effects a
    /// debugger write should not bypass), and writes to them are ignored.
    /// </summary>
    private static void SetRegister(CpuCore cpu, int n, uint v)
    {
        switch (n)
        {
            case < 8:
                cpu.R(n) = v;
                break;
            case Regs.Eip:
                cpu.Eip = v;
                break;
            case Regs.Eflags:
                cpu.SetEflags(v);
                break;
            case Regs.FsBase:
                cpu.Seg(SegReg.FS).Base = v;
                break;
            case Regs.GsBase:
                cpu.Seg(SegReg.GS).Base = v;
                break;
        }
    }

    private static byte[] ReadRegisters(CpuCore cpu)
    {
        var bytes = new List<byte>();
        for (int n = 0; n < Regs.Count; n++)
        {
            var b = new byte[RegSize(n)];
            if (b.Length == 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(b, GetRegister(cpu, n));
            }

            bytes.AddRange(b);
        }

        return [.. bytes];
    }

    private static void WriteRegisters(CpuCore cpu, byte[] data)
    {
        int pos = 0;
        for (int n = 0; n < Regs.Count && pos + RegSize(n) <= data.Length; n++)
        {
            if (RegSize(n) == 4 && GetRegister(cpu, n) != BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos)))
            {
                SetRegister(cpu, n, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos)));
            }

            pos += RegSize(n);
        }
    }

    private static string ReadRegister(CpuCore cpu, int n)
    {
        if (n < 0 || n >= Regs.Count)
        {
            return "E00";
        }

        var b = new byte[RegSize(n)];
        if (b.Length == 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, GetRegister(cpu, n));
        }

        return ToHex(b);
    }

    private static string WriteRegister(CpuCore cpu, int n, byte[] value)
    {
        if (n < 0 || n >= Regs.Count || value.Length != RegSize(n))
        {
            return "E00";
        }

        if (value.Length == 4)
        {
            SetRegister(cpu, n, BinaryPrimitives.ReadUInt32LittleEndian(value));
        }

        return "OK";
    }

    /// <summary>`m addr,length`: linear addresses through the selected thread's CPU; E14 when nothing is mapped.</summary>
    private string ReadMemory(string args)
    {
        int comma = args.IndexOf(',');
        if (comma < 0)
        {
            return "E01";
        }

        uint addr = ParseHex(args[..comma]);
        int length = (int)Math.Min(ParseHex(args[(comma + 1)..]), (MaxPacket / 2) - 8);
        var buffer = new byte[length];
        int n = 0;
        while (n < length && Current.DebugRead(addr + (uint)n, buffer.AsSpan(n, 1)))
        {
            n++;
        }

        return n == 0 && length > 0 ? "E14" : ToHex(buffer.AsSpan(0, n));
    }

    /// <summary>`M addr,length:hex` and `X addr,length:binary`: written to RAM through the selected CPU's page tables.</summary>
    private string WriteMemory(string args, bool binary)
    {
        int comma = args.IndexOf(',');
        int colon = args.IndexOf(':');
        if (comma < 0 || colon < comma)
        {
            return "E01";
        }

        uint addr = ParseHex(args[..comma]);
        int length = (int)ParseHex(args[(comma + 1)..colon]);
        byte[] data = binary ? Unescape(args[(colon + 1)..]) : FromHex(args[(colon + 1)..]);
        if (data.Length != length)
        {
            return "E01";
        }

        var phys = new uint[length];
        for (int i = 0; i < length; i++)
        {
            if (!Current.DebugTranslate(addr + (uint)i, out phys[i]) || !M.Memory.Contains(phys[i], 1) || M.Bus.FindDevice(phys[i]) is not null)
            {
                return "E14";
            }
        }

        for (int i = 0; i < length; i++)
        {
            M.Memory.Write(phys[i], data.AsSpan(i, 1));
        }

        return "OK";
    }

    private static byte[] Unescape(string s)
    {
        var bytes = new List<byte>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '}' && i + 1 < s.Length)
            {
                bytes.Add((byte)(s[++i] ^ 0x20));
            }
            else
            {
                bytes.Add((byte)s[i]);
            }
        }

        return [.. bytes];
    }
}
