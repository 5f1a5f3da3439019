using Emulator.Loading;

namespace Emulator.Tests.Loading;

public class ElfImageTests
{
    [Fact]
    public void ParsesHeaderSegmentsAndSections()
    {
        var file = TestImages.Kernel().Build();
        var elf = ElfImage.Parse("kernel.elf", file.Bytes);

        Assert.Equal(TestImages.Entry, elf.Entry);
        Assert.Equal(2, elf.Segments.Count);

        var text = elf.Segments[0];
        Assert.Equal(0, text.Index);
        Assert.Equal(TestImages.TextAddress, text.PhysicalAddress);
        Assert.Equal(TestImages.TextAddress, text.VirtualAddress);
        Assert.Equal(file.SegmentFileOffsets[0], text.FileOffset);
        Assert.Equal(TestImages.TextSize, text.FileSize);
        Assert.Equal(TestImages.TextSize, text.MemorySize);
        Assert.Equal(ElfSegmentFlags.Read | ElfSegmentFlags.Execute, text.Flags);

        var data = elf.Segments[1];
        Assert.Equal(TestImages.DataAddress, data.PhysicalAddress);
        Assert.Equal(TestImages.DataFileSize, data.FileSize);
        Assert.Equal(TestImages.DataMemorySize, data.MemorySize);
        Assert.Equal(ElfSegmentFlags.Read | ElfSegmentFlags.Write, data.Flags);

        Assert.Equal(
            ["", ".text", ".data", ".bss", ".comment", ".symtab", ".strtab", ".shstrtab"],
            elf.Sections.Select(s => s.Name));
        var textSection = elf.FindSection(".text")!;
        Assert.Equal(ElfSectionType.ProgBits, textSection.Type);
        Assert.True(textSection.IsAllocated);
        Assert.Equal(ElfSectionFlags.Alloc | ElfSectionFlags.ExecInstr, textSection.Flags);
        Assert.Equal(TestImages.TextAddress, textSection.Address);
        Assert.Equal(TestImages.TextSize, textSection.Size);
        Assert.Equal(file.SegmentFileOffsets[0], textSection.Offset);
        Assert.Equal(ElfSectionType.NoBits, elf.FindSection(".bss")!.Type);
        Assert.False(elf.FindSection(".bss")!.HasFileData);
        Assert.Null(elf.FindSection(".nope"));

        Assert.Equal(file.SectionHeaderOffset, elf.SectionHeaderOffset);
        Assert.Equal(40, elf.SectionHeaderEntrySize);
        Assert.Equal(elf.Sections.Count - 1, elf.SectionNameTableIndex);
        Assert.False(elf.HasInterpreter);
    }

    [Fact]
    public void ReadsSymbolsWithKindsBindingsAndSections()
    {
        var elf = ElfImage.Parse(TestImages.Kernel().Build().Bytes);
        var symbols = elf.Symbols;

        // The STT_SECTION symbol is not kept; everything else is.
        Assert.Equal(8, symbols.Count);
        Assert.True(symbols.TryGetByName("kmain", out var kmain));
        Assert.Equal(new Symbol("kmain", TestImages.TextAddress + 0x40, 0x40, SymbolKind.Function, SymbolBinding.Global, ".text"), kmain);
        Assert.True(symbols.TryGetByName("helper", out var helper));
        Assert.Equal(SymbolBinding.Local, helper.Binding);
        Assert.True(symbols.TryGetByName("counter", out var counter));
        Assert.Equal(SymbolKind.Object, counter.Kind);
        Assert.Equal(".data", counter.SectionName);
        Assert.True(symbols.TryGetByName("KERNEL_VERSION", out var abs));
        Assert.Null(abs.SectionName);
        Assert.Equal(SymbolKind.Other, abs.Kind);
        Assert.False(symbols.TryGetByName(".text", out _));

        var addresses = symbols.Symbols.Select(s => s.Address).ToArray();
        Assert.Equal(addresses.Order(), addresses);
    }

    [Fact]
    public void ToleratesMissingSymbolTableAndMissingSections()
    {
        var b = TestImages.Kernel();
        b.Symbols.Clear();
        var elf = ElfImage.Parse(b.Build().Bytes);
        Assert.Equal(0, elf.Symbols.Count);
        Assert.Null(elf.Symbols.FindByAddress(TestImages.Entry));

        b.WithSections = false;
        b.Sections.Clear();
        elf = ElfImage.Parse(b.Build().Bytes);
        Assert.Empty(elf.Sections);
        Assert.Equal(0u, elf.SectionHeaderOffset);
        Assert.Equal(2, elf.Segments.Count);
    }

    [Fact]
    public void NonLoadProgramHeadersAreNotSegments()
    {
        var b = TestImages.Kernel();
        b.Segments.Add(new ElfBuilder.Segment { Type = 0x6474E551, Data = [], MemorySize = 0, Flags = 6 }); // PT_GNU_STACK
        var elf = ElfImage.Parse(b.Build().Bytes);
        Assert.Equal(2, elf.Segments.Count);
    }

    [Fact]
    public void DetectsInterpreter()
    {
        var b = TestImages.Kernel();
        b.Segments.Add(new ElfBuilder.Segment { Type = 3, Data = "/lib/ld-linux.so.2\0"u8.ToArray(), MemorySize = 19, Flags = 4 });
        var elf = ElfImage.Parse(b.Build().Bytes);
        Assert.True(elf.HasInterpreter);
    }

    [Fact]
    public void ErrorMessagesStartWithTheDisplayName()
    {
        var e = Assert.Throws<ImageLoadException>(() => ElfImage.Parse("kernel.elf", "nope"u8));
        Assert.StartsWith("kernel.elf: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        e = Assert.Throws<ImageLoadException>(() => ElfImage.Parse("nope"u8));
        Assert.StartsWith("image: ", e.Message, StringComparison.Ordinal);
    }
}
