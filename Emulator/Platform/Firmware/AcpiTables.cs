namespace Emulator.Platform.Firmware;

/// <summary>
/// ACPI 1.0 tables: the root system description pointer (revision 0), the RSDT and the MADT,
/// with the interrupt model QEMU describes (IRQ0 overridden to GSI 2, LINT1 as NMI).
/// </summary>
internal static class AcpiTables
{
    public const int RsdpLength = 20;
    public const int HeaderLength = 36;
    public const int RsdtLength = HeaderLength + 4;

    public const byte MadtProcessorLocalApic = 0;
    public const byte MadtIoApic = 1;
    public const byte MadtInterruptSourceOverride = 2;
    public const byte MadtLocalApicNmi = 4;

    /// <summary>MADT flags: PCAT_COMPAT, the machine also has dual 8259s.</summary>
    public const uint MadtPcatCompat = 1;

    public static int MadtLength(int cpuCount) => HeaderLength + 8 + (cpuCount * 8) + 12 + 10 + 6;

    public static byte[] BuildRsdp(uint rsdt)
    {
        var bytes = new TableWriter()
            .Ascii("RSD PTR ", 8)
            .U8(0) // checksum
            .Ascii(FirmwareTables.AcpiOemId, 6)
            .U8(0) // revision 0: ACPI 1.0, RSDT only
            .U32(rsdt)
            .ToArray();
        TableWriter.SetChecksum(bytes, 8, 0, RsdpLength);
        return bytes;
    }

    public static byte[] BuildRsdt(uint madt)
    {
        var w = Header("RSDT", 1);
        w.U32(madt);
        return Finish(w);
    }

    public static byte[] BuildMadt(FirmwareOptions o)
    {
        var w = Header("APIC", 1);
        w.U32(o.LocalApicAddress).U32(MadtPcatCompat);

        for (int cpu = 0; cpu < o.CpuCount; cpu++)
        {
            // ACPI processor ID, APIC ID, flags: enabled.
            w.U8(MadtProcessorLocalApic).U8(8).U8(cpu).U8(cpu).U32(1);
        }

        w.U8(MadtIoApic).U8(12).U8(o.EffectiveIoApicId).U8(0).U32(o.IoApicAddress).U32(0);

        // ISA IRQ0 -> GSI 2, polarity and trigger conforming to the bus.
        w.U8(MadtInterruptSourceOverride).U8(10).U8(0).U8(0).U32((uint)MpTable.IoApicPin(0)).U16(0);

        // NMI on LINT1 of all processors (processor ID 0xFF).
        w.U8(MadtLocalApicNmi).U8(6).U8(0xFF).U16(0).U8(1);

        var bytes = Finish(w);
        if (bytes.Length != MadtLength(o.CpuCount))
        {
            throw new InvalidOperationException("MADT length mismatch");
        }

        return bytes;
    }

    private static TableWriter Header(string signature, int revision) =>
        new TableWriter()
            .Ascii(signature, 4)
            .U32(0) // length, patched by Finish
            .U8(revision)
            .U8(0) // checksum
            .Ascii(FirmwareTables.AcpiOemId, 6)
            .Ascii(FirmwareTables.AcpiOemTableId, 8)
            .U32(1) // OEM revision
            .Ascii(FirmwareTables.AcpiCreatorId, 4)
            .U32(1); // creator revision

    private static byte[] Finish(TableWriter w)
    {
        var bytes = w.ToArray();
        TableWriter.Patch32(bytes, 4, (uint)bytes.Length);
        TableWriter.SetChecksum(bytes, 9, 0, bytes.Length);
        return bytes;
    }
}
