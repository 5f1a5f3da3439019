using Emulator.Cpu;
using Emulator.Cpu.Decode;
using Emulator.Cpu.Segmentation;
using Emulator.Memory;
using Iced.Intel;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Tests.Cpu;

/// <summary>
/// A bare CPU with RAM for unit tests: code is assembled with Iced's Assembler at a fixed
/// address, run until HLT, and then registers, flags, memory and delivered faults are inspected.
/// </summary>
public sealed class CpuHarness : IDisposable
{
    public const uint CodeBase = 0x10000;
    public const uint StackTop = 0x80000;
    public const uint DataBase = 0x20000;

    public CpuHarness(uint memory = 4 << 20)
    {
        Memory = new PhysicalMemory(memory);
        Bus = new MemoryBus(Memory);
        Io = new IoPortBus();
        Code = new CodeCache(Bus);
        Cpu = new CpuCore(0, Bus, Io, Code);
    }

    public PhysicalMemory Memory { get; }

    public MemoryBus Bus { get; }

    public IoPortBus Io { get; }

    public CodeCache Code { get; }

    public CpuCore Cpu { get; }

    /// <summary>Assembles 32-bit code at <paramref name="at"/> into RAM and sets up flat protected mode (the Multiboot entry state).</summary>
    public static CpuHarness Flat32(Action<Assembler> code, uint at = CodeBase)
    {
        var h = new CpuHarness();
        h.Load(32, at, code);
        h.Cpu.SetMultibootEntryState(at, 0, 0);
        h.Cpu.Esp = StackTop;
        return h;
    }

    /// <summary>Assembles 16-bit code and starts it in real mode at 0000:<paramref name="at"/> with SS:SP = 0:0x8000.</summary>
    public static CpuHarness Real16(Action<Assembler> code, uint at = 0x1000)
    {
        var h = new CpuHarness();
        h.Load(16, at, code);
        var c = h.Cpu;
        c.Reset();
        c.Seg(SegReg.CS) = SegmentCache.RealModeData(0);
        c.Eip = at;
        c.Esp = 0x8000;
        return h;
    }

    public byte[] Load(int bitness, uint at, Action<Assembler> code)
    {
        var a = new Assembler(bitness);
        code(a);
        var writer = new BytesWriter();
        a.Assemble(writer, at);
        Memory.Write(at, writer.Bytes.ToArray());
        return writer.Bytes.ToArray();
    }

    /// <summary>Runs until the CPU halts (or shuts down); fails the test when the budget runs out.</summary>
    public long RunToHalt(long maxInstructions = 1_000_000)
    {
        long n = Cpu.Run(long.MaxValue, maxInstructions);
        Assert.True(Cpu.State != RunState.Running, $"guest did not halt within {maxInstructions} instructions (EIP=0x{Cpu.Eip:x})");
        Assert.True(Cpu.State == RunState.Halted, $"guest shut down instead of halting: {Cpu.Shutdown}");
        Assert.Empty(Cpu.Unimplemented);
        return n;
    }

    public uint Flags => Cpu.GetEflags();

    public void Dispose() => Memory.Dispose();

    private sealed class BytesWriter : CodeWriter
    {
        public List<byte> Bytes { get; } = [];

        public override void WriteByte(byte value) => Bytes.Add(value);
    }
}
