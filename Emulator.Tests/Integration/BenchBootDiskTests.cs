using System.Buffers.Binary;
using System.Text;
using Emulator.Platform;
using Emulator.Tests.Platform;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Integration;

/// <summary>
/// The bench guest's boot-disk image (guest-images/build/bench-boot.img, what Bochs boots): its
/// layout, and its boot sector's 32-bit half (the ELF loader and the Multiboot-style entry) run on
/// this emulator. The 16-bit half needs a BIOS (int 13h); here the test does what it would have
/// done: the sectors are placed where the BIOS would have read them and the boot sector's own GDT
/// and protected-mode entry are taken from its code.
/// </summary>
public class BenchBootDiskTests
{
    private const int Sector = 512;
    private const uint BootSector = 0x7C00;
    private const uint Buffer = 0x10000;

    private static byte[] Image() => File.ReadAllBytes(RepoPaths.File("guest-images", "build", "bench-boot.img"));

    [Fact]
    public void ImageHoldsTheBootSectorTheCommandLineAndTheUnchangedElf()
    {
        byte[] image = Image();
        byte[] elf = File.ReadAllBytes(RepoPaths.GuestImage("bench"));
        Assert.Equal(16 * 63 * Sector, image.Length); // one cylinder: Bochs's autodetected geometry
        Assert.Equal(0x55, image[510]);
        Assert.Equal(0xAA, image[511]);
        Assert.Equal("work=alu iters=1000000\0", Encoding.ASCII.GetString(image, Sector, 23));
        Assert.Equal(elf, image.AsSpan(2 * Sector, elf.Length).ToArray());
        Assert.All(image.AsSpan((2 * Sector) + elf.Length).ToArray(), b => Assert.Equal(0, b));

        // The disk address packet reads the command line sector and the ELF's sectors from LBA 1.
        int sectors = 1 + ((elf.Length + Sector - 1) / Sector);
        byte[] dap = [16, 0, (byte)sectors, (byte)(sectors >> 8), 0, 0, 0x00, 0x10, 1, 0, 0, 0, 0, 0, 0, 0];
        Assert.True(image.AsSpan(0, 510).IndexOf(dap) >= 0, "no int 13h disk address packet for " + sectors + " sectors");
    }

    [Theory]
    [InlineData("work=alu iters=3000", "bench: work=alu cpus=1 region_instructions=24002 check=ok")]
    [InlineData("work=walk size=64K passes=2 paging=on", "bench: work=walk-paging cpus=1 region_instructions=10248 check=ok")]
    public void BootSectorLoadsTheElfAndEntersItWithTheCommandLine(string cmdline, string expected)
    {
        byte[] image = Image();
        byte[] sector1 = new byte[Sector];
        Encoding.ASCII.GetBytes(cmdline).CopyTo(sector1, 0);
        sector1.CopyTo(image, Sector);

        // From the 16-bit code: `lgdtl disp16` (66 0F 01 16) and `ljmpl $0x08, $pm32` (66 EA).
        ReadOnlySpan<byte> boot = image.AsSpan(0, Sector);
        int lgdt = boot.IndexOf(new byte[] { 0x66, 0x0F, 0x01, 0x16 });
        int ljmp = boot.IndexOf(new byte[] { 0x66, 0xEA });
        Assert.True(lgdt >= 0 && ljmp > lgdt, "the boot sector's lgdt and far jump were not found");
        uint gdtPointer = BinaryPrimitives.ReadUInt16LittleEndian(boot[(lgdt + 4)..]);
        uint pm32 = BinaryPrimitives.ReadUInt32LittleEndian(boot[(ljmp + 2)..]);
        Assert.Equal(0x08, BinaryPrimitives.ReadUInt16LittleEndian(boot[(ljmp + 6)..]));

        var serial = new StringBuilder();
        using var m = new Machine(new MachineConfig { MaxInstructions = 20_000_000 }, b => serial.Append((char)b));
        m.Load("boot-sector-stand-in", FlatGuest.Build(a =>
        {
            a.lgdt(__[gdtPointer]);
            a.db(0xEA);                                 // jmp far 0x08:pm32
            a.dd(pm32);
            a.dw(0x08);
        }));
        // Where the BIOS and the 16-bit half would have put them: the boot sector at 0x7C00, and
        // sectors 1.. (the command line, then the ELF) at 0x10000.
        m.Memory.Write(BootSector, image.AsSpan(0, Sector));
        m.Memory.Write(Buffer, image.AsSpan(Sector, 64 * Sector));

        var r = m.Run();
        Assert.True(r.Reason == StopReason.GuestExit, r.Reason + ": " + r.Message + "; serial: " + serial);
        Assert.Equal(1, r.GuestExitStatus); // the guest wrote 0 (check=ok) to port 0xF4
        Assert.Equal(expected + "\n", serial.ToString());
    }
}
