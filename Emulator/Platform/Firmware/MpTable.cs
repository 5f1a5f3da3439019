namespace Emulator.Platform.Firmware;

/// <summary>
/// Intel MultiProcessor Specification 1.4 structures: the floating pointer and the configuration
/// table, laid out as SeaBIOS builds them for QEMU.
/// </summary>
internal static class MpTable
{
    public const int FloatingPointerLength = 16;
    public const int HeaderLength = 44;
    public const int ProcessorEntryLength = 20;
    public const int EntryLength = 8;

    public const byte EntryProcessor = 0;
    public const byte EntryBus = 1;
    public const byte EntryIoApic = 2;
    public const byte EntryIoInterrupt = 3;
    public const byte EntryLocalInterrupt = 4;

    public const byte InterruptInt = 0;
    public const byte InterruptNmi = 1;
    public const byte InterruptExtInt = 3;

    public const byte IsaBusId = 0;

    /// <summary>The ISA IRQs with an I/O interrupt assignment entry: all but IRQ2 (the cascade), as SeaBIOS with QEMU's IRQ0 override.</summary>
    public static IEnumerable<int> IsaIrqs => Enumerable.Range(0, 16).Where(irq => irq != 2);

    /// <summary>The IOAPIC input an ISA IRQ is wired to: IRQ0 to pin 2, the others to their own number.</summary>
    public static int IoApicPin(int isaIrq) => isaIrq == 0 ? 2 : isaIrq;

    public static int ConfigTableLength(int cpuCount) =>
        HeaderLength + (cpuCount * ProcessorEntryLength) + ((2 + IsaIrqs.Count() + 2) * EntryLength);

    public static byte[] BuildFloatingPointer(uint configTable)
    {
        var w = new TableWriter()
            .Ascii("_MP_", 4)
            .U32(configTable)
            .U8(1) // length in 16-byte paragraphs
            .U8(4) // specification revision 1.4
            .U8(0) // checksum
            .U8(0) // feature 1: a configuration table is present (no default configuration)
            .U8(0) // feature 2: IMCRP clear, virtual wire mode
            .Zeros(3);
        var bytes = w.ToArray();
        TableWriter.SetChecksum(bytes, 10, 0, bytes.Length);
        return bytes;
    }

    public static byte[] BuildConfigTable(FirmwareOptions o)
    {
        int ioApicId = o.EffectiveIoApicId;
        var w = new TableWriter()
            .Ascii("PCMP", 4)
            .U16(0) // base table length, patched below
            .U8(4) // specification revision 1.4
            .U8(0) // checksum
            .Ascii(FirmwareTables.OemId, 8)
            .Ascii(FirmwareTables.ProductId, 12)
            .U32(0) // OEM table pointer
            .U16(0) // OEM table size
            .U16(0) // entry count, patched below
            .U32(o.LocalApicAddress)
            .U16(0) // extended table length
            .U8(0) // extended table checksum
            .U8(0);

        int entries = 0;
        for (int cpu = 0; cpu < o.CpuCount; cpu++)
        {
            w.U8(EntryProcessor)
                .U8(cpu) // local APIC ID
                .U8(o.LocalApicVersion)
                .U8(0x01 | (cpu == 0 ? 0x02 : 0)) // enabled; bootstrap processor
                .U32(o.CpuSignature)
                .U32(o.CpuFeatures)
                .Zeros(8);
            entries++;
        }

        w.U8(EntryBus).U8(IsaBusId).Ascii("ISA", 6);
        entries++;

        w.U8(EntryIoApic).U8(ioApicId).U8(o.IoApicVersion).U8(0x01).U32(o.IoApicAddress);
        entries++;

        foreach (int irq in IsaIrqs)
        {
            // Polarity and trigger mode conform to the bus (ISA: active high, edge).
            w.U8(EntryIoInterrupt).U8(InterruptInt).U16(0).U8(IsaBusId).U8(irq).U8(ioApicId).U8(IoApicPin(irq));
            entries++;
        }

        // The 8259's INTR to LINT0 and NMI to LINT1 of every local APIC (destination 0xFF).
        w.U8(EntryLocalInterrupt).U8(InterruptExtInt).U16(0).U8(IsaBusId).U8(0).U8(0xFF).U8(0);
        w.U8(EntryLocalInterrupt).U8(InterruptNmi).U16(0).U8(IsaBusId).U8(0).U8(0xFF).U8(1);
        entries += 2;

        var bytes = w.ToArray();
        if (bytes.Length != ConfigTableLength(o.CpuCount))
        {
            throw new InvalidOperationException("MP configuration table length mismatch");
        }

        TableWriter.Patch16(bytes, 4, bytes.Length);
        TableWriter.Patch16(bytes, 34, entries);
        TableWriter.SetChecksum(bytes, 7, 0, bytes.Length);
        return bytes;
    }
}
