namespace Emulator.Loading;

/// <summary>Permission bits of an ELF program header (<c>p_flags</c>).</summary>
[Flags]
public enum ElfSegmentFlags : uint
{
    None = 0,
    Execute = 1,
    Write = 2,
    Read = 4,
}

/// <summary>A loadable (<c>PT_LOAD</c>) program header of an <see cref="ElfImage"/>.</summary>
/// <param name="Index">Index of the program header in the program header table.</param>
/// <param name="PhysicalAddress"><c>p_paddr</c>: where a boot loader places the segment.</param>
/// <param name="VirtualAddress"><c>p_vaddr</c>: where the segment runs once the kernel enables paging.</param>
/// <param name="FileOffset"><c>p_offset</c>.</param>
/// <param name="FileSize"><c>p_filesz</c>: bytes copied from the file.</param>
/// <param name="MemorySize"><c>p_memsz</c>: bytes occupied in memory; the tail past the file bytes is zeroed.</param>
/// <param name="Flags"><c>p_flags</c>.</param>
/// <param name="Alignment"><c>p_align</c>.</param>
public readonly record struct ElfSegment(
    int Index,
    uint PhysicalAddress,
    uint VirtualAddress,
    uint FileOffset,
    uint FileSize,
    uint MemorySize,
    ElfSegmentFlags Flags,
    uint Alignment);

/// <summary>Section types (<c>sh_type</c>). Values not named here are kept as their number.</summary>
public enum ElfSectionType : uint
{
    Null = 0,
    ProgBits = 1,
    SymTab = 2,
    StrTab = 3,
    Rela = 4,
    Hash = 5,
    Dynamic = 6,
    Note = 7,
    NoBits = 8,
    Rel = 9,
    ShLib = 10,
    DynSym = 11,
    InitArray = 14,
    FiniArray = 15,
    PreInitArray = 16,
    Group = 17,
    SymTabShndx = 18,
}

/// <summary>Section attribute bits (<c>sh_flags</c>).</summary>
[Flags]
public enum ElfSectionFlags : uint
{
    None = 0,
    Write = 0x1,
    Alloc = 0x2,
    ExecInstr = 0x4,
    Merge = 0x10,
    Strings = 0x20,
    InfoLink = 0x40,
    LinkOrder = 0x80,
    OsNonConforming = 0x100,
    Group = 0x200,
    Tls = 0x400,
}

/// <summary>A section header of an <see cref="ElfImage"/>.</summary>
/// <param name="Index">Index in the section header table (0 is the null section).</param>
/// <param name="Name">Name from the section name string table; empty if the image has none.</param>
/// <param name="Type"><c>sh_type</c>.</param>
/// <param name="Flags"><c>sh_flags</c>.</param>
/// <param name="Address"><c>sh_addr</c>: the (virtual) address of an allocated section, else usually 0.</param>
/// <param name="Offset"><c>sh_offset</c>.</param>
/// <param name="Size"><c>sh_size</c>.</param>
/// <param name="Link"><c>sh_link</c>.</param>
/// <param name="Info"><c>sh_info</c>.</param>
/// <param name="Alignment"><c>sh_addralign</c> (0 or a power of two).</param>
/// <param name="EntrySize"><c>sh_entsize</c>.</param>
public sealed record ElfSection(
    int Index,
    string Name,
    ElfSectionType Type,
    ElfSectionFlags Flags,
    uint Address,
    uint Offset,
    uint Size,
    uint Link,
    uint Info,
    uint Alignment,
    uint EntrySize)
{
    /// <summary>True if the section occupies memory when the program runs (<c>SHF_ALLOC</c>).</summary>
    public bool IsAllocated => (Flags & ElfSectionFlags.Alloc) != 0;

    /// <summary>True if the section has bytes in the file (it is not <c>SHT_NOBITS</c> or <c>SHT_NULL</c>).</summary>
    public bool HasFileData => Type is not ElfSectionType.NoBits and not ElfSectionType.Null;
}
