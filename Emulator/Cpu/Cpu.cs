using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Emulator.Cpu.Decode;
using Emulator.Cpu.Segmentation;
using Emulator.Memory;

namespace Emulator.Cpu;

/// <summary>General register numbers (ModRM order).</summary>
public static class Reg
{
    public const int EAX = 0;
    public const int ECX = 1;
    public const int EDX = 2;
    public const int EBX = 3;
    public const int ESP = 4;
    public const int EBP = 5;
    public const int ESI = 6;
    public const int EDI = 7;

    /// <summary>A register slot that always reads 0: micro-ops use it for "no base" / "no index".</summary>
    public const int Zero = 8;

    public static readonly string[] Names32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
}

/// <summary>What a virtual CPU is doing, as the scheduler sees it.</summary>
public enum RunState : byte
{
    Running,

    /// <summary>After HLT: sleeps until an interrupt (or NMI/INIT) reaches it.</summary>
    Halted,

    /// <summary>An application processor waiting for a STARTUP IPI.</summary>
    WaitForSipi,

    /// <summary>Triple fault or an emulator-level stop: the CPU does nothing more.</summary>
    Shutdown,
}

/// <summary>
/// One virtual x86-32 CPU: registers, lazy flags, segment caches, control and system registers,
/// a software TLB and the interpreter loop. It knows nothing about the CLI or the scheduler:
/// the machine calls <see cref="Run"/> with a cycle budget.
/// </summary>
public sealed unsafe partial class Cpu
{
    // Registers live inline in the CPU object (an inline array addressed without bounds checks):
    // 8 GPRs plus a zero slot, so micro-ops can compute base + (index << scale) + disp
    // branch-free. Inline rather than a separate array so that a register access is one load
    // at a fixed offset from the CPU reference, with no array-reference load and null check
    // (measured: these were a large share of every handler's instructions).
    private RegisterFile _regs;
    private SegmentFile _segs;

    public Cpu(int id, MemoryBus bus, IoPortBus io, CodeCache codeCache)
    {
        Id = id;
        Bus = bus;
        Io = io;
        Code = codeCache;
        RamBase = bus.RamBase;
        RamSize = bus.RamSize;
        codeCache.Attach(this);
        FlushTlb(true);
        Reset();
    }

    /// <summary>Family 6 (P6), model 3, stepping 3: the value in EDX after RESET and in CPUID leaf 1 EAX.</summary>
    public const uint ProcessorSignature = 0x00000633;

    public int Id { get; }

    public MemoryBus Bus { get; }

    public IoPortBus Io { get; }

    public CodeCache Code { get; }

    internal readonly byte* RamBase;
    internal readonly uint RamSize;

    /// <summary>Instruction pointer (offset in CS) of the next instruction to run.</summary>
    public uint Eip;

    public uint Cr0;
    public uint Cr2;
    public uint Cr3;
    public uint Cr4;
    public readonly uint[] Dr = new uint[8];

    /// <summary>Current privilege level (CS.RPL in protected mode, 0 in real mode, 3 in V86).</summary>
    public int Cpl;

    public DescriptorTableRegister Gdtr;
    public DescriptorTableRegister Idtr;
    public SegmentCache Ldtr;
    public SegmentCache Tr;

    public RunState State;

    /// <summary>This CPU's own clock, in cycles.</summary>
    public long Cycles;

    /// <summary>Instructions retired.</summary>
    public long Instructions;

    /// <summary>Set by anything that needs the interpreter loop to leave the current block after this instruction.</summary>
    public bool ExitRequested;

    /// <summary>Interrupts are inhibited for one instruction (after STI or MOV/POP SS).</summary>
    public bool InterruptShadow;

    /// <summary>Model-specific registers the CPU stores without further effect.</summary>
    public readonly Dictionary<uint, ulong> Msrs = [];

    /// <summary>Counts of opcodes that raised #UD because the core does not implement them, by mnemonic.</summary>
    public readonly Dictionary<string, long> Unimplemented = [];

    /// <summary>Optional source of external interrupts (the local APIC / PIC wiring).</summary>
    public IInterruptSource? Interrupts;

    public bool ProtectedMode => (Cr0 & 1) != 0;

    public bool PagingEnabled => (Cr0 & 0x80000001) == 0x80000001;

    /// <summary>True when CS's D bit selects 32-bit code.</summary>
    public bool Code32 => Seg(SegReg.CS).DefaultBig;

    /// <summary>Stack width: SS.B selects 32-bit ESP.</summary>
    public bool Stack32 => Seg(SegReg.SS).DefaultBig;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref uint R(int index) => ref Unsafe.Add(ref Unsafe.As<RegisterFile, uint>(ref _regs), index);

