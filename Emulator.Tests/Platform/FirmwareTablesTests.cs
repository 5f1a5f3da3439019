using System.Text;
using Emulator.Memory;
using Emulator.Platform.Firmware;

namespace Emulator.Tests.Platform;

/// <summary>
/// Reads the firmware tables back the way a kernel finds them (scanning memory for the
/// signatures), with a parser written from the specifications, independent of the builder.
/// </summary>
public sealed class FirmwareTablesTests : IDisposable
{
    private const uint ExpectedFeatures = (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 8) | (1u << 9) | (1u << 11) |
        (1u << 12) | (1u << 13) | (1u << 15) | (1u << 16);

    private readonly PhysicalMemory _mem = new(16u << 20);

    public void Dispose() => _mem.Dispose();

    public static TheoryData<int> CpuCounts => new() { 1, 2, 3, 4, 8, 64, FirmwareOptions.MaxCpuCount };

    private byte U8(uint a) => _mem.Read8(a);

    private ushort U16(uint a) => _mem.Read16(a);

    private uint U32(uint a) => _mem.Read32(a);

    private string Ascii(uint a, int n) => Encoding.ASCII.GetString(_mem.AsSpan(a, n));

    private byte Sum(uint a, int n)
    {
        int s = 0;
        foreach (byte b in _mem.AsSpan(a, n))
        {
            s += b;
        }

        return (byte)s;
    }

    /// <summary>Linux's smp_scan_config areas: the EBDA's first KiB, the last KiB of base memory, the BIOS ROM area.</summary>
    private uint? ScanForMp()
    {
        uint ebda = (uint)U16(0x40E) << 4;
        uint baseTop = (uint)U16(0x413) * 1024;
        (uint Start, uint Length)[] areas = [(ebda, 1024), (baseTop - 1024, 1024), (0xF0000, 0x10000)];
        foreach (var (start, length) in areas)
        {
            for (uint a = start; a < start + length; a += 16)
            {
                if (Ascii(a, 4) == "_MP_" && U8(a + 8) == 1 && Sum(a, 16) == 0 && U8(a + 9) is 1 or 4)
                {
                    return a;
                }
            }
        }

        return null;
    }

    /// <summary>The ACPI RSDP search: the EBDA's first KiB, then 0xE0000-0xFFFFF, on 16-byte boundaries.</summary>
    private uint? ScanForRsdp()
    {
        uint ebda = (uint)U16(0x40E) << 4;
        (uint Start, uint Length)[] areas = [(ebda, 1024), (0xE0000, 0x20000)];
        foreach (var (start, length) in areas)
        {
            for (uint a = start; a < start + length; a += 16)
            {
                if (Ascii(a, 8) == "RSD PTR " && Sum(a, 20) == 0)
                {
                    return a;
                }
            }
        }

        return null;
    }

