using System.Buffers.Binary;
using System.Text;

namespace Emulator.Loading;

/// <summary>
/// A parsed ELF32 little-endian i386 executable (<c>ET_EXEC</c>, <c>EM_386</c>): the entry point, the
/// loadable segments, the section headers and the symbol table. <see cref="Parse(string, ReadOnlySpan{byte})"/>
/// checks every offset, size and count against the file before using it and reports any
/// inconsistency as an <see cref="ImageLoadException"/>; nothing it reads can make it allocate more
/// than a small multiple of the file's size.
/// </summary>
public sealed class ElfImage
{
    public const int HeaderSize = 52;
    public const int ProgramHeaderSize = 32;
    public const int SectionHeaderSize = 40;
    public const int SymbolSize = 16;

    /// <summary>Largest program header table accepted, in bytes (the limit Linux uses too).</summary>
    public const int MaxProgramHeaderTableBytes = 65536;

    private const uint PtLoad = 1;
    private const uint PtInterp = 3;
    private const ushort EtExec = 2;
    private const ushort Em386 = 3;
    private const ushort ShnLoReserve = 0xFF00;
    private const ushort ShnAbs = 0xFFF1;
    private const ushort ShnCommon = 0xFFF2;
    private const ushort ShnXIndex = 0xFFFF;

    private ElfImage(
        uint entry,
        ElfSegment[] segments,
        ElfSection[] sections,
        SymbolTable symbols,
        uint sectionHeaderOffset,
        ushort sectionHeaderEntrySize,
        ushort sectionNameTableIndex,
        bool hasInterpreter)
    {
        Entry = entry;
        Segments = segments;
        Sections = sections;
        Symbols = symbols;
        SectionHeaderOffset = sectionHeaderOffset;
        SectionHeaderEntrySize = sectionHeaderEntrySize;
        SectionNameTableIndex = sectionNameTableIndex;
        HasInterpreter = hasInterpreter;
    }

    /// <summary><c>e_entry</c>.</summary>
    public uint Entry { get; }

    /// <summary>The <c>PT_LOAD</c> program headers, in program header table order.</summary>
    public IReadOnlyList<ElfSegment> Segments { get; }

    /// <summary>All section headers, in table order (index 0 is the null section); empty if the file has none.</summary>
    public IReadOnlyList<ElfSection> Sections { get; }

    /// <summary>The symbols of <c>.symtab</c> (with their names from its linked string table); empty if the file has none.</summary>
    public SymbolTable Symbols { get; }

    /// <summary><c>e_shoff</c>: file offset of the section header table (0 if there is none).</summary>
    public uint SectionHeaderOffset { get; }

    /// <summary><c>e_shentsize</c>: size of one section header table entry in the file.</summary>
    public ushort SectionHeaderEntrySize { get; }

    /// <summary><c>e_shstrndx</c>: index of the section name string table (0 if there is none).</summary>
    public ushort SectionNameTableIndex { get; }

    /// <summary>True if the executable asks for a program interpreter (<c>PT_INTERP</c>): it is dynamically linked.</summary>
    public bool HasInterpreter { get; }

