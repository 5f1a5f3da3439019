using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Emulator.Memory;

namespace Emulator.Tests.Cpu;

/// <summary>
/// System structures for tests that need exceptions delivered or paging: a flat GDT, an IDT
/// whose every gate leads to a HLT, identity page tables, a real-mode IVT.
/// </summary>
public static class TestSystem
{
    public const uint Gdt = 0x1000;
    public const uint Idt = 0x2000;

    /// <summary>Where every exception handler installed by <see cref="InstallFaultHandlers"/> lands: a HLT.</summary>
    public const uint FaultHandler = 0x3000;

    /// <summary>IDT entries installed: the exceptions and the first 16 interrupt vectors.</summary>
    public const uint VectorCount = 48;

    public const uint PageDirectory = 0x100000;
    public const uint PageTable = 0x101000;

    /// <summary>
    /// Flat protected mode (as <see cref="CpuHarness.Flat32"/> sets up): a GDT with code 0x08 and
    /// data 0x10 and an IDT sending vectors 0-47 to a HLT at <see cref="FaultHandler"/>.
    /// </summary>
    public static void InstallFaultHandlers(CpuHarness h)
    {
        var m = h.Memory;
        m.Write(Gdt, new byte[8]);
        m.Write(Gdt + 8, BitConverter.GetBytes(0x00CF9B000000FFFFUL));
        m.Write(Gdt + 16, BitConverter.GetBytes(0x00CF93000000FFFFUL));
        for (uint v = 0; v < VectorCount; v++)
        {
            ulong gate = (FaultHandler & 0xFFFF) | (0x08UL << 16) | (0x8EUL << 40) | ((ulong)(FaultHandler >> 16) << 48);
            m.Write(Idt + (v * 8), BitConverter.GetBytes(gate));
        }

        m.Write8(FaultHandler, 0xF4);
        h.Cpu.Gdtr = new DescriptorTableRegister(Gdt, 23);
        h.Cpu.Idtr = new DescriptorTableRegister(Idt, (ushort)((VectorCount * 8) - 1));
    }

    /// <summary>Identity-maps the first 4 MiB with supervisor read/write pages and turns paging on.</summary>
    public static void EnablePaging(CpuHarness h)
    {
        var m = h.Memory;
        m.Write32(PageDirectory, PageTable | 3);
        var table = new byte[4096];
        for (uint i = 0; i < 1024; i++)
        {
            BitConverter.GetBytes((i << 12) | 3).CopyTo(table, (int)(i * 4));
        }

        m.Write(PageTable, table);
        h.Cpu.Cr3 = PageDirectory;
        h.Cpu.Cr0 |= Cr0Bits.PG;
        h.Cpu.FlushTlb(true);
    }

    /// <summary>Points the page-table entry of <paramref name="linear"/> at <paramref name="phys"/> (0 flags = not present) and flushes the TLB.</summary>
    public static void Map(CpuHarness h, uint linear, uint phys, uint flags = 3)
    {
        h.Memory.Write32(PageTable + ((linear >> 12) * 4), (phys & ~0xFFFu) | flags);
        h.Cpu.FlushTlb(true);
    }

    /// <summary>Runs to a HLT; a shutdown (say, a triple fault after an unimplemented opcode) fails the test.</summary>
    public static void RunToHlt(CpuHarness h)
    {
        h.RunToHalt();
        Assert.True(h.Cpu.State == RunState.Halted, $"CPU stopped in state {h.Cpu.State}: {h.Cpu.Shutdown}");
        Assert.Empty(h.Cpu.Unimplemented);
    }

    /// <summary>Real mode: every IVT entry 0-31 points at a HLT at 0000:<see cref="FaultHandler"/>.</summary>
    public static void InstallRealModeFaultHandlers(CpuHarness h)
    {
        for (uint v = 0; v < 32; v++)
        {
            h.Memory.Write32(v * 4, FaultHandler);
        }

        h.Memory.Write8(FaultHandler, 0xF4);
    }

    /// <summary>A data segment with the given base and limit (present, writable, 32-bit or 16-bit).</summary>
    public static SegmentCache DataSegment(uint @base, uint limit, bool big = true)
    {
        var s = new SegmentCache
        {
            Selector = 0x10,
            Base = @base,
            Limit = limit,
            AccessRights = 0x93,
            Flags = big ? (byte)0x4 : (byte)0,
            Valid = true,
        };
        s.UpdateAccessBounds();
        return s;
    }

    /// <summary>
    /// After a fault delivered through a 32-bit gate at CPL 0 (error code pushed): removes the
    /// frame and puts EIP back at the faulting instruction, ready to run again.
    /// </summary>
    public static void ReturnFromFault32(CpuHarness h, bool errorCode)
    {
        var c = h.Cpu;
        uint frame = c.Esp + (errorCode ? 4u : 0u);
        c.Eip = h.Memory.Read32(frame);
        c.SetEflags(h.Memory.Read32(frame + 8));
        c.Esp = frame + 12;
        c.State = RunState.Running;
    }
}

/// <summary>A port device that records writes and answers reads from a queue.</summary>
public sealed class RecordingPort : IPortDevice
{
    public List<(ushort Port, int Size, uint Value)> Writes { get; } = [];

    public Queue<uint> Reads { get; } = new();

    public uint In(ushort port, int size) => Reads.Count > 0 ? Reads.Dequeue() : 0xEE;

    public void Out(ushort port, int size, uint value) => Writes.Add((port, size, value));
}
