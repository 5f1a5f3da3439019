using System.Runtime.InteropServices;

namespace Emulator.Cpu.Segmentation;

/// <summary>Segment register numbers, in the encoding order of the ModRM reg field (and Iced's).</summary>
public static class SegReg
{
    public const int ES = 0;
    public const int CS = 1;
    public const int SS = 2;
    public const int DS = 3;
    public const int FS = 4;
    public const int GS = 5;
    public const int Count = 6;

    public static string Name(int seg) => seg switch
    {
        ES => "es",
        CS => "cs",
        SS => "ss",
        DS => "ds",
        FS => "fs",
        GS => "gs",
        _ => "?",
    };
}

/// <summary>
/// A segment register: the visible selector plus the hidden descriptor cache (SDM Vol. 3,
/// 3.4.3). Every memory access uses only this cache, so rewriting the descriptor in memory has
/// no effect until the register is reloaded.
///
/// Shaped for the per-access fast path: besides the architectural fields it holds precomputed
/// bounds for reads and for writes. An access of n bytes at offset off is allowed when
/// <c>(uint)(off - Lo) + (n - 1) &lt;= Span</c>, computed in 64 bits; Span = -1 encodes "no access
/// of this kind allowed" (null selector, execute-only code for reads, read-only data or code for
/// writes). The slow path then works out which exception the SDM asks for.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct SegmentCache
{
    public uint Base;

    /// <summary>The effective (byte-granular, G-scaled) limit.</summary>
    public uint Limit;

    public ushort Selector;

    /// <summary>Descriptor byte 5: P, DPL, S, type (as in the descriptor's access byte).</summary>
    public byte AccessRights;

    /// <summary>Descriptor flags nibble: G (bit 3), D/B (bit 2), L (bit 1), AVL (bit 0).</summary>
    public byte Flags;

    /// <summary>False for a null selector loaded in protected mode (the "unusable" state).</summary>
    public bool Valid;

    public uint ReadLo;
    public long ReadSpan;
    public uint WriteLo;
    public long WriteSpan;

    public readonly bool Present => (AccessRights & 0x80) != 0;

    public readonly int Dpl => (AccessRights >> 5) & 3;

    /// <summary>S bit: code or data segment (true) as opposed to a system descriptor.</summary>
    public readonly bool IsCodeOrData => (AccessRights & 0x10) != 0;

    public readonly bool IsCode => (AccessRights & 0x18) == 0x18;

    public readonly int Type => AccessRights & 0x0F;

    public readonly bool DefaultBig => (Flags & 0x4) != 0;

    public readonly bool Granularity => (Flags & 0x8) != 0;

    public readonly bool IsExpandDown => (AccessRights & 0x1C) == 0x14;

    /// <summary>Readable: any data segment, or code with the R bit.</summary>
    public readonly bool IsReadable => IsCodeOrData && (!IsCode || (AccessRights & 0x2) != 0);

    /// <summary>Writable: data segment with the W bit.</summary>
    public readonly bool IsWritable => IsCodeOrData && !IsCode && (AccessRights & 0x2) != 0;

    /// <summary>
    /// Recomputes the fast-path bounds from the architectural fields. <paramref name="anyType"/>
    /// grants reads and writes whatever the type (a real-mode load: as in Bochs, only the limit
    /// is checked for a register loaded in real mode).
    /// </summary>
    public void UpdateAccessBounds(bool anyType = false)
    {
        uint lo;
        uint hi;
        if (IsExpandDown)
        {
            // Expand-down: valid offsets are (limit, upper], upper = 0xFFFF or 0xFFFFFFFF by B.
            uint upper = DefaultBig ? 0xFFFFFFFFu : 0xFFFFu;
            lo = Limit + 1;
            hi = upper;
            if (Limit >= upper)
            {
                lo = 1;
                hi = 0;
            }
        }
        else
        {
            lo = 0;
            hi = Limit;
        }

        long span = lo > hi ? -1 : (long)hi - lo;
        bool usable = Valid && Present && IsCodeOrData;
        ReadLo = lo;
        WriteLo = lo;
        ReadSpan = usable && (anyType || IsReadable) ? span : -1;
        WriteSpan = usable && (anyType || IsWritable) ? span : -1;
    }

    /// <summary>
    /// Real-mode load: base = selector * 16 and the segment usable and present; the limit and
    /// the other attributes are kept, as on P6 and later processors (which is what makes
    /// "unreal mode" work: a 4 GiB limit loaded in protected mode survives the return to real mode).
    /// Accesses through the register then check only the limit, whatever the cached type.
    /// </summary>
    public void LoadRealMode(ushort selector)
    {
        Selector = selector;
        Base = (uint)selector << 4;
        AccessRights |= 0x90;
        Valid = true;
        UpdateAccessBounds(anyType: true);
    }

    /// <summary>Loads the cache from a raw 8-byte descriptor (no checks: the caller did them).</summary>
    public void LoadDescriptor(ushort selector, ulong descriptor)
    {
        Selector = selector;
        Base = DescriptorBase(descriptor);
        Limit = DescriptorLimit(descriptor);
        AccessRights = (byte)(descriptor >> 40);
        Flags = (byte)((descriptor >> 52) & 0xF);
        Valid = true;
        UpdateAccessBounds();
    }

    /// <summary>The protected-mode null-selector load: the register becomes unusable.</summary>
    public void LoadNull(ushort selector)
    {
        Selector = selector;
        Valid = false;
        UpdateAccessBounds();
    }

    public static uint DescriptorBase(ulong d) =>
        (uint)(((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24));

    public static uint DescriptorLimit(ulong d)
    {
        uint raw = (uint)((d & 0xFFFF) | (((d >> 48) & 0xF) << 16));
        return ((d >> 55) & 1) != 0 ? (raw << 12) | 0xFFF : raw;
    }

    /// <summary>The power-on state of a data segment register (SDM Vol. 3, 9.1.1).</summary>
    public static SegmentCache PowerOnData() => RealModeData(0);

    public static SegmentCache RealModeData(ushort selector)
    {
        var s = new SegmentCache
        {
            Selector = selector,
            Base = (uint)selector << 4,
            Limit = 0xFFFF,
            AccessRights = 0x93, // present, DPL 0, data, read/write, accessed
            Flags = 0,
            Valid = true,
        };
        s.UpdateAccessBounds();
        return s;
    }

    /// <summary>A flat 4 GiB segment as the Multiboot entry state requires.</summary>
    public static SegmentCache Flat32(ushort selector, bool code)
    {
        var s = new SegmentCache
        {
            Selector = selector,
            Base = 0,
            Limit = 0xFFFFFFFF,
            AccessRights = code ? (byte)0x9B : (byte)0x93,
            Flags = 0xC,
            Valid = true,
        };
        s.UpdateAccessBounds();
        return s;
    }
}