    [Theory]
    [MemberData(nameof(CpuCounts))]
    public void MpTableDescribesEveryCpuAndTheIsaWiring(int n)
    {
        var layout = FirmwareTables.Build(_mem, n);

        uint mpf = ScanForMp() ?? throw new Xunit.Sdk.XunitException("no _MP_ structure");
        Assert.Equal(layout.MpFloatingPointer, mpf);
        Assert.Equal(4, U8(mpf + 9)); // spec 1.4
        Assert.Equal(0, U8(mpf + 11)); // a configuration table, not a default configuration

        uint mpc = U32(mpf + 4);
        Assert.Equal(layout.MpConfigTable, mpc);
        Assert.Equal("PCMP", Ascii(mpc, 4));
        int length = U16(mpc + 4);
        Assert.Equal(layout.MpConfigTableLength, length);
        Assert.Equal(4, U8(mpc + 6));
        Assert.Equal(0, Sum(mpc, length));
        Assert.Equal(0xFEE00000u, U32(mpc + 36));
        Assert.Equal(0, U16(mpc + 40)); // no extended table
        Assert.Equal(0, U8(mpc + 42));
        Assert.All(Ascii(mpc + 8, 20).ToCharArray(), c => Assert.InRange(c, ' ', '~'));

        int entryCount = U16(mpc + 34);
        var processors = new List<(int ApicId, int Flags)>();
        var irqToPin = new Dictionary<int, int>();
        var locals = new List<(int Type, int Dest, int Lint)>();
        int lastType = 0;
        int ioApicId = -1;
        uint p = mpc + 44;
        for (int i = 0; i < entryCount; i++)
        {
            int type = U8(p);
            Assert.True(type >= lastType, "entries are sorted by type");
            lastType = type;
            switch (type)
            {
                case 0:
                    processors.Add((U8(p + 1), U8(p + 3)));
                    Assert.Equal(0x14, U8(p + 2));
                    Assert.Equal(0x633u, U32(p + 4));
                    Assert.Equal(ExpectedFeatures, U32(p + 8));
                    p += 20;
                    break;
                case 1:
                    Assert.Equal(0, U8(p + 1));
                    Assert.Equal("ISA   ", Ascii(p + 2, 6));
                    p += 8;
                    break;
                case 2:
                    ioApicId = U8(p + 1);
                    Assert.Equal(0x11, U8(p + 2));
                    Assert.Equal(1, U8(p + 3) & 1);
                    Assert.Equal(0xFEC00000u, U32(p + 4));
                    p += 8;
                    break;
                case 3:
                    Assert.Equal(0, U8(p + 1)); // INT
                    Assert.Equal(0, U16(p + 2)); // conforms to the bus
                    Assert.Equal(0, U8(p + 4)); // ISA bus
                    Assert.Equal(ioApicId, U8(p + 6));
                    irqToPin.Add(U8(p + 5), U8(p + 7));
                    p += 8;
                    break;
                case 4:
                    locals.Add((U8(p + 1), U8(p + 6), U8(p + 7)));
                    p += 8;
                    break;
                default:
                    throw new Xunit.Sdk.XunitException($"unknown MP entry type {type}");
            }
        }

        Assert.Equal(mpc + (uint)length, p);

        Assert.Equal(n, processors.Count);
        Assert.Equal(Enumerable.Range(0, n), processors.Select(x => x.ApicId));
        Assert.All(processors, x => Assert.Equal(1, x.Flags & 1));
        Assert.Equal([0], processors.Where(x => (x.Flags & 2) != 0).Select(x => x.ApicId));

        Assert.Equal(n, ioApicId);
        Assert.Equal(2, irqToPin[0]);
        Assert.False(irqToPin.ContainsKey(2));
        for (int irq = 1; irq < 16; irq++)
        {
            if (irq != 2)
            {
                Assert.Equal(irq, irqToPin[irq]);
            }
        }

        Assert.Equal([(3, 0xFF, 0), (1, 0xFF, 1)], locals);
    }

    [Theory]
    [MemberData(nameof(CpuCounts))]
    public void AcpiMadtListsEveryLocalApic(int n)
    {
        var layout = FirmwareTables.Build(_mem, n);

        uint rsdp = ScanForRsdp() ?? throw new Xunit.Sdk.XunitException("no RSDP");
        Assert.Equal(layout.Rsdp, rsdp);
        Assert.Equal(0, U8(rsdp + 15)); // ACPI 1.0
        uint rsdt = U32(rsdp + 16);
        Assert.Equal(layout.Rsdt, rsdt);

        Assert.Equal("RSDT", Ascii(rsdt, 4));
        int rsdtLength = (int)U32(rsdt + 4);
        Assert.Equal(0, Sum(rsdt, rsdtLength));
        Assert.Equal(1, (rsdtLength - 36) / 4);
        uint madt = U32(rsdt + 36);
        Assert.Equal(layout.Madt, madt);

        Assert.Equal("APIC", Ascii(madt, 4));
        int madtLength = (int)U32(madt + 4);
        Assert.Equal(layout.MadtLength, madtLength);
        Assert.Equal(1, U8(madt + 8));
        Assert.Equal(0, Sum(madt, madtLength));
        Assert.Equal(0xFEE00000u, U32(madt + 36));
        Assert.Equal(1u, U32(madt + 40)); // PCAT_COMPAT

        var apicIds = new List<int>();
        var overrides = new List<(int Bus, int Source, uint Gsi, int Flags)>();
        var nmis = new List<(int Processor, int Lint)>();
        int ioApics = 0;
        uint p = madt + 44;
        while (p < madt + madtLength)
        {
            int type = U8(p);
            int len = U8(p + 1);
            switch (type)
            {
                case 0:
                    Assert.Equal(8, len);
                    Assert.Equal(U8(p + 2), U8(p + 3)); // processor ID = APIC ID
                    Assert.Equal(1u, U32(p + 4) & 1);
                    apicIds.Add(U8(p + 3));
                    break;
                case 1:
                    Assert.Equal(12, len);
                    Assert.Equal(n, U8(p + 2));
                    Assert.Equal(0xFEC00000u, U32(p + 4));
                    Assert.Equal(0u, U32(p + 8));
                    ioApics++;
                    break;
                case 2:
                    Assert.Equal(10, len);
                    overrides.Add((U8(p + 2), U8(p + 3), U32(p + 4), U16(p + 8)));
                    break;
                case 4:
                    Assert.Equal(6, len);
                    nmis.Add((U8(p + 2), U8(p + 5)));
                    Assert.Equal(0, U16(p + 3));
                    break;
                default:
                    throw new Xunit.Sdk.XunitException($"unexpected MADT entry type {type}");
            }

            p += (uint)len;
        }

        Assert.Equal(madt + (uint)madtLength, p);
        Assert.Equal(Enumerable.Range(0, n), apicIds);
        Assert.Equal(1, ioApics);
        Assert.Equal([(0, 0, 2u, 0)], overrides);
        Assert.Equal([(0xFF, 1)], nmis);
    }

