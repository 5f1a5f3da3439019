namespace Emulator.Memory;

/// <summary>
/// The fixed holes of a PC's physical address space that RAM does not answer in, and that a
/// loaded image must not overlap: legacy VGA memory and option/BIOS ROM below 1 MiB, and the
/// IOAPIC and local APIC windows near 4 GiB.
/// </summary>
public static class PhysicalMap
{
    public const uint VgaStart = 0x000A0000;
    public const uint BiosRomEnd = 0x00100000;
    public const uint IoApicBase = 0xFEC00000;
    public const uint LocalApicBase = 0xFEE00000;

    /// <summary>The device holes, as [start, end) pairs, in address order.</summary>
    public static ReadOnlySpan<(uint Start, uint End, string Name)> Holes => _holes;

    private static readonly (uint, uint, string)[] _holes =
    [
        (VgaStart, BiosRomEnd, "the VGA/BIOS ROM hole (0xA0000-0xFFFFF)"),
        (IoApicBase, IoApicBase + 0x1000, "the IOAPIC window"),
        (LocalApicBase, LocalApicBase + 0x1000, "the local APIC window"),
    ];

    /// <summary>Returns the name of the first device hole that [start, start+length) overlaps, or null.</summary>
    public static string? OverlappedHole(ulong start, ulong length)
    {
        ulong end = start + length;
        foreach (var (s, e, name) in _holes)
        {
            if (start < e && end > s)
            {
                return name;
            }
        }

        return null;
    }
}
