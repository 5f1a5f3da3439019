namespace Emulator.Cpu.Segmentation;

/// <summary>
/// Field access on a raw 8-byte segment or gate descriptor (SDM Vol. 3, 3.4.5 and 6.11), as read
/// from the GDT, LDT or IDT: the low dword is bits 0-31, the high dword bits 32-63.
/// </summary>
public static class Descriptor
{
    /// <summary>The accessed bit of a code/data descriptor (type bit 0).</summary>
    public const ulong AccessedBit = 1UL << 40;

    /// <summary>The busy bit of a TSS descriptor (type bit 1).</summary>
    public const ulong BusyBit = 1UL << 41;

    // System descriptor types (S = 0).
    public const int Tss16Available = 1;
    public const int Ldt = 2;
    public const int Tss16Busy = 3;
    public const int CallGate16 = 4;
    public const int TaskGate = 5;
    public const int InterruptGate16 = 6;
    public const int TrapGate16 = 7;
    public const int Tss32Available = 9;
    public const int Tss32Busy = 11;
    public const int CallGate32 = 12;
    public const int InterruptGate32 = 14;
    public const int TrapGate32 = 15;

    /// <summary>The 4-bit type field.</summary>
    public static int Type(ulong d) => (int)(d >> 40) & 0xF;

    /// <summary>S bit: a code or data segment (as opposed to a system descriptor or gate).</summary>
    public static bool IsCodeOrData(ulong d) => (d & (1UL << 44)) != 0;

    public static bool IsCode(ulong d) => (d & (3UL << 43)) == (3UL << 43);

    public static bool IsData(ulong d) => (d & (3UL << 43)) == (1UL << 44);

    /// <summary>Conforming (for code) — the C/E bit, which means expand-down for data.</summary>
    public static bool IsConformingCode(ulong d) => IsCode(d) && (d & (1UL << 42)) != 0;

    public static bool IsReadableCode(ulong d) => IsCode(d) && (d & (1UL << 41)) != 0;

    public static bool IsWritableData(ulong d) => IsData(d) && (d & (1UL << 41)) != 0;

    public static int Dpl(ulong d) => (int)(d >> 45) & 3;

    public static bool Present(ulong d) => (d & (1UL << 47)) != 0;

    public static uint Base(ulong d) => SegmentCache.DescriptorBase(d);

    /// <summary>The byte-granular limit (scaled by G).</summary>
    public static uint Limit(ulong d) => SegmentCache.DescriptorLimit(d);

    /// <summary>A gate's target selector (call, interrupt, trap gates) or TSS selector (task gates).</summary>
    public static ushort GateSelector(ulong d) => (ushort)(d >> 16);

    /// <summary>A gate's 32-bit target offset (the high half is zero for 16-bit gates by convention, masked by callers).</summary>
    public static uint GateOffset(ulong d) => (uint)(d & 0xFFFF) | (uint)((d >> 32) & 0xFFFF0000);

    /// <summary>A call gate's parameter count (bits 32-36).</summary>
    public static int GateParamCount(ulong d) => (int)(d >> 32) & 0x1F;

    public static bool IsAvailableTss(int type) => type is Tss16Available or Tss32Available;

    public static bool IsBusyTss(int type) => type is Tss16Busy or Tss32Busy;

    /// <summary>Builds a code/data or system segment descriptor (for tests and firmware set-up).</summary>
    /// <param name="baseAddress">Linear base.</param>
    /// <param name="limit">The raw 20-bit limit field (in 4 KiB units when <paramref name="flags"/> has G).</param>
    /// <param name="access">Access byte: P, DPL, S, type.</param>
    /// <param name="flags">Flags nibble: G (8), D/B (4), L (2), AVL (1).</param>
    public static ulong Build(uint baseAddress, uint limit, byte access, byte flags) =>
        (limit & 0xFFFF) |
        ((ulong)(baseAddress & 0xFFFFFF) << 16) |
        ((ulong)access << 40) |
        ((ulong)((limit >> 16) & 0xF) << 48) |
        ((ulong)(flags & 0xF) << 52) |
        ((ulong)(baseAddress >> 24) << 56);

    /// <summary>Builds a gate descriptor (call, interrupt, trap or task gate).</summary>
    public static ulong Gate(int type, ushort selector, uint offset, int dpl, int paramCount = 0) =>
        (offset & 0xFFFF) |
        ((ulong)selector << 16) |
        ((ulong)(paramCount & 0x1F) << 32) |
        ((ulong)(0x80 | (dpl << 5) | type) << 40) |
        ((ulong)(offset >> 16) << 48);
}
