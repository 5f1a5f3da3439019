using System.Buffers.Binary;
using Emulator.Loading;
using Emulator.Memory;

namespace Emulator.Tests.Loading;

public class MultibootLoaderTests
{
    private static readonly LoadOptions NoOptions = new();

    [Fact]
    public void ElfSegmentsLandAtTheirPhysicalAddressesWithBssZeroed()
    {
        var file = TestImages.Kernel().Build();
        using var mem = TestImages.Memory();
        mem.Fill(0, mem.Size, 0xCC);

        var img = MultibootLoader.Load("kernel.elf", file.Bytes, mem, NoOptions);

        Assert.Equal(ImageFormat.MultibootElf, img.Format);
        Assert.Equal(TestImages.Entry, img.EntryPoint);
        Assert.Equal(0x2BADB002u, img.Eax);
        Assert.Equal(img.InfoAddress, img.Ebx);
        Assert.NotNull(img.Header);
        Assert.Equal(file.SegmentFileOffsets[0], (uint)img.Header.FileOffset);
        Assert.Equal(TestImages.TextAddress, img.ImageStart);
        Assert.Equal(TestImages.DataAddress + TestImages.DataMemorySize, img.ImageEnd);

        Assert.Equal(
            file.Bytes.AsSpan((int)file.SegmentFileOffsets[0], (int)TestImages.TextSize).ToArray(),
            TestImages.ReadBytes(mem, TestImages.TextAddress, (int)TestImages.TextSize));
        Assert.Equal(
            file.Bytes.AsSpan((int)file.SegmentFileOffsets[1], (int)TestImages.DataFileSize).ToArray(),
            TestImages.ReadBytes(mem, TestImages.DataAddress, (int)TestImages.DataFileSize));
        Assert.All(
            TestImages.ReadBytes(mem, TestImages.DataAddress + TestImages.DataFileSize, (int)(TestImages.DataMemorySize - TestImages.DataFileSize)),
            b => Assert.Equal(0, b));

        // The gap between the segments is not the image's: it is left alone.
        Assert.Equal(0xCC, mem.Read8(TestImages.TextAddress + TestImages.TextSize));
        Assert.Equal(0xCC, mem.Read8(TestImages.DataAddress - 1));
        Assert.Empty(img.Notes);
    }

    [Fact]
    public void SymbolsOfTheLoadedImageResolve()
    {
        using var mem = TestImages.Memory();
        var img = MultibootLoader.Load("kernel.elf", TestImages.Kernel().Build().Bytes, mem, NoOptions);
        var t = img.Symbols;

        Assert.True(t.TryGetByName("kmain", out var kmain));
        Assert.Equal(TestImages.TextAddress + 0x40, kmain.Address);
        Assert.Equal("_start", t.Format(TestImages.Entry));
        Assert.Equal("_start+0x10", t.Format(TestImages.Entry + 0x10));
        Assert.Equal("kmain+0x3f", t.Format(TestImages.TextAddress + 0x7F));
        Assert.Equal("helper+0x4", t.Format(TestImages.TextAddress + 0x84));
        Assert.Equal("0x001000a0", t.Format(TestImages.TextAddress + 0xA0)); // gap after helper
        Assert.Equal("after_helper+0x20", t.Format(TestImages.TextAddress + 0xE0));
        Assert.Equal("0x00100200", t.Format(TestImages.TextAddress + TestImages.TextSize)); // past .text
        Assert.Equal("data_start+0x4", t.Format(TestImages.DataAddress + 4));
        Assert.Equal("counter+0x3", t.Format(TestImages.DataAddress + 0x13));
        Assert.Equal("buffer+0xff", t.Format(TestImages.DataAddress + TestImages.DataFileSize + 0xFF));
        Assert.Same(img.Elf!.Symbols, t);
    }