    [Fact]
    public void BiosDataAreaAndEbda()
    {
        var layout = FirmwareTables.Build(_mem, 2);
        Assert.Equal(0x3F8, U16(0x400));
        Assert.Equal(0x9FC0, U16(0x40E));
        Assert.Equal(639, U16(0x413));
        Assert.Equal(1, U8(0x9FC00));
        Assert.Equal(639u, layout.BaseMemoryKib);
        Assert.Equal(0x9FC00u, layout.Ebda);
    }

    [Theory]
    [MemberData(nameof(CpuCounts))]
    public void EverythingStaysInsideTheReservedRegions(int n)
    {
        _mem.Fill(0, _mem.Size, 0xA5);
        var layout = FirmwareTables.Build(_mem, n);

        Assert.Equal(
            [(0x9FC00u, 0xA0000u), (0xF0000u, 0x100000u)],
            layout.ReservedRegions.Select(r => (r.Start, r.End)));

        (uint Address, int Length)[] tables =
        [
            (layout.Rsdp, 20), (layout.MpFloatingPointer, 16), (layout.Rsdt, 40),
            (layout.Madt, layout.MadtLength), (layout.MpConfigTable, layout.MpConfigTableLength),
        ];
        foreach (var (address, length) in tables)
        {
            Assert.Equal(0u, address % 16);
            Assert.Contains(layout.ReservedRegions, r => r.Contains(address, (uint)length));
        }

        // No two tables overlap.
        var sorted = tables.OrderBy(t => t.Address).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            Assert.True(sorted[i - 1].Address + (uint)sorted[i - 1].Length <= sorted[i].Address);
        }

        // Nothing outside the regions and the three BIOS data area words was written.
        (uint Start, uint End)[] bda = [(0x400, 0x402), (0x40E, 0x410), (0x413, 0x415)];
        var written = layout.ReservedRegions.Select(r => (r.Start, r.End))
            .Concat(bda)
            .OrderBy(r => r.Start)
            .ToArray();
        uint from = 0;
        foreach (var (start, end) in written.Append((_mem.Size, _mem.Size)))
        {
            int changed = _mem.AsSpan(from, (int)(start - from)).IndexOfAnyExcept((byte)0xA5);
            Assert.True(changed < 0, $"byte 0x{from + changed:x} outside the firmware regions was changed");
            from = end;
        }
    }

    [Theory]
    [InlineData(1, 0xF00B0u, 0xF0188u)]
    [InlineData(64, 0xF02B0u, 0xF0874u)]
    [InlineData(254, 0xF08A0u, 0xF1D3Cu)]
    public void TablesAreWhereTheDocumentationSays(int n, uint mpConfig, uint end)
    {
        var layout = FirmwareTables.Build(_mem, n);
        Assert.Equal(0xF0000u, layout.Rsdp);
        Assert.Equal(0xF0020u, layout.MpFloatingPointer);
        Assert.Equal(0xF0030u, layout.Rsdt);
        Assert.Equal(0xF0060u, layout.Madt);
        Assert.Equal(72 + (8 * n), layout.MadtLength);
        Assert.Equal(mpConfig, layout.MpConfigTable);
        Assert.Equal(196 + (20 * n), layout.MpConfigTableLength);
        Assert.Equal(end, layout.MpConfigTable + (uint)layout.MpConfigTableLength);
    }

    [Fact]
    public void OptionsAreHonouredAndValidated()
    {
        var layout = FirmwareTables.Build(_mem, new FirmwareOptions { CpuCount = 4, IoApicId = 0, Com1Base = 0 });
        Assert.Equal(0, U16(0x400));
        uint mpc = layout.MpConfigTable;
        Assert.Equal(0, Sum(mpc, layout.MpConfigTableLength));
        Assert.Equal(0, U8(layout.Madt + 44 + (4 * 8) + 2)); // MADT I/O APIC ID

        Assert.Throws<ArgumentOutOfRangeException>(() => FirmwareTables.Build(_mem, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FirmwareTables.Build(_mem, FirmwareOptions.MaxCpuCount + 1));
    }

    [Fact]
    public void FeatureFlagsAreThoseTheCpuReports()
    {
        Assert.Equal(ExpectedFeatures, new FirmwareOptions().CpuFeatures);
        Assert.Equal(Emulator.Cpu.Cpu.CpuidFeaturesEdx, new FirmwareOptions().CpuFeatures);
        Assert.Equal(0x633u, new FirmwareOptions().CpuSignature);
    }
}
