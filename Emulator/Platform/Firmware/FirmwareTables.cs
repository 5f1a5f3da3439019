using Emulator.Memory;

namespace Emulator.Platform.Firmware;

/// <summary>
/// Writes what a PC BIOS leaves in memory for an operating system to find the machine's CPUs and
/// interrupt wiring without being told, as SeaBIOS does under QEMU: the BIOS data area fields,
/// the extended BIOS data area, an Intel MP 1.4 table and ACPI 1.0 RSDP/RSDT/MADT tables.
/// </summary>
/// <remarks>
/// <para>
/// BIOS data area: 0x400 COM1 base port (0x3F8), 0x40E EBDA segment (0x9FC0), 0x413 base memory
/// size in KiB (639). EBDA: 1 KiB at 0x9FC00, its first byte its size in KiB (1), the rest zero.
/// </para>
/// <para>
/// The tables go to the start of the BIOS area 0xF0000-0xFFFFF (which Linux and other kernels
/// scan for both "_MP_" and "RSD PTR " on 16-byte boundaries), each on a 16-byte boundary, in this
/// order: RSDP at 0xF0000, MP floating pointer at 0xF0020, RSDT, MADT, MP configuration table.
/// The rest of the 64 KiB is zeroed. See docs/platform-devices.md for every field.
/// </para>
/// <para>
/// The memory written is RAM (this machine has no ROM), written through
/// <see cref="PhysicalMemory.Write(uint, ReadOnlySpan{byte})"/>; the machine must report
/// <see cref="FirmwareLayout.ReservedRegions"/> as reserved so the guest leaves them alone.
/// </para>
/// </remarks>
public static class FirmwareTables
{
    public const uint BdaCom1 = 0x400;
    public const uint BdaEbdaSegment = 0x40E;
    public const uint BdaBaseMemoryKib = 0x413;

    public const uint EbdaAddress = 0x9FC00;
    public const uint EbdaSize = 0x400;
    public const uint BaseMemoryKib = EbdaAddress / 1024;

    public const uint BiosAreaStart = 0xF0000;
    public const uint BiosAreaEnd = 0x100000;

    public const uint RsdpAddress = BiosAreaStart;
    public const uint MpFloatingPointerAddress = BiosAreaStart + 0x20;

    /// <summary>The OEM ID of the MP configuration table (8 characters).</summary>
    public const string OemId = "EMUPC";

    /// <summary>The product ID of the MP configuration table (12 characters).</summary>
    public const string ProductId = "SMP PC";

    /// <summary>The OEM ID (6 characters), OEM table ID (8) and creator ID (4) of the ACPI tables.</summary>
    public const string AcpiOemId = "EMUPC";
    public const string AcpiOemTableId = "EMUPC";
    public const string AcpiCreatorId = "EMPC";

    /// <summary>Builds the tables for <paramref name="cpuCount"/> CPUs with this machine's defaults.</summary>
    public static FirmwareLayout Build(PhysicalMemory memory, int cpuCount) =>
        Build(memory, new FirmwareOptions { CpuCount = cpuCount });

    public static FirmwareLayout Build(PhysicalMemory memory, FirmwareOptions options)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!memory.Contains(0, BiosAreaEnd))
        {
            throw new ArgumentException("guest RAM must cover the first MiB", nameof(memory));
        }

        // Addresses first: each table points at the next. The RSDP (20 bytes) fits below the
        // MP floating pointer.
        uint rsdt = Align16(MpFloatingPointerAddress + MpTable.FloatingPointerLength);
        uint madt = Align16(rsdt + AcpiTables.RsdtLength);
        int madtLength = AcpiTables.MadtLength(options.CpuCount);
        uint mpConfig = Align16(madt + (uint)madtLength);
        int mpConfigLength = MpTable.ConfigTableLength(options.CpuCount);
        if (mpConfig + (uint)mpConfigLength > BiosAreaEnd)
        {
            throw new InvalidOperationException("the firmware tables do not fit in the BIOS area");
        }

        // BIOS data area.
        memory.Write16(BdaCom1, options.Com1Base);
        memory.Write16(BdaEbdaSegment, (ushort)(EbdaAddress >> 4));
        memory.Write16(BdaBaseMemoryKib, (ushort)BaseMemoryKib);

        // Extended BIOS data area: its size in KiB, then nothing.
        memory.Fill(EbdaAddress, EbdaSize, 0);
        memory.Write8(EbdaAddress, (byte)(EbdaSize / 1024));

        // The BIOS area.
        memory.Fill(BiosAreaStart, BiosAreaEnd - BiosAreaStart, 0);
        memory.Write(RsdpAddress, AcpiTables.BuildRsdp(rsdt));
        memory.Write(MpFloatingPointerAddress, MpTable.BuildFloatingPointer(mpConfig));
        memory.Write(rsdt, AcpiTables.BuildRsdt(madt));
        memory.Write(madt, AcpiTables.BuildMadt(options));
        memory.Write(mpConfig, MpTable.BuildConfigTable(options));

        FirmwareRegion[] reserved =
        [
            new(EbdaAddress, EbdaSize, "extended BIOS data area"),
            new(BiosAreaStart, BiosAreaEnd - BiosAreaStart, "BIOS area (MP and ACPI tables)"),
        ];

        return new FirmwareLayout(options.CpuCount, MpFloatingPointerAddress, mpConfig, mpConfigLength, RsdpAddress, rsdt, madt, madtLength, reserved);
    }

    private static uint Align16(uint address) => (address + 15) & ~15u;
}