    [Fact]
    public void InfoStructureDescribesMemoryCommandLineAndLoader()
    {
        using var mem = TestImages.Memory(32);
        var img = MultibootLoader.Load("kernel.elf", TestImages.Kernel().Build().Bytes, mem, new LoadOptions
        {
            CommandLine = "console=ttyS0 debug",
            BootLoaderName = "test loader",
        });

        uint info = img.InfoAddress;
        Assert.Equal(MultibootLoader.InfoAreaStart, info);
        uint flags = mem.Read32(info + MultibootInfo.FlagsOffset);
        uint expected = MultibootInfo.MemoryFlag | MultibootInfo.CommandLineFlag | MultibootInfo.ModulesFlag
            | MultibootInfo.ElfSectionsFlag | MultibootInfo.MemoryMapFlag | MultibootInfo.BootLoaderNameFlag;
        Assert.Equal(expected, flags);
        Assert.Equal(639u, mem.Read32(info + MultibootInfo.MemLowerOffset));
        Assert.Equal((32u << 10) - 1024, mem.Read32(info + MultibootInfo.MemUpperOffset));
        Assert.Equal("console=ttyS0 debug", TestImages.ReadCString(mem, mem.Read32(info + MultibootInfo.CommandLineOffset)));
        Assert.Equal("test loader", TestImages.ReadCString(mem, mem.Read32(info + MultibootInfo.BootLoaderNameOffset)));
        Assert.Equal(0u, mem.Read32(info + MultibootInfo.ModsCountOffset));

        // Fields the loader does not provide are zero.
        Assert.Equal(0u, mem.Read32(info + MultibootInfo.BootDeviceOffset));
        for (int off = MultibootInfo.DrivesLengthOffset; off < MultibootInfo.Size; off += 4)
        {
            if (off != MultibootInfo.BootLoaderNameOffset)
            {
                Assert.Equal(0u, mem.Read32(info + (uint)off));
            }
        }
    }

