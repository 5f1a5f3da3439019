using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;

namespace Emulator.Tests.Cpu;

/// <summary>Test code that marks one instruction (usually the one expected to fault) with a label.</summary>
public delegate void MarkedCode(Assembler asm, ref Label mark);

/// <summary>An exception the guest took: its vector, error code (when the vector has one) and the return frame.</summary>
public readonly record struct CaughtException(int Vector, uint? ErrorCode, uint Eip, uint Cs, uint Eflags);

/// <summary>
/// Builds <see cref="CpuHarness"/> instances that can take exceptions: a flat protected-mode GDT and
/// IDT, or the real-mode IVT, whose handlers record the vector in memory and halt without touching
/// any register or flag, so a test can check the faulting state and the exception frame. The
/// handlers write through SS, so a test may give DS a read-only or limited segment.
/// </summary>
public static class ExceptionHarness
{
    public const uint GdtBase = 0x5000;
    public const uint IdtBase = 0x5100;
    public const uint StubBase = 0x6000;
    public const uint Record = 0x6F00;

    public const uint RealStubBase = 0x0500;
    public const uint RealRecord = 0x0700;

    /// <summary>The record's value while no exception has been taken.</summary>
    public const uint None = 0xFFFFFFFF;

    private const int Vectors = 32;

    /// <summary>Flat 32-bit protected mode (CS = 0x08, data 0x10) with a GDT and an IDT of interrupt gates.</summary>
    public static CpuHarness Flat32(MarkedCode code, out uint markEip, uint at = CpuHarness.CodeBase)
    {
        var h = new CpuHarness();
        markEip = Assemble(h, 32, at, code);
        h.Cpu.SetMultibootEntryState(at, 0, 0);
        h.Cpu.Esp = CpuHarness.StackTop;
        InstallProtectedMode(h);
        return h;
    }

    /// <summary>Real mode at 0000:<paramref name="at"/> (SS:SP = 0:0x8000) with IVT handlers.</summary>
    public static CpuHarness Real16(MarkedCode code, out uint markIp, uint at = 0x1000)
    {
        var h = new CpuHarness();
        markIp = Assemble(h, 16, at, code);
        var c = h.Cpu;
        c.Reset();
        c.Seg(SegReg.CS) = SegmentCache.RealModeData(0);
        c.Eip = at;
        c.Esp = 0x8000;
        InstallRealMode(h);
        return h;
    }

    public static void InstallProtectedMode(CpuHarness h)
    {
        var m = h.Memory;
        m.Write(GdtBase, BitConverter.GetBytes(0UL));
        m.Write(GdtBase + 8, BitConverter.GetBytes(0x00CF9B000000FFFFUL)); // 0x08: flat 32-bit code
        m.Write(GdtBase + 16, BitConverter.GetBytes(0x00CF93000000FFFFUL)); // 0x10: flat data
        h.Cpu.Gdtr = new DescriptorTableRegister(GdtBase, 3 * 8 - 1);
        for (uint v = 0; v < Vectors; v++)
        {
            uint stub = StubBase + (v * 16);

            // mov dword ss:[Record], v ; hlt (SS, so that tests may make DS unusable)
            byte[] code = [0x36, 0xC7, 0x05, .. BitConverter.GetBytes(Record), .. BitConverter.GetBytes(v), 0xF4];
            m.Write(stub, code);
            ulong gate = (stub & 0xFFFF) | (0x08UL << 16) | (0x8EUL << 40) | ((ulong)(stub >> 16) << 48);
            m.Write(IdtBase + (v * 8), BitConverter.GetBytes(gate));
        }

        h.Cpu.Idtr = new DescriptorTableRegister(IdtBase, Vectors * 8 - 1);
        m.Write32(Record, None);
    }

    public static void InstallRealMode(CpuHarness h)
    {
        var m = h.Memory;
        for (uint v = 0; v < Vectors; v++)
        {
            uint stub = RealStubBase + (v * 8);

            // mov word ss:[RealRecord], v ; hlt
            byte[] code = [0x36, 0xC7, 0x06, .. BitConverter.GetBytes((ushort)RealRecord), .. BitConverter.GetBytes((ushort)v), 0xF4];
            m.Write(stub, code);
            m.Write32(v * 4, stub); // segment 0
        }

        h.Cpu.Idtr = new DescriptorTableRegister(0, 0x3FF);
        m.Write32(RealRecord, None);
    }

    /// <summary>The exception the protected-mode handlers recorded, or null when none was taken.</summary>
    public static CaughtException? Caught32(CpuHarness h)
    {
        uint v = h.Memory.Read32(Record);
        if (v == None)
        {
            return null;
        }

        uint sp = h.Cpu.Esp;
        uint? code = null;
        if (v is 8 or 10 or 11 or 12 or 13 or 14 or 17)
        {
            code = h.Memory.Read32(sp);
            sp += 4;
        }

        return new CaughtException((int)v, code, h.Memory.Read32(sp), h.Memory.Read32(sp + 4), h.Memory.Read32(sp + 8));
    }

    /// <summary>The exception the real-mode handlers recorded (IP, CS and FLAGS from the 16-bit frame).</summary>
    public static CaughtException? Caught16(CpuHarness h)
    {
        uint v = h.Memory.Read32(RealRecord);
        if (v == None)
        {
            return null;
        }

        uint sp = h.Cpu.Esp & 0xFFFF; // SS base is 0 in these tests
        return new CaughtException((int)(v & 0xFFFF), null, h.Memory.Read16(sp), h.Memory.Read16(sp + 2), h.Memory.Read16(sp + 4));
    }

    private static uint Assemble(CpuHarness h, int bitness, uint at, MarkedCode code)
    {
        var asm = new Assembler(bitness);
        var mark = asm.CreateLabel();
        code(asm, ref mark);
        var writer = new BytesWriter();
        var result = asm.Assemble(writer, at, BlockEncoderOptions.ReturnNewInstructionOffsets);
        h.Memory.Write(at, writer.Bytes.ToArray());
        return (uint)result.GetLabelRIP(mark);
    }

    private sealed class BytesWriter : CodeWriter
    {
        public List<byte> Bytes { get; } = [];

        public override void WriteByte(byte value) => Bytes.Add(value);
    }
}
