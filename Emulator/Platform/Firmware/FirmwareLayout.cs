namespace Emulator.Platform.Firmware;

/// <summary>A physical memory range the firmware owns, [<see cref="Start"/>, <see cref="End"/>).</summary>
public readonly record struct FirmwareRegion(uint Start, uint Length, string Name)
{
    public uint End => Start + Length;

    public bool Contains(uint address, uint length) => address >= Start && (ulong)address + length <= End;
}

/// <summary>Where <see cref="FirmwareTables.Build(Memory.PhysicalMemory, FirmwareOptions)"/> put things.</summary>
public sealed class FirmwareLayout
{
    internal FirmwareLayout(
        int cpuCount,
        uint mpFloatingPointer,
        uint mpConfigTable,
        int mpConfigTableLength,
        uint rsdp,
        uint rsdt,
        uint madt,
        int madtLength,
        IReadOnlyList<FirmwareRegion> reservedRegions)
    {
        CpuCount = cpuCount;
        MpFloatingPointer = mpFloatingPointer;
        MpConfigTable = mpConfigTable;
        MpConfigTableLength = mpConfigTableLength;
        Rsdp = rsdp;
        Rsdt = rsdt;
        Madt = madt;
        MadtLength = madtLength;
        ReservedRegions = reservedRegions;
    }

    public int CpuCount { get; }

    /// <summary>Conventional memory the BIOS data area reports (0x413), in KiB: everything below the EBDA.</summary>
    public uint BaseMemoryKib => FirmwareTables.BaseMemoryKib;

    /// <summary>The extended BIOS data area (1 KiB below 640 KiB; its segment is at 0x40E).</summary>
    public uint Ebda => FirmwareTables.EbdaAddress;

    /// <summary>The MP floating pointer structure ("_MP_", 16 bytes).</summary>
    public uint MpFloatingPointer { get; }

    /// <summary>The MP configuration table ("PCMP").</summary>
    public uint MpConfigTable { get; }

    public int MpConfigTableLength { get; }

    /// <summary>The ACPI 1.0 root system description pointer ("RSD PTR ", 20 bytes).</summary>
    public uint Rsdp { get; }

    /// <summary>The ACPI root system description table ("RSDT").</summary>
    public uint Rsdt { get; }

    /// <summary>The ACPI multiple APIC description table ("APIC").</summary>
    public uint Madt { get; }

    public int MadtLength { get; }

    /// <summary>
    /// The ranges a memory map must report as reserved: the EBDA (0x9FC00-0x9FFFF) and the BIOS
    /// area holding the tables (0xF0000-0xFFFFF), as QEMU's e820 map does. The BIOS data area
    /// (0x400-0x4FF) is not among them: like QEMU, the map reports the first 639 KiB as available.
    /// </summary>
    public IReadOnlyList<FirmwareRegion> ReservedRegions { get; }
}
