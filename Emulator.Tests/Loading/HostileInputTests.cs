using System.Diagnostics;
using Emulator.Loading;
using Emulator.Memory;

namespace Emulator.Tests.Loading;

/// <summary>Broken and malicious images: each must fail with an <see cref="ImageLoadException"/> that says why, and nothing else.</summary>
public class HostileInputTests
{
    private static string Fails(byte[] file, string fragment, uint megabytes = 4, LoadOptions? options = null)
    {
        using var mem = new PhysicalMemory(megabytes << 20);
        var e = Assert.Throws<ImageLoadException>(() => MultibootLoader.Load("evil.elf", file, mem, options ?? new LoadOptions()));
        Assert.StartsWith("evil.elf: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        return e.Message;
    }

    private static ElfFile Kernel() => TestImages.Kernel().Build();

    [Fact]
    public void EveryTruncationOfAValidImageFailsCleanly()
    {
        var full = Kernel().Bytes;
        using var mem = TestImages.Memory();
        for (int length = 0; length < full.Length; length++)
        {
            var part = full.AsSpan(0, length).ToArray();
            var e = Assert.Throws<ImageLoadException>(() => MultibootLoader.Load("cut.elf", part, mem, new LoadOptions()));
            Assert.StartsWith("cut.elf: ", e.Message, StringComparison.Ordinal);
            Assert.Throws<ImageLoadException>(() => ElfImage.Parse("cut.elf", part));
        }

        MultibootLoader.Load("cut.elf", full, mem, new LoadOptions());
    }

    [Fact]
    public void EveryTruncationOfAFlatImageLoadsOrFailsCleanly()
    {
        var full = MultibootHeaderBytes.FlatImage(0x40, 0x100000, 0x400, entryOffset: 0x60);
        using var mem = TestImages.Memory();
        for (int length = 0; length <= full.Length; length++)
        {
            var part = full.AsSpan(0, length).ToArray();
            try
            {
                var img = MultibootLoader.Load("cut.bin", part, mem, new LoadOptions());
                Assert.True(length > 0x60, $"loaded at length {length}");
                Assert.Equal(0x100000u + (uint)length, img.ImageEnd);
            }
            catch (ImageLoadException e)
            {
                Assert.StartsWith("cut.bin: ", e.Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void RandomCorruptionNeverEscapesAsAnotherException()
    {
        var rng = new Random(20240601);
        var original = Kernel().Bytes;
        using var mem = TestImages.Memory();
        var options = new LoadOptions { Modules = [new BootModule("m", new byte[100], "m")] };
        int loaded = 0;
        for (int iteration = 0; iteration < 4000; iteration++)
        {
            var file = (byte[])original.Clone();
            int changes = rng.Next(1, 5);
            for (int c = 0; c < changes; c++)
            {
                // Mostly the headers and tables, where the structure is.
                int at = rng.Next(3) == 0 ? rng.Next(file.Length) : rng.Next(2) == 0 ? rng.Next(0x80) : file.Length - 1 - rng.Next(Math.Min(file.Length, 0x200));
                file[at] = rng.Next(4) switch
                {
                    0 => 0,
                    1 => 0xFF,
                    _ => (byte)rng.Next(256),
                };
            }

            try
            {
                MultibootLoader.Load("fuzz.elf", file, mem, options);
                loaded++;
            }
            catch (ImageLoadException)
            {
            }
        }

        Assert.InRange(loaded, 1, 3999);
    }

    [Fact]
    public void EmptyAndForeignFiles()
    {
        Fails([], "has no Multiboot header in its first 8192 bytes and is not an ELF file");
        Fails("MZ\x90\0"u8.ToArray(), "is not an ELF file");
        Fails(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }, "is truncated: the ELF identification needs 16 bytes, the file has 4");
    }

    [Fact]
    public void WrongClassEncodingTypeMachineOrVersion()
    {
        var b = TestImages.Kernel();
        b.Class = 2;
        Fails(b.Build().Bytes, "is a 64-bit ELF file (ELFCLASS64)");
        b = TestImages.Kernel();
        b.Class = 7;
        Fails(b.Build().Bytes, "invalid ELF class 7");
        b = TestImages.Kernel();
        b.DataEncoding = 2;
        Fails(b.Build().Bytes, "big-endian");
        b = TestImages.Kernel();
        b.Machine = 40;
        Fails(b.Build().Bytes, "is for ELF machine 40, not i386 (EM_386 = 3)");
        b = TestImages.Kernel();
        b.Machine = 62;
        Fails(b.Build().Bytes, "x86-64");
        b = TestImages.Kernel();
        b.Type = 3;
        Fails(b.Build().Bytes, "(ET_DYN)");
        b = TestImages.Kernel();
        b.Type = 1;
        Fails(b.Build().Bytes, "relocatable object file (ET_REL)");

        var f = Kernel();
        f.SetU32(20, 2);
        Fails(f.Bytes, "ELF version 2");
        f = Kernel();
        f.Bytes[6] = 0;
        Fails(f.Bytes, "identification version 0");
        f = Kernel();
        f.SetU16(40, 40);
        Fails(f.Bytes, "ELF header size (e_ehsize) of 40 bytes");
    }

    [Fact]
    public void ProgramHeaderTableProblems()
    {
        var f = Kernel();
        f.SetU16(44, 0xFFFE);
        Fails(f.Bytes, "absurd program header table (65534 entries of 32 bytes)");
        f = Kernel();
        f.SetU16(44, 2000);
        Fails(f.Bytes, "program header table extends past the end of the file");
        f = Kernel();
        f.SetU16(44, 0xFFFF);
        Fails(f.Bytes, "PN_XNUM");
        f = Kernel();
        f.SetU32(28, 0xFFFFFFF0);
        Fails(f.Bytes, "program header table extends past the end of the file (offset 0xfffffff0");
        f = Kernel();
        f.SetU16(42, 16);
        Fails(f.Bytes, "program header entry size (e_phentsize) of 16 bytes");
    }

    [Fact]
    public void SegmentProblems()
    {
        var f = Kernel();
        f.SetProgramHeaderField(1, 4, (uint)f.Bytes.Length - 0x10);
        Assert.Equal(
            $"evil.elf: program header 1 extends past the end of the file (offset 0x{f.Bytes.Length - 0x10:x}, size 0x100, file size 0x{f.Bytes.Length:x})",
            Fails(f.Bytes, "program header 1 extends past the end of the file"));

        f = Kernel();
        f.SetProgramHeaderField(1, 4, 0xFFFFFFFF);
        Fails(f.Bytes, "program header 1 extends past the end of the file");

        f = Kernel();
        f.SetProgramHeaderField(1, 20, 0x80);
        Assert.Equal("evil.elf: program header 1 has a file size (0x100) larger than its memory size (0x80)", Fails(f.Bytes, "larger than its memory size"));

        f = Kernel();
        f.SetProgramHeaderField(1, 12, 0xFFFFF800);
        Fails(f.Bytes, "program header 1 wraps around the end of the 32-bit physical address space");

        f = Kernel();
        f.SetProgramHeaderField(1, 8, 0xFFFFF800);
        Fails(f.Bytes, "program header 1 wraps around the end of the 32-bit virtual address space");
    }

    [Fact]
    public void SegmentOutsideRam()
    {
        var b = TestImages.Kernel();
        b.Segments[1].PhysicalAddress = 0x3FF800;
        Assert.Equal(
            "evil.elf: program header 1 (0x003ff800-0x004007ff) lies outside guest RAM (0x400000 bytes, 4 MiB)",
            Fails(b.Build().Bytes, "lies outside guest RAM"));

        // A guest with less memory than the image needs: a clear error, not an ArgumentOutOfRangeException.
        Fails(Kernel().Bytes, "program header 0 (0x00100000-0x001001ff) lies outside guest RAM (0x100000 bytes, 1 MiB)", megabytes: 1);

        b = TestImages.Kernel();
        b.Segments[1].PhysicalAddress = 0xFEE00000;
        Fails(b.Build().Bytes, "lies outside guest RAM");
    }

    [Fact]
    public void SegmentOverADeviceHoleOrReservedMemory()
    {
        var b = TestImages.Kernel();
        b.Segments[1].PhysicalAddress = 0xB8000;
        Assert.Equal(
            "evil.elf: program header 1 (0x000b8000-0x000b8fff) overlaps the VGA/BIOS ROM hole (0xA0000-0xFFFFF)",
            Fails(b.Build().Bytes, "overlaps the VGA/BIOS ROM hole"));

        b = TestImages.Kernel();
        b.Segments[1].PhysicalAddress = 0x9F000;
        Fails(b.Build().Bytes, "overlaps reserved memory 0x0009fc00-0x0009ffff (Reserved)");
    }

    [Fact]
    public void OverlappingSegments()
    {
        var b = TestImages.Kernel();
        b.Segments[1].PhysicalAddress = TestImages.TextAddress + 0x100;
        Assert.Equal(
            "evil.elf: program header 0 (0x00100000-0x001001ff) and program header 1 (0x00100100-0x001010ff) overlap",
            Fails(b.Build().Bytes, "overlap"));

        // Overlapping virtual addresses with distinct physical ones are fine.
        b = TestImages.Kernel();
        b.Segments[1].VirtualAddress = TestImages.TextAddress + 0x100;
        using var mem = TestImages.Memory();
        MultibootLoader.Load("ok.elf", b.Build().Bytes, mem, new LoadOptions());
    }

    [Fact]
    public void NothingToLoadOrNowhereToStart()
    {
        var b = TestImages.Kernel();
        b.Entry = 0;
        Fails(b.Build().Bytes, "entry point 0x00000000 is not in the file-backed part of any loadable segment");

        b = TestImages.Kernel();
        b.Entry = TestImages.DataAddress + TestImages.DataFileSize; // in the bss
        Fails(b.Build().Bytes, "is not in the file-backed part");

        var f = Kernel();
        f.SetProgramHeaderField(0, 0, 4); // PT_NOTE
        f.SetProgramHeaderField(1, 0, 4);
        Fails(f.Bytes, "has no loadable segments");

        b = TestImages.Kernel();
        b.Segments.Add(new ElfBuilder.Segment { Type = 3, Data = "/lib/ld.so\0"u8.ToArray(), MemorySize = 11, Flags = 4 });
        Fails(b.Build().Bytes, "is dynamically linked");
    }

    [Fact]
    public void SectionTableProblems()
    {
        var f = Kernel();
        f.SetU32(32, (uint)f.Bytes.Length - 40);
        Fails(f.Bytes, "section header table extends past the end of the file");

        f = Kernel();
        f.SetU16(48, 0xFF00);
        Fails(f.Bytes, "absurd number of sections (65280)");

        f = Kernel();
        f.SetU16(48, 0);
        Fails(f.Bytes, "extended section numbering");

        f = Kernel();
        f.SetU16(50, (ushort)f.SectionCount);
        Fails(f.Bytes, $"names section {f.SectionCount} as its section name table but has only {f.SectionCount} sections");

        f = Kernel();
        f.SetU16(50, 1);
        Fails(f.Bytes, "section name table (section 1) is not a string table");

        f = Kernel();
        f.SetU16(46, 20);
        Fails(f.Bytes, "section header entry size (e_shentsize) of 20 bytes");

        f = Kernel();
        f.SetSectionHeaderField(4, 16, 0x7FFFFFF0); // .comment offset
        Fails(f.Bytes, "section 4 extends past the end of the file (offset 0x7ffffff0");

        f = Kernel();
        f.SetSectionHeaderField(4, 0, 0x10000); // .comment name offset
        Fails(f.Bytes, "section 4 name (string offset 0x10000) is outside its string table");

        f = Kernel();
        f.SetSectionHeaderField(4, 32, 3);
        Fails(f.Bytes, "section 4 has an alignment of 0x3, which is not a power of two");

        f = Kernel();
        f.SetSectionHeaderField(1, 12, 0xFFFFFF00); // .text address
        Fails(f.Bytes, "section 1 wraps around");

        // An empty section may have any offset; an empty name table then names nothing.
        f = Kernel();
        int shstrndx = f.SectionCount - 1;
        f.SetSectionHeaderField(shstrndx, 16, 0xFFFFFFF0);
        f.SetSectionHeaderField(shstrndx, 20, 0);
        Fails(f.Bytes, "section 1 name (string offset 0x");
    }

    [Fact]
    public void SymbolTableProblems()
    {
        var f = Kernel();
        f.SetU32((int)f.SymtabOffset + 16, 0x00FFFFFF); // symbol 1's st_name
        Fails(f.Bytes, "symbol 1 name (string offset 0xffffff) is outside its string table");

        // A name running off the end of the string table.
        f = Kernel();
        int strtabSize = (int)(f.SectionHeaderOffset - f.StrtabOffset);
        f.SetSectionHeaderField(f.SymtabIndex + 1, 20, 3); // .strtab size: cut inside the first name
        Fails(f.Bytes, "is not terminated within its string table");
        Assert.True(strtabSize > 3);

        // A table claiming hundreds of millions of entries is rejected at once, without allocating.
        f = Kernel();
        f.SetSectionHeaderField(f.SymtabIndex, 20, 0xFFFFFFF0);
        var watch = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Fails(f.Bytes, $"section {f.SymtabIndex} extends past the end of the file");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000);
        Assert.True(watch.ElapsedMilliseconds < 1000);

        // An empty symbol table anywhere is just empty.
        f = Kernel();
        f.SetSectionHeaderField(f.SymtabIndex, 16, 0xFFFFFFF0);
        f.SetSectionHeaderField(f.SymtabIndex, 20, 0);
        using (var mem = TestImages.Memory())
        {
            Assert.Equal(0, MultibootLoader.Load("ok.elf", f.Bytes, mem, new LoadOptions()).Symbols.Count);
        }

        f = Kernel();
        f.SetSectionHeaderField(f.SymtabIndex, 36, 24);
        Fails(f.Bytes, "has an entry size of 24 bytes (expected 16)");

        f = Kernel();
        f.SetSectionHeaderField(f.SymtabIndex, 20, 16 * 3 + 1);
        Fails(f.Bytes, "is not a multiple of the entry size 16");

        f = Kernel();
        f.SetSectionHeaderField(f.SymtabIndex, 24, 99);
        Fails(f.Bytes, "links to string table section 99, which does not exist");

        f = Kernel();
        f.SetSectionHeaderField(f.SymtabIndex, 24, 1);
        Fails(f.Bytes, "links to section 1, which is not a string table");

        f = Kernel();
        f.Bytes[(int)f.SymtabOffset + 16 + 14] = 0x40; // symbol 1's st_shndx = 0x40
        Fails(f.Bytes, "symbol 1 refers to section 64, but there are only");
    }

    [Fact]
    public void MultibootHeaderProblems()
    {
        // Cut off by the end of the file.
        var file = MultibootHeaderBytes.Create(0x10000).AsSpan(0, 20).ToArray();
        Fails(file, "Multiboot header at file offset 0x0 is cut off by the end of the file: its flags (0x00010000) declare a 32-byte header");

        // Neither address fields nor ELF.
        file = new byte[0x100];
        MultibootHeaderBytes.Create(3).CopyTo(file, 0);
        Fails(file, "has no address fields (flag bit 16) and the image is not an ELF file");
    }

    [Fact]
    public void AddressFieldProblems()
    {
        static byte[] Flat(uint headerAddr, uint loadAddr, uint loadEnd, uint bssEnd, uint entry, int headerOffset = 0x20, int size = 0x1000)
        {
            var file = new byte[size];
            MultibootHeaderBytes.Create(0x10000, headerAddr, loadAddr, loadEnd, bssEnd, entry).CopyTo(file, headerOffset);
            return file;
        }

        const uint L = 0x100000;
        Fails(Flat(L, L + 0x20, 0, 0, L + 0x20), "Multiboot load_addr 0x00100020 is above header_addr 0x00100000");
        Fails(Flat(L + 0x40, L, 0, 0, L), "header_addr 0x00100040 is 0x40 bytes above load_addr 0x00100000, but the header is only 0x20 bytes into the file");
        Fails(Flat(L + 0x20, L, L - 1, 0, L), "load_end_addr 0x000fffff is below load_addr 0x00100000");
        Fails(Flat(L + 0x20, L, L + 0x1001, 0, L), "load_end_addr 0x00101001 lies past the end of the file");
        Fails(Flat(L + 0x20, L, L + 0x800, L + 0x700, L), "bss_end_addr 0x00100700 is below the end of the loaded data 0x00100800");
        Fails(Flat(L + 0x20, L, L + 0x800, 0, L + 0x800), "entry_addr 0x00100800 is outside the loaded image 0x00100000-0x001007ff");
        Fails(Flat(L + 0x20, L, L, 0, L), "load no bytes from the file");
        Fails(Flat(0xA0020, 0xA0000, 0, 0, 0xA0000), "the image (0x000a0000-0x000a0fff) overlaps the VGA/BIOS ROM hole");
        Fails(Flat(0x3FF020, 0x3FF000, 0, 0x500000, 0x3FF000), "the image (0x003ff000-0x004fffff) lies outside guest RAM");
        Fails(Flat(0xFFFFF020, 0xFFFFF000, 0, 0, 0xFFFFF000, size: 0x2000), "wraps around the end of the 32-bit address space");
    }

    [Fact]
    public void OptionProblems()
    {
        Fails(Kernel().Bytes, "the kernel command line contains a NUL character", options: new LoadOptions { CommandLine = "a\0b" });
        Fails(Kernel().Bytes, "the command line of module 0 (m) contains a NUL character", options: new LoadOptions { Modules = [new BootModule("m", new byte[1], "x\0")] });
        Fails(Kernel().Bytes, "not enough RAM above the image for module 1 (big)", megabytes: 2, options: new LoadOptions
        {
            Modules = [new BootModule("small", new byte[0x1000], string.Empty), new BootModule("big", new byte[0x100000], string.Empty)],
        });
        Fails(TestImages.Kernel(multiboot: false).Build().Bytes, "cannot be given a command line or modules", options: new LoadOptions { Modules = [new BootModule("m", new byte[1], "m")] });
    }
}
