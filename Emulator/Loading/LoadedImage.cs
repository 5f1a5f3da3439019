namespace Emulator.Loading;

/// <summary>How an image was loaded.</summary>
public enum ImageFormat
{
    /// <summary>A Multiboot header without address fields: the ELF program headers say where to load.</summary>
    MultibootElf,

    /// <summary>A Multiboot header with address fields (flag bit 16): typically a flat binary.</summary>
    MultibootAddressFields,

    /// <summary>An ELF executable without a Multiboot header; the kernel gets no boot information.</summary>
    PlainElf,
}

/// <summary>A boot module as placed in guest memory: [<see cref="Start"/>, <see cref="End"/>).</summary>
public sealed record LoadedModule(string Name, uint Start, uint End, string CommandLine, uint CommandLineAddress);

/// <summary>The result of loading an image: where it went and the register state to start it with.</summary>
public sealed class LoadedImage
{
    /// <summary>The value of EAX that tells a Multiboot kernel it was booted by a compliant loader.</summary>
    public const uint MultibootBootloaderMagic = 0x2BADB002;

    public required string DisplayName { get; init; }

    public required ImageFormat Format { get; init; }

    /// <summary>The physical address to start executing at (EIP), with paging off.</summary>
    public required uint EntryPoint { get; init; }

    /// <summary>EAX at entry: <see cref="MultibootBootloaderMagic"/> for Multiboot images, 0 for plain ELF.</summary>
    public required uint Eax { get; init; }

    /// <summary>EBX at entry: the physical address of the Multiboot information structure (0 for plain ELF).</summary>
    public required uint Ebx { get; init; }

    /// <summary>The Multiboot header, or null for plain ELF.</summary>
    public MultibootHeader? Header { get; init; }

    /// <summary>The parsed ELF file; null for an address-field image that is not a valid ELF file.</summary>
    public ElfImage? Elf { get; init; }

    /// <summary>The image's symbols; empty if it has none.</summary>
    public required SymbolTable Symbols { get; init; }

    /// <summary>Lowest physical address the image itself occupies.</summary>
    public required uint ImageStart { get; init; }

    /// <summary>One past the highest physical address the image itself occupies (including its bss).</summary>
    public required uint ImageEnd { get; init; }

    /// <summary>
    /// One past the highest physical address the loader wrote anything at: the image, its ELF
    /// sections, the modules and the boot information. RAM from here on was left untouched.
    /// </summary>
    public required uint AllocationEnd { get; init; }

    /// <summary>Physical address of the Multiboot information structure (0 for plain ELF).</summary>
    public required uint InfoAddress { get; init; }

    /// <summary>The modules, in order, as placed.</summary>
    public required IReadOnlyList<LoadedModule> Modules { get; init; }

    /// <summary>The memory map given to the kernel (also computed for plain ELF images, though not passed).</summary>
    public required IReadOnlyList<MemoryMapEntry> MemoryMap { get; init; }

    /// <summary>Things worth telling the user that did not stop the load (an ignored video mode request, ...).</summary>
    public required IReadOnlyList<string> Notes { get; init; }
}