    [Fact]
    public void MemoryMapHasTheDocumentedEntries()
    {
        using var mem = TestImages.Memory(32);
        var img = MultibootLoader.Load("kernel.elf", TestImages.Kernel().Build().Bytes, mem, NoOptions);

        var expected = new (ulong Base, ulong Length, uint Type)[]
        {
            (0, 0x9FC00, 1),
            (0x9FC00, 0x400, 2),
            (0xF0000, 0x10000, 2),
            (0x100000, (32u << 20) - 0x100000, 1),
            (0xFEC00000, 0x1000, 2),
            (0xFEE00000, 0x1000, 2),
        };

        uint info = img.InfoAddress;
        uint length = mem.Read32(info + MultibootInfo.MmapLengthOffset);
        uint addr = mem.Read32(info + MultibootInfo.MmapAddrOffset);
        Assert.Equal((uint)(expected.Length * 24), length);
        var actual = new List<(ulong, ulong, uint)>();
        for (uint p = addr; p < addr + length;)
        {
            uint size = mem.Read32(p);
            Assert.Equal(20u, size);
            var e = TestImages.ReadBytes(mem, p + 4, 20);
            actual.Add((BinaryPrimitives.ReadUInt64LittleEndian(e), BinaryPrimitives.ReadUInt64LittleEndian(e.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(e.AsSpan(16))));
            p += size + 4;
        }

        Assert.Equal(expected, actual);
        Assert.Equal(expected, img.MemoryMap.Select(e => (e.Base, e.Length, (uint)e.Type)));
    }

    [Fact]
    public void ReservedRegionsAreAParameter()
    {
        var acpi = new MemoryMapEntry(0x1FF0000, 0x10000, MemoryMapType.AcpiReclaimable);
        var options = new LoadOptions { ReservedRegions = [.. LoadOptions.DefaultReservedRegions, acpi] };
        using var mem = TestImages.Memory(32);
        var img = MultibootLoader.Load("kernel.elf", TestImages.Kernel().Build().Bytes, mem, options);

        Assert.Contains(new MemoryMapEntry(0x100000, 0x1FF0000 - 0x100000, MemoryMapType.Available), img.MemoryMap);
        Assert.Contains(acpi, img.MemoryMap);
        Assert.Equal((0x1FF0000u - 0x100000) / 1024, mem.Read32(img.InfoAddress + MultibootInfo.MemUpperOffset));

        var overlapping = new LoadOptions { ReservedRegions = [new(0x101000, 0x2000, MemoryMapType.Reserved)] };
        var e = Assert.Throws<ImageLoadException>(() => MultibootLoader.Load("kernel.elf", TestImages.Kernel().Build().Bytes, mem, overlapping));
        Assert.Contains("overlaps reserved memory 0x00101000-0x00102fff", e.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => MultibootLoader.BuildMemoryMap(mem.Size, [new(0x1000, 0x2000, MemoryMapType.Reserved), new(0x2000, 0x1000, MemoryMapType.Reserved)]));
        Assert.Throws<ArgumentException>(() => MultibootLoader.BuildMemoryMap(mem.Size, [new(0x1000, 0x1000, MemoryMapType.Available)]));
        Assert.Throws<ArgumentException>(() => MultibootLoader.BuildMemoryMap(mem.Size, [new(0xFFFFF000, 0x2000, MemoryMapType.Reserved)]));
    }

    [Fact]
    public void ModulesArePageAlignedAfterTheImageAndListed()
    {
        var initrd = new byte[0x1234];
        new Random(5).NextBytes(initrd);
        var tiny = new byte[] { 1, 2, 3 };
        var options = new LoadOptions
        {
            Modules =
            [
                new BootModule("initrd.img", initrd, "initrd.img root=/dev/ram0"),
                new BootModule("tiny", tiny, string.Empty),
                new BootModule("empty", Array.Empty<byte>(), "empty"),
            ],
        };
        using var mem = TestImages.Memory();
        var img = MultibootLoader.Load("kernel.elf", TestImages.Kernel().Build().Bytes, mem, options);

        Assert.Equal(3, img.Modules.Count);
        uint info = img.InfoAddress;
        Assert.Equal(3u, mem.Read32(info + MultibootInfo.ModsCountOffset));
        uint mods = mem.Read32(info + MultibootInfo.ModsAddrOffset);
        uint previousEnd = img.ImageEnd;
        for (int i = 0; i < 3; i++)
        {
            uint entry = mods + (uint)(i * 16);
            uint start = mem.Read32(entry);
            uint end = mem.Read32(entry + 4);
            Assert.Equal(0u, start % 4096);
            Assert.True(start >= previousEnd);
            Assert.Equal(options.Modules[i].Data.Length, (int)(end - start));
            Assert.Equal(options.Modules[i].Data.ToArray(), TestImages.ReadBytes(mem, start, (int)(end - start)));
            Assert.Equal(options.Modules[i].CommandLine, TestImages.ReadCString(mem, mem.Read32(entry + 8)));
            Assert.Equal(0u, mem.Read32(entry + 12));
            Assert.Equal(new LoadedModule(options.Modules[i].Name, start, end, options.Modules[i].CommandLine, mem.Read32(entry + 8)), img.Modules[i]);
            previousEnd = end;
        }

        Assert.True(img.AllocationEnd >= img.Modules[1].End);
    }

    [Fact]
    public void ElfSectionHeadersAreCopiedAndUnallocatedSectionsLoaded()
    {
        var file = TestImages.Kernel().Build();
        using var mem = TestImages.Memory();
        var img = MultibootLoader.Load("kernel.elf", file.Bytes, mem, NoOptions);
        var elf = img.Elf!;

        uint info = img.InfoAddress;
        Assert.Equal((uint)elf.Sections.Count, mem.Read32(info + MultibootInfo.ElfNumOffset));
        Assert.Equal(40u, mem.Read32(info + MultibootInfo.ElfSizeOffset));
        Assert.Equal((uint)elf.SectionNameTableIndex, mem.Read32(info + MultibootInfo.ElfShndxOffset));
        uint table = mem.Read32(info + MultibootInfo.ElfAddrOffset);
        Assert.True(table >= img.ImageEnd);

        foreach (var s in elf.Sections)
        {
            uint header = table + (uint)(s.Index * 40);
            uint shAddr = mem.Read32(header + 12);
            Assert.Equal((uint)s.Type, mem.Read32(header + 4));
            Assert.Equal(s.Size, mem.Read32(header + 20));
            if (s.IsAllocated || s.Size == 0)
            {
                Assert.Equal(s.Address, shAddr);
                continue;
            }

            // .comment, .symtab, .strtab, .shstrtab: placed above the image, contents intact.
            Assert.True(shAddr >= img.ImageEnd, s.Name);
            Assert.Equal(file.Bytes.AsSpan((int)s.Offset, (int)s.Size).ToArray(), TestImages.ReadBytes(mem, shAddr, (int)s.Size));
            Assert.True(shAddr + s.Size <= img.AllocationEnd);
        }

        // The guest can find its own symbols: the string table link of .symtab is intact.
        var symtab = elf.FindSection(".symtab")!;
        Assert.Equal(symtab.Link, mem.Read32(table + (uint)(symtab.Index * 40) + 24));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(0x100)]
    [InlineData(8192 - 32)]
    public void AddressFieldHeaderIsFoundAtAnyAlignedOffsetInTheFirst8KiB(int offset)
    {
        var file = MultibootHeaderBytes.FlatImage(offset, loadAddr: 0x100000, totalSize: 0x3000, entryOffset: 0x2000);
        using var mem = TestImages.Memory();
        var img = MultibootLoader.Load("flat.bin", file, mem, NoOptions);

        Assert.Equal(ImageFormat.MultibootAddressFields, img.Format);
        Assert.Equal(offset, img.Header!.FileOffset);
        Assert.Equal(0x102000u, img.EntryPoint);
        Assert.Equal(file, TestImages.ReadBytes(mem, 0x100000, file.Length));
        Assert.Null(img.Elf);
        Assert.Equal(0, img.Symbols.Count);
        Assert.Equal(0u, mem.Read32(img.InfoAddress) & MultibootInfo.ElfSectionsFlag);
    }

    [Theory]
    [InlineData(0x40)]
    [InlineData(0x400)]
    [InlineData(0x1000)]
    public void ElfHeaderIsFoundAtVariousOffsets(int offsetInText)
    {
        var b = TestImages.Kernel(multiboot: false);
        var text = b.Segments[0].Data = new byte[0x2000];
        b.Segments[0].MemorySize = 0x2000;
        MultibootHeaderBytes.Create(0).CopyTo(text, offsetInText);
        b.Entry = TestImages.TextAddress;
        var file = b.Build();
        using var mem = TestImages.Memory();
        var img = MultibootLoader.Load("kernel.elf", file.Bytes, mem, NoOptions);
        Assert.Equal(ImageFormat.MultibootElf, img.Format);
        Assert.Equal((int)file.SegmentFileOffsets[0] + offsetInText, img.Header!.FileOffset);
    }

    [Fact]
    public void HeaderBeyond8KiBIsNotFound()
    {
        var flat = MultibootHeaderBytes.FlatImage(8192, loadAddr: 0x100000, totalSize: 0x3000, entryOffset: 0x2000);
        using var mem = TestImages.Memory();
        var e = Assert.Throws<ImageLoadException>(() => MultibootLoader.Load("flat.bin", flat, mem, NoOptions));
        Assert.Equal("flat.bin: has no Multiboot header in its first 8192 bytes and is not an ELF file", e.Message);

        // A header that starts inside the first 8 KiB but does not end there does not count either.
        flat = MultibootHeaderBytes.FlatImage(8192 - 16, loadAddr: 0x100000, totalSize: 0x3000, entryOffset: 0x2000);
        e = Assert.Throws<ImageLoadException>(() => MultibootLoader.Load("flat.bin", flat, mem, NoOptions));
        Assert.Contains("cut off by the 8192-byte search limit", e.Message, StringComparison.Ordinal);

        // An ELF whose header is too far in boots as a plain ELF.
        var b = TestImages.Kernel(multiboot: false);
        var text = b.Segments[0].Data = new byte[0x2000];
        b.Segments[0].MemorySize = 0x2000;
        MultibootHeaderBytes.Create(0).CopyTo(text, 0x1FF0);
        b.Entry = TestImages.TextAddress;
        var img = MultibootLoader.Load("kernel.elf", b.Build().Bytes, mem, NoOptions);
        Assert.Equal(ImageFormat.PlainElf, img.Format);
    }

    [Fact]
    public void BadChecksumIsRejected()
    {
        var file = MultibootHeaderBytes.FlatImage(0x20, loadAddr: 0x100000, totalSize: 0x1000);
        MultibootHeaderBytes.Create(0x10000, checksumError: 1).AsSpan(0, 12).CopyTo(file.AsSpan(0x20));
        using var mem = TestImages.Memory();
        var e = Assert.Throws<ImageLoadException>(() => MultibootLoader.Load("bad.bin", file, mem, NoOptions));
        Assert.Equal("bad.bin: Multiboot header at file offset 0x20 has a bad checksum (magic + flags + checksum = 0x00000001, must be 0)", e.Message);

        // A stray magic with a bad checksum before the real header is skipped.
        var good = MultibootHeaderBytes.FlatImage(0x40, loadAddr: 0x100000, totalSize: 0x1000);
        MultibootHeaderBytes.Create(0, checksumError: 5).CopyTo(good, 0x10);
        Assert.Equal(0x40, MultibootLoader.Load("good.bin", good, mem, NoOptions).Header!.FileOffset);
    }

    [Fact]
    public void UnknownRequiredFlagsAreRejectedAndVideoIsNoted()
    {
        using var mem = TestImages.Memory();
        var file = TestImages.Kernel(headerFlags: 0x3 | 0x8).Build();
        var e = Assert.Throws<ImageLoadException>(() => MultibootLoader.Load("k", file.Bytes, mem, NoOptions));
        Assert.Equal($"k: Multiboot header at file offset 0x{file.SegmentFileOffsets[0]:x} requires features this loader does not provide (flag bits 0x0008)", e.Message);

        // Unknown optional bits (17-31) are ignored.
        Assert.Empty(MultibootLoader.Load("k", TestImages.Kernel(headerFlags: 0x3 | 0x80000000).Build().Bytes, mem, NoOptions).Notes);

        var video = MultibootHeaderBytes.FlatImage(0, 0x100000, 0x1000, extraFlags: 4);
        var img = MultibootLoader.Load("v.bin", video, mem, NoOptions);
        Assert.Single(img.Notes);
        Assert.Contains("video mode", img.Notes[0], StringComparison.Ordinal);
    }

    [Fact]
    public void AddressFieldsLoadPartOfTheFileAndZeroTheBss()
    {
        // The file: 0x80 bytes of preamble not loaded, then text+data of 0x800 bytes, then 0x100 trailing bytes.
        var file = new byte[0x980];
        new Random(9).NextBytes(file);
        const uint load = 0x200000;
        var header = MultibootHeaderBytes.Create(
            0x10003,
            headerAddr: load + 0x10,
            loadAddr: load,
            loadEndAddr: load + 0x800,
            bssEndAddr: load + 0x3000,
            entryAddr: load + 0x40);
        header.CopyTo(file, 0x90);

        using var mem = TestImages.Memory();
        mem.Fill(0, mem.Size, 0xEE);
        var img = MultibootLoader.Load("flat.bin", file, mem, NoOptions);

        Assert.Equal(load + 0x40, img.EntryPoint);
        Assert.Equal(load, img.ImageStart);
        Assert.Equal(load + 0x3000, img.ImageEnd);
        Assert.Equal(file.AsSpan(0x80, 0x800).ToArray(), TestImages.ReadBytes(mem, load, 0x800));
        Assert.All(TestImages.ReadBytes(mem, load + 0x800, 0x2800), b => Assert.Equal(0, b));
        Assert.Equal(0xEE, mem.Read8(load + 0x3000));
        Assert.Equal(0xEE, mem.Read8(load - 1));
    }

    [Fact]
    public void AddressFieldImageThatIsAlsoElfKeepsItsSymbols()
    {
        // The ELF file is loaded whole, as a flat binary, at 1 MiB; the header sits in .text.
        var b = TestImages.Kernel(multiboot: false);
        var file = b.Build();
        int headerAt = (int)file.SegmentFileOffsets[0];
        var header = MultibootHeaderBytes.Create(0x10000, headerAddr: 0x100000 + (uint)headerAt, loadAddr: 0x100000, entryAddr: 0x100000 + (uint)headerAt + 12);
        header.CopyTo(file.Bytes, headerAt);

        using var mem = TestImages.Memory();
        var img = MultibootLoader.Load("hybrid.elf", file.Bytes, mem, NoOptions);
        Assert.Equal(ImageFormat.MultibootAddressFields, img.Format);
        Assert.NotNull(img.Elf);
        Assert.True(img.Symbols.TryGetByName("kmain", out _));
        Assert.Equal(file.Bytes, TestImages.ReadBytes(mem, 0x100000, file.Bytes.Length));

        // The same with a broken ELF part: it still loads, without symbols, and says so.
        file.SetU16(18, 62);
        img = MultibootLoader.Load("hybrid.elf", file.Bytes, mem, NoOptions);
        Assert.Null(img.Elf);
        Assert.Equal(0, img.Symbols.Count);
        Assert.Contains("x86-64", Assert.Single(img.Notes), StringComparison.Ordinal);
    }

    [Fact]
    public void PlainElfIsLoadedWithoutBootInformation()
    {
        using var mem = TestImages.Memory();
        var img = MultibootLoader.Load("plain.elf", TestImages.Kernel(multiboot: false).Build().Bytes, mem, NoOptions);
        Assert.Equal(ImageFormat.PlainElf, img.Format);
        Assert.Equal(0u, img.Eax);
        Assert.Equal(0u, img.Ebx);
        Assert.Equal(0u, img.InfoAddress);
        Assert.Null(img.Header);
        Assert.Equal(TestImages.Entry, img.EntryPoint);
        Assert.Equal(img.ImageEnd, img.AllocationEnd);
        Assert.Equal(0x90, mem.Read8(TestImages.Entry));
        Assert.True(img.Symbols.TryGetByName("kmain", out _));
        Assert.Equal(0u, mem.Read32(MultibootLoader.InfoAreaStart));

        var e = Assert.Throws<ImageLoadException>(() => MultibootLoader.Load("plain.elf", TestImages.Kernel(multiboot: false).Build().Bytes, mem, new LoadOptions { CommandLine = "x" }));
        Assert.Contains("cannot be given a command line or modules", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HigherHalfKernelIsLoadedAtItsPhysicalAddresses()
    {
        var b = TestImages.Kernel();
        foreach (var s in b.Segments)
        {
            s.VirtualAddress = s.PhysicalAddress + 0xC0000000;
        }

        foreach (var s in b.Sections.Where(s => (s.Flags & ElfBuilder.ShfAlloc) != 0))
        {
            s.Address += 0xC0000000;
        }

        using var mem = TestImages.Memory();
        var img = MultibootLoader.Load("hh.elf", b.Build().Bytes, mem, NoOptions);
        Assert.Equal(TestImages.TextAddress, img.ImageStart);
        Assert.Equal(TestImages.Entry, img.EntryPoint);
        Assert.Equal(0x1BADB002u, mem.Read32(TestImages.TextAddress));

        // An entry point given as a virtual address is not translated: refused rather than jumped to.
        b.Entry = TestImages.Entry + 0xC0000000;
        var e = Assert.Throws<ImageLoadException>(() => MultibootLoader.Load("hh.elf", b.Build().Bytes, mem, NoOptions));
        Assert.Contains("entry point 0xc010000c is not in the file-backed part of any loadable segment", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InfoIsPlacedAroundAnImageInLowMemory()
    {
        var b = new ElfBuilder { Entry = 0x8000 };
        var code = new byte[0x3000];
        MultibootHeaderBytes.Create(0).CopyTo(code, 0);
        b.AddSegment(0x8000, code);
        using var mem = TestImages.Memory();
        var img = MultibootLoader.Load("low.elf", b.Build().Bytes, mem, new LoadOptions { Modules = [new BootModule("m", new byte[10], "m")] });

        // The image is 0x8000-0xafff: the information goes right after it, still in low memory,
        // and the module goes to the next free page.
        Assert.Equal(0xB000u, img.InfoAddress);
        Assert.Equal(0xC000u, img.Modules[0].Start);
        uint infoEnd = mem.Read32(img.InfoAddress + MultibootInfo.BootLoaderNameOffset) + (uint)new LoadOptions().BootLoaderName.Length + 1;
        Assert.True(infoEnd <= img.Modules[0].Start);
    }

    [Fact]
    public void WritesAreReportedToTheCodeObserver()
    {
        var observer = new RecordingObserver();
        using var mem = TestImages.Memory();
        mem.CodeObserver = observer;
        var img = MultibootLoader.Load("kernel.elf", TestImages.Kernel().Build().Bytes, mem, NoOptions);

        Assert.Contains((TestImages.TextAddress, TestImages.TextSize), observer.Writes);
        Assert.Contains((TestImages.DataAddress, TestImages.DataFileSize), observer.Writes);
        Assert.Contains((TestImages.DataAddress + TestImages.DataFileSize, TestImages.DataMemorySize - TestImages.DataFileSize), observer.Writes);
        Assert.Contains(observer.Writes, w => w.Start == img.InfoAddress);
    }

    [Fact]
    public void FailedLoadLeavesMemoryUntouched()
    {
        var observer = new RecordingObserver();
        using var mem = TestImages.Memory(2);
        mem.CodeObserver = observer;
        var options = new LoadOptions { Modules = [new BootModule("huge", new byte[3 << 20], string.Empty)] };
        var e = Assert.Throws<ImageLoadException>(() => MultibootLoader.Load("kernel.elf", TestImages.Kernel().Build().Bytes, mem, options));
        Assert.Equal("kernel.elf: not enough RAM above the image for module 0 (huge), 0x300000 bytes (guest RAM is 0x200000 bytes)", e.Message);
        Assert.Empty(observer.Writes);
        Assert.Equal(0u, mem.Read32(TestImages.TextAddress));
    }

    private sealed class RecordingObserver : ICodeWriteObserver
    {
        public List<(uint Start, uint Length)> Writes { get; } = [];

        public void PhysicalRangeWritten(uint phys, uint length) => Writes.Add((phys, length));
    }
}