    /// <summary>A register by byte offset into the register file (8-bit AH is offset 1, EBX is 12).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref byte RegByte(int byteOffset) =>
        ref Unsafe.Add(ref Unsafe.As<RegisterFile, byte>(ref _regs), byteOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref ushort RegWord(int byteOffset) => ref Unsafe.As<byte, ushort>(ref RegByte(byteOffset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref uint RegDword(int byteOffset) => ref Unsafe.As<byte, uint>(ref RegByte(byteOffset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref SegmentCache Seg(int index) => ref Unsafe.Add(ref Unsafe.As<SegmentFile, SegmentCache>(ref _segs), index);

    public uint Eax { get => R(Reg.EAX); set => R(Reg.EAX) = value; }

    public uint Ecx { get => R(Reg.ECX); set => R(Reg.ECX) = value; }

    public uint Edx { get => R(Reg.EDX); set => R(Reg.EDX) = value; }

    public uint Ebx { get => R(Reg.EBX); set => R(Reg.EBX) = value; }

    public uint Esp { get => R(Reg.ESP); set => R(Reg.ESP) = value; }

    public uint Ebp { get => R(Reg.EBP); set => R(Reg.EBP) = value; }

    public uint Esi { get => R(Reg.ESI); set => R(Reg.ESI) = value; }

    public uint Edi { get => R(Reg.EDI); set => R(Reg.EDI) = value; }

    /// <summary>The power-on / RESET state (SDM Vol. 3, table 9-1), except that EIP/CS are set by the caller.</summary>
    public void Reset()
    {
        _regs = default;
        Edx = ProcessorSignature;
        SetEflags(EFlags.Reserved1);
        Cr0 = 0x60000010;
        Cr2 = Cr3 = Cr4 = 0;
        Array.Clear(Dr);
        Dr[6] = 0xFFFF0FF0;
        Dr[7] = 0x00000400;
        _debugTrapBits = 0;
        MovSsShadow = false;
        UpdateDebugArming();
        for (int i = 0; i < SegReg.Count; i++)
        {
            Seg(i) = SegmentCache.PowerOnData();
        }

        Seg(SegReg.CS) = SegmentCache.RealModeData(0xF000);
        Seg(SegReg.CS).Base = 0xFFFF0000;
        Seg(SegReg.CS).UpdateAccessBounds();
        Eip = 0xFFF0;
        Gdtr = new DescriptorTableRegister(0, 0xFFFF);
        Idtr = new DescriptorTableRegister(0, 0xFFFF);
        Ldtr = default;
        Ldtr.Limit = 0xFFFF;
        Ldtr.AccessRights = 0x82;
        Tr = default;
        Tr.Limit = 0xFFFF;
        Tr.AccessRights = 0x8B;
        Cpl = 0;
        State = RunState.Running;
        InterruptShadow = false;
        FaultAfterCommit = false;
        NmiBlocked = false;
        PendingVector = -1;
        _delivering = -1;
        Shutdown = null;
        Msrs.Clear();
        FlushTlb(true);
    }

    /// <summary>
    /// Puts the CPU in the state the Multiboot specification defines at kernel entry: protected
    /// mode without paging, flat 4 GiB code and data segments, IF = 0.
    /// </summary>
    public void SetMultibootEntryState(uint entry, uint eax, uint ebx)
    {
        Cr0 = (Cr0 | 1) & ~0x80000000u;
        Cr0 &= ~0x60000000u; // caches enabled, as a boot loader leaves them
        Seg(SegReg.CS) = SegmentCache.Flat32(0x08, code: true);
        for (int s = 0; s < SegReg.Count; s++)
        {
            if (s != SegReg.CS)
            {
                Seg(s) = SegmentCache.Flat32(0x10, code: false);
            }
        }

        Cpl = 0;
        SetEflags(EFlags.Reserved1);
        Eax = eax;
        Ebx = ebx;
        Eip = entry;
        State = RunState.Running;
        FlushTlb(true);
    }
}

/// <summary>The general registers and the zero slot, stored inline in <see cref="Cpu"/>.</summary>
[InlineArray(9)]
internal struct RegisterFile
{
    private uint _element;
}

/// <summary>The six segment descriptor caches, stored inline in <see cref="Cpu"/>.</summary>
[InlineArray(SegReg.Count)]
internal struct SegmentFile
{
    private SegmentCache _element;
}

/// <summary>GDTR/IDTR: a linear base and a 16-bit limit.</summary>
public record struct DescriptorTableRegister(uint Base, ushort Limit);

/// <summary>Where a CPU takes external interrupts from (its local APIC, or the PIC in a uniprocessor set-up).</summary>
public interface IInterruptSource
{
    /// <summary>True when a maskable interrupt is waiting to be acknowledged.</summary>
    bool HasPendingInterrupt { get; }

    /// <summary>Acknowledges the highest-priority pending interrupt and returns its vector.</summary>
    int AcknowledgeInterrupt();
}