    /// <summary>Returns the first section with the given name, or null.</summary>
    public ElfSection? FindSection(string name) => Sections.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));

    /// <summary>True if the file starts with the ELF magic bytes (whatever else it contains).</summary>
    public static bool HasElfSignature(ReadOnlySpan<byte> file) =>
        file.Length >= 4 && file[0] == 0x7F && file[1] == (byte)'E' && file[2] == (byte)'L' && file[3] == (byte)'F';

    /// <summary>Parses <paramref name="file"/>; error messages name it "image".</summary>
    public static ElfImage Parse(ReadOnlySpan<byte> file) => Parse("image", file);

    /// <summary>Parses <paramref name="file"/>; error messages start with <paramref name="displayName"/>.</summary>
    /// <exception cref="ImageLoadException">The file is not a well-formed ELF32 LSB i386 executable.</exception>
    public static ElfImage Parse(string displayName, ReadOnlySpan<byte> file)
    {
        ArgumentNullException.ThrowIfNull(displayName);
        var p = new Parser(displayName, file);
        return p.Run();
    }

    private ref struct Parser
    {
        private readonly string _name;
        private readonly ReadOnlySpan<byte> _file;

        public Parser(string name, ReadOnlySpan<byte> file)
        {
            _name = name;
            _file = file;
        }

        private readonly ImageLoadException Fail(string problem) => ImageLoadException.For(_name, problem);

        private readonly ushort U16(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(_file.Slice(offset, 2));

        private readonly uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_file.Slice(offset, 4));

        private readonly bool InFile(ulong offset, ulong size) => offset <= (ulong)_file.Length && size <= (ulong)_file.Length - offset;

        /// <summary>The bytes of a section whose range was checked; an empty section may have any offset.</summary>
        private readonly ReadOnlySpan<byte> SectionBytes(uint offset, uint size) => size == 0 ? default : _file.Slice((int)offset, (int)size);

        public readonly ElfImage Run()
        {
            CheckIdentification();

            ushort type = U16(16);
            if (type != EtExec)
            {
                throw Fail(type switch
                {
                    0 => "has no ELF file type (ET_NONE); only executables (ET_EXEC) can be loaded",
                    1 => "is a relocatable object file (ET_REL), not an executable (ET_EXEC); link it first",
                    3 => "is a shared object or position-independent executable (ET_DYN); only fixed-address executables (ET_EXEC) can be loaded",
                    4 => "is a core dump (ET_CORE), not an executable (ET_EXEC)",
                    _ => $"has unknown ELF file type {type}; only executables (ET_EXEC) can be loaded",
                });
            }

            ushort machine = U16(18);
            if (machine != Em386)
            {
                throw Fail(machine switch
                {
                    62 => "is an x86-64 ELF file (EM_X86_64); only 32-bit i386 (EM_386) images can be loaded",
                    _ => $"is for ELF machine {machine}, not i386 (EM_386 = 3)",
                });
            }

            uint version = U32(20);
            if (version != 1)
            {
                throw Fail($"has ELF version {version} in e_version (expected 1, EV_CURRENT)");
            }

            uint entry = U32(24);
            uint phoff = U32(28);
            uint shoff = U32(32);
            ushort ehsize = U16(40);
            ushort phentsize = U16(42);
            ushort phnum = U16(44);
            ushort shentsize = U16(46);
            ushort shnum = U16(48);
            ushort shstrndx = U16(50);

            if (ehsize < HeaderSize)
            {
                throw Fail($"has an ELF header size (e_ehsize) of {ehsize} bytes; at least {HeaderSize} expected");
            }

            if (ehsize > _file.Length)
            {
                throw Fail($"is truncated: the ELF header claims {ehsize} bytes but the file has {_file.Length}");
            }

            var (segments, hasInterpreter) = ReadProgramHeaders(phoff, phentsize, phnum);
            var sections = ReadSectionHeaders(shoff, shentsize, shnum, shstrndx);
            var symbols = ReadSymbols(sections);
            return new ElfImage(entry, segments, sections, symbols, shnum == 0 ? 0 : shoff, shentsize, shstrndx, hasInterpreter);
        }

        private readonly void CheckIdentification()
        {
            if (!HasElfSignature(_file))
            {
                throw Fail("is not an ELF file (no \\x7fELF signature)");
            }

            if (_file.Length < 16)
            {
                throw Fail($"is truncated: the ELF identification needs 16 bytes, the file has {_file.Length}");
            }

            switch (_file[4])
            {
                case 1:
                    break;
                case 2:
                    throw Fail("is a 64-bit ELF file (ELFCLASS64); only 32-bit (ELFCLASS32) i386 images can be loaded");
                default:
                    throw Fail($"has an invalid ELF class {_file[4]} (expected 1, ELFCLASS32)");
            }

            switch (_file[5])
            {
                case 1:
                    break;
                case 2:
                    throw Fail("is a big-endian ELF file (ELFDATA2MSB); i386 images are little-endian (ELFDATA2LSB)");
                default:
                    throw Fail($"has an invalid ELF data encoding {_file[5]} (expected 1, ELFDATA2LSB)");
            }

            if (_file[6] != 1)
            {
                throw Fail($"has ELF identification version {_file[6]} (expected 1, EV_CURRENT)");
            }

            if (_file.Length < HeaderSize)
            {
                throw Fail($"is truncated: the ELF header needs {HeaderSize} bytes, the file has {_file.Length}");
            }
        }

        private readonly (ElfSegment[] Segments, bool HasInterpreter) ReadProgramHeaders(uint phoff, ushort phentsize, ushort phnum)
        {
            if (phnum == 0)
            {
                return ([], false);
            }

            if (phnum == 0xFFFF)
            {
                throw Fail("uses extended program header numbering (e_phnum = PN_XNUM), which is not supported");
            }

            if (phentsize < ProgramHeaderSize)
            {
                throw Fail($"has a program header entry size (e_phentsize) of {phentsize} bytes; at least {ProgramHeaderSize} expected");
            }

            ulong tableSize = (ulong)phnum * phentsize;
            if (tableSize > MaxProgramHeaderTableBytes)
            {
                throw Fail($"has an absurd program header table ({phnum} entries of {phentsize} bytes)");
            }

            if (!InFile(phoff, tableSize))
            {
                throw Fail($"program header table extends past the end of the file (offset 0x{phoff:x}, {phnum} entries of {phentsize} bytes, file size 0x{_file.Length:x})");
            }

            var segments = new List<ElfSegment>();
            bool hasInterpreter = false;
            for (int i = 0; i < phnum; i++)
            {
                int at = (int)(phoff + ((uint)i * phentsize));
                uint pType = U32(at);
                uint offset = U32(at + 4);
                uint vaddr = U32(at + 8);
                uint paddr = U32(at + 12);
                uint filesz = U32(at + 16);
                uint memsz = U32(at + 20);
                uint flags = U32(at + 24);
                uint align = U32(at + 28);

                if (filesz > 0 && !InFile(offset, filesz))
                {
                    throw Fail($"program header {i} extends past the end of the file (offset 0x{offset:x}, size 0x{filesz:x}, file size 0x{_file.Length:x})");
                }

                hasInterpreter |= pType == PtInterp;
                if (pType != PtLoad)
                {
                    continue;
                }

                if (filesz > memsz)
                {
                    throw Fail($"program header {i} has a file size (0x{filesz:x}) larger than its memory size (0x{memsz:x})");
                }

                if ((ulong)paddr + memsz > 0x1_0000_0000UL)
                {
                    throw Fail($"program header {i} wraps around the end of the 32-bit physical address space (p_paddr 0x{paddr:x8}, p_memsz 0x{memsz:x})");
                }

                if ((ulong)vaddr + memsz > 0x1_0000_0000UL)
                {
                    throw Fail($"program header {i} wraps around the end of the 32-bit virtual address space (p_vaddr 0x{vaddr:x8}, p_memsz 0x{memsz:x})");
                }

                segments.Add(new ElfSegment(i, paddr, vaddr, offset, filesz, memsz, (ElfSegmentFlags)flags, align));
            }

            return (segments.ToArray(), hasInterpreter);
        }

        private readonly ElfSection[] ReadSectionHeaders(uint shoff, ushort shentsize, ushort shnum, ushort shstrndx)
        {
            if (shnum == 0)
            {
                if (shoff != 0)
                {
                    throw Fail("uses extended section numbering (e_shnum = 0 with e_shoff set), which is not supported");
                }

                if (shstrndx != 0)
                {
                    throw Fail($"names section {shstrndx} as its section name table but has no sections");
                }

                return [];
            }

            if (shnum >= ShnLoReserve)
            {
                throw Fail($"has an absurd number of sections ({shnum})");
            }

            if (shentsize < SectionHeaderSize)
            {
                throw Fail($"has a section header entry size (e_shentsize) of {shentsize} bytes; at least {SectionHeaderSize} expected");
            }

            ulong tableSize = (ulong)shnum * shentsize;
            if (!InFile(shoff, tableSize))
            {
                throw Fail($"section header table extends past the end of the file (offset 0x{shoff:x}, {shnum} entries of {shentsize} bytes, file size 0x{_file.Length:x})");
            }

            if (shstrndx == ShnXIndex)
            {
                throw Fail("uses an extended section name table index (e_shstrndx = SHN_XINDEX), which is not supported");
            }

            if (shstrndx >= shnum)
            {
                throw Fail($"names section {shstrndx} as its section name table but has only {shnum} sections");
            }

            var raw = new (uint Name, uint Type, uint Flags, uint Addr, uint Offset, uint Size, uint Link, uint Info, uint Align, uint EntSize)[shnum];
            for (int i = 0; i < shnum; i++)
            {
                int at = (int)(shoff + ((uint)i * shentsize));
                raw[i] = (U32(at), U32(at + 4), U32(at + 8), U32(at + 12), U32(at + 16), U32(at + 20), U32(at + 24), U32(at + 28), U32(at + 32), U32(at + 36));
                var h = raw[i];
                bool hasBytes = h.Type != (uint)ElfSectionType.NoBits && h.Type != (uint)ElfSectionType.Null;
                if (hasBytes && h.Size > 0 && !InFile(h.Offset, h.Size))
                {
                    throw Fail($"section {i} extends past the end of the file (offset 0x{h.Offset:x}, size 0x{h.Size:x}, file size 0x{_file.Length:x})");
                }

                if (h.Align > 1 && (h.Align & (h.Align - 1)) != 0)
                {
                    throw Fail($"section {i} has an alignment of 0x{h.Align:x}, which is not a power of two");
                }

                if ((h.Flags & (uint)ElfSectionFlags.Alloc) != 0 && (ulong)h.Addr + h.Size > 0x1_0000_0000UL)
                {
                    throw Fail($"section {i} wraps around the end of the 32-bit address space (address 0x{h.Addr:x8}, size 0x{h.Size:x})");
                }
            }

            ReadOnlySpan<byte> names = default;
            if (shstrndx != 0)
            {
                var n = raw[shstrndx];
                if (n.Type != (uint)ElfSectionType.StrTab)
                {
                    throw Fail($"section name table (section {shstrndx}) is not a string table (type {n.Type})");
                }

                names = SectionBytes(n.Offset, n.Size);
            }

            var sections = new ElfSection[shnum];
            for (int i = 0; i < shnum; i++)
            {
                var h = raw[i];
                string name = shstrndx == 0 ? string.Empty : ReadString(names, h.Name, $"section {i} name");
                sections[i] = new ElfSection(i, name, (ElfSectionType)h.Type, (ElfSectionFlags)h.Flags, h.Addr, h.Offset, h.Size, h.Link, h.Info, h.Align, h.EntSize);
            }

            return sections;
        }

        private readonly SymbolTable ReadSymbols(ElfSection[] sections)
        {
            var symtab = Array.Find(sections, static s => s.Type == ElfSectionType.SymTab);
            if (symtab is null)
            {
                return SymbolTable.Empty;
            }

            string what = $"symbol table (section {symtab.Index}{(symtab.Name.Length > 0 ? $", {symtab.Name}" : string.Empty)})";
            if (symtab.EntrySize != SymbolSize)
            {
                throw Fail($"{what} has an entry size of {symtab.EntrySize} bytes (expected {SymbolSize})");
            }

            if (symtab.Size % SymbolSize != 0)
            {
                throw Fail($"{what} size 0x{symtab.Size:x} is not a multiple of the entry size {SymbolSize}");
            }

            if (symtab.Link == 0 || symtab.Link >= sections.Length)
            {
                throw Fail($"{what} links to string table section {symtab.Link}, which does not exist");
            }

            var strtab = sections[symtab.Link];
            if (strtab.Type != ElfSectionType.StrTab)
            {
                throw Fail($"{what} links to section {strtab.Index}, which is not a string table (type {(uint)strtab.Type})");
            }

            // Both ranges were checked against the file when the section headers were read, so the
            // symbol count is bounded by the file size before anything is allocated for it.
            var entries = SectionBytes(symtab.Offset, symtab.Size);
            var strings = SectionBytes(strtab.Offset, strtab.Size);
            int count = entries.Length / SymbolSize;
            var symbols = new List<Symbol>(Math.Min(count, 1 << 16));
            for (int i = 1; i < count; i++)
            {
                var e = entries.Slice(i * SymbolSize, SymbolSize);
                uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(e);
                uint value = BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
                uint size = BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
                byte info = e[12];
                ushort shndx = BinaryPrimitives.ReadUInt16LittleEndian(e[14..]);
                int stType = info & 0xF;
                int stBind = info >> 4;

                string name = ReadString(strings, nameOffset, $"symbol {i} name");

                string? sectionName;
                if (shndx == 0)
                {
                    continue; // undefined: not part of this image
                }
                else if (shndx == ShnXIndex)
                {
                    throw Fail($"symbol {i} uses an extended section index (SHN_XINDEX), which is not supported");
                }
                else if (shndx >= ShnLoReserve)
                {
                    if (shndx != ShnAbs && shndx != ShnCommon)
                    {
                        continue; // processor- or OS-specific section index; no meaningful address
                    }

                    sectionName = null;
                }
                else if (shndx >= sections.Length)
                {
                    throw Fail($"symbol {i} refers to section {shndx}, but there are only {sections.Length} sections");
                }
                else
                {
                    sectionName = sections[shndx].Name;
                }

                SymbolKind kind;
                switch (stType)
                {
                    case 0: // STT_NOTYPE
                        kind = SymbolKind.Other;
                        break;
                    case 1: // STT_OBJECT
                    case 5: // STT_COMMON
                        kind = SymbolKind.Object;
                        break;
                    case 2: // STT_FUNC
                    case 10: // STT_GNU_IFUNC
                        kind = SymbolKind.Function;
                        break;
                    default:
                        continue; // sections, files, TLS offsets: not addresses worth naming
                }

                SymbolBinding binding;
                switch (stBind)
                {
                    case 0:
                        binding = SymbolBinding.Local;
                        break;
                    case 1:
                    case 10: // STB_GNU_UNIQUE
                        binding = SymbolBinding.Global;
                        break;
                    case 2:
                        binding = SymbolBinding.Weak;
                        break;
                    default:
                        continue;
                }

                if (name.Length == 0)
                {
                    continue;
                }

                symbols.Add(new Symbol(name, value, size, kind, binding, sectionName));
            }

            var allocated = sections
                .Where(static s => s.IsAllocated && (s.Flags & ElfSectionFlags.Tls) == 0 && s.Size > 0)
                .Select(static s => new SymbolSection(s.Name, s.Address, s.Size));
            return new SymbolTable(symbols, allocated);
        }

        private readonly string ReadString(ReadOnlySpan<byte> table, uint offset, string what)
        {
            if (offset == 0)
            {
                return string.Empty; // index 0 means "no name" in every ELF string table
            }

            if (offset >= (uint)table.Length)
            {
                throw Fail($"{what} (string offset 0x{offset:x}) is outside its string table (size 0x{table.Length:x})");
            }

            var rest = table[(int)offset..];
            int end = rest.IndexOf((byte)0);
            if (end < 0)
            {
                throw Fail($"{what} (string offset 0x{offset:x}) is not terminated within its string table");
            }

            return end == 0 ? string.Empty : Encoding.UTF8.GetString(rest[..end]);
        }
    }
}
