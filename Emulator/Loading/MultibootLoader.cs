using System.Buffers.Binary;
using System.Text;
using Emulator.Memory;

namespace Emulator.Loading;

/// <summary>
/// Loads an OS image into guest RAM the way a Multiboot (0.6.96) boot loader does, and writes the
/// Multiboot information structure. Accepted: Multiboot images with address fields (flat
/// binaries), Multiboot ELF images, and plain ELF executables without a Multiboot header.
/// Everything is validated and laid out before the first byte is written, so a failed load leaves
/// guest memory untouched; all writes go through <see cref="PhysicalMemory.Write"/> and
/// <see cref="PhysicalMemory.Fill"/>.
/// </summary>
public static class MultibootLoader
{
    /// <summary>Lowest address of the area for the information structure, memory map and strings.</summary>
    public const uint InfoAreaStart = 0x9000;

    /// <summary>End of that area: the extended BIOS data area starts here.</summary>
    public const uint InfoAreaEnd = 0x9FC00;

    private const ulong FourGiB = 0x1_0000_0000UL;
    private const uint LowMemoryTop = 0xA0000;
    private const uint HighMemoryBase = 0x100000;
    private const int InfoReserve = 128;

    private readonly record struct Piece(string What, uint Address, uint FileOffset, uint FileSize, uint MemorySize)
    {
        public ulong End => (ulong)Address + MemorySize;
    }

    /// <summary>Loads <paramref name="file"/> into <paramref name="memory"/>.</summary>
    /// <param name="displayName">Name of the image in messages (e.g. its file name).</param>
    /// <param name="file">The image's bytes.</param>
    /// <param name="memory">Guest RAM to load into.</param>
    /// <param name="options">Command line, modules, boot loader name and reserved regions.</param>
    /// <exception cref="ImageLoadException">The image cannot be loaded; the message says why.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> is inconsistent (e.g. overlapping reserved regions).</exception>
    public static LoadedImage Load(string displayName, ReadOnlySpan<byte> file, PhysicalMemory memory, LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(displayName);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(options);
        var reserved = CheckReservedRegions(options.ReservedRegions);
        CheckOptionStrings(displayName, options);

        var notes = new List<string>();
        var header = MultibootHeader.Find(displayName, file);
        ElfImage? elf = null;
        ImageFormat format;
        uint entry;
        List<Piece> pieces;

        if (header is not null)
        {
            CheckHeaderFlags(displayName, header, notes);
            if (header.HasAddressFields)
            {
                format = ImageFormat.MultibootAddressFields;
                pieces = [AddressFieldsPiece(displayName, header, file.Length)];
                entry = header.EntryAddress;
                if (ElfImage.HasElfSignature(file))
                {
                    try
                    {
                        elf = ElfImage.Parse(displayName, file);
                    }
                    catch (ImageLoadException e)
                    {
                        notes.Add($"the image looks like ELF but is loaded by its Multiboot address fields; no symbols ({e.Message})");
                    }
                }
            }
            else
            {
                if (!ElfImage.HasElfSignature(file))
                {
                    throw Fail(displayName, $"Multiboot header at file offset 0x{header.FileOffset:x} has no address fields (flag bit 16) and the image is not an ELF file, so there is no way to know where to load it");
                }

                format = ImageFormat.MultibootElf;
                elf = ElfImage.Parse(displayName, file);
                (pieces, entry) = ElfPieces(displayName, elf);
            }
        }
        else
        {
            if (!ElfImage.HasElfSignature(file))
            {
                throw Fail(displayName, $"has no Multiboot header in its first {MultibootHeader.SearchLimit} bytes and is not an ELF file");
            }

            format = ImageFormat.PlainElf;
            elf = ElfImage.Parse(displayName, file);
            if (options.Modules.Count > 0 || options.CommandLine.Length > 0)
            {
                throw Fail(displayName, "is a plain ELF executable without a Multiboot header, so it cannot be given a command line or modules");
            }

            (pieces, entry) = ElfPieces(displayName, elf);
        }

        CheckPieces(displayName, pieces, memory, reserved);

        var placement = new PhysicalPlacement(memory.Size);
        foreach (var (start, end, name) in PhysicalMap.Holes)
        {
            placement.Reserve(start, end, name);
        }

        foreach (var r in reserved)
        {
            placement.Reserve(r.Base, r.End, $"reserved memory {Range(r.Base, r.End)}");
        }

        foreach (var p in pieces)
        {
            placement.Reserve(p.Address, p.End, p.What);
        }

        uint imageStart = pieces.Min(static p => p.Address);
        uint imageEnd = (uint)pieces.Max(static p => p.End);
        var memoryMap = BuildMemoryMap(memory.Size, reserved);

        if (format == ImageFormat.PlainElf)
        {
            WritePieces(file, memory, pieces);
            return new LoadedImage
            {
                DisplayName = displayName,
                Format = format,
                EntryPoint = entry,
                Eax = 0,
                Ebx = 0,
                Header = null,
                Elf = elf,
                Symbols = elf?.Symbols ?? SymbolTable.Empty,
                ImageStart = imageStart,
                ImageEnd = imageEnd,
                AllocationEnd = imageEnd,
                InfoAddress = 0,
                Modules = [],
                MemoryMap = memoryMap,
                Notes = notes,
            };
        }

        var boot = new BootInfoBuilder(displayName, options, memoryMap);
        ulong highFrom = PhysicalPlacement.AlignUp(imageEnd, PhysicalMemory.PageSize);

        // The information structure, memory map, module list and strings go in low memory, where
        // neither the image nor the modules are; above the image if low memory is taken.
        if (!placement.TryAllocate((ulong)boot.Size, 16, InfoAreaStart, InfoAreaEnd, "the Multiboot information", out uint infoAddress))
        {
            if (!placement.TryAllocate((ulong)boot.Size, 16, highFrom, FourGiB, "the Multiboot information", out infoAddress))
            {
                throw Fail(displayName, $"no room in guest RAM for the Multiboot information (0x{boot.Size:x} bytes)");
            }

            notes.Add($"low memory 0x{InfoAreaStart:x}-0x{InfoAreaEnd - 1:x} is occupied; the Multiboot information is at 0x{infoAddress:x8}");
        }

        // ELF images get their section header table, and "all sections are loaded" (0.6.96, 3.3):
        // sections that are not part of a segment (symbol and string tables, debug data) are
        // placed after the image and their sh_addr in the copied table says where.
        var sectionCopies = new List<(ElfSection Section, uint Address)>();
        byte[]? sectionTable = null;
        uint sectionTableAddress = 0;
        if (format == ImageFormat.MultibootElf && elf is not null && elf.Sections.Count > 0)
        {
            int entrySize = elf.SectionHeaderEntrySize;
            sectionTable = file.Slice((int)elf.SectionHeaderOffset, elf.Sections.Count * entrySize).ToArray();
            foreach (var s in elf.Sections)
            {
                if (s.Address != 0 || s.Size == 0 || s.IsAllocated || s.Type == ElfSectionType.Null)
                {
                    continue;
                }

                ulong align = Math.Clamp(s.Alignment, 1u, PhysicalMemory.PageSize);
                string what = $"section {s.Index} ({s.Name})";
                if (!placement.TryAllocate(s.Size, align, highFrom, FourGiB, what, out uint at))
                {
                    throw Fail(displayName, $"not enough RAM above the image for {what}, 0x{s.Size:x} bytes (guest RAM is 0x{memory.Size:x} bytes)");
                }

                sectionCopies.Add((s, at));
                BinaryPrimitives.WriteUInt32LittleEndian(sectionTable.AsSpan((s.Index * entrySize) + 12, 4), at);
            }

            if (!placement.TryAllocate((ulong)sectionTable.Length, 4, highFrom, FourGiB, "the ELF section header table", out sectionTableAddress))
            {
                throw Fail(displayName, $"not enough RAM above the image for the ELF section header table, 0x{sectionTable.Length:x} bytes (guest RAM is 0x{memory.Size:x} bytes)");
            }
        }

        var modules = new List<LoadedModule>(options.Modules.Count);
        for (int i = 0; i < options.Modules.Count; i++)
        {
            var m = options.Modules[i];
            string what = $"module {i} ({m.Name})";
            if (!placement.TryAllocate((ulong)m.Data.Length, PhysicalMemory.PageSize, highFrom, FourGiB, what, out uint at))
            {
                throw Fail(displayName, $"not enough RAM above the image for {what}, 0x{m.Data.Length:x} bytes (guest RAM is 0x{memory.Size:x} bytes)");
            }

            modules.Add(new LoadedModule(m.Name, at, at + (uint)m.Data.Length, m.CommandLine, boot.ModuleStringAddress(infoAddress, i)));
        }

        var info = boot.Build(infoAddress, modules, sectionTable is null ? null : (elf!.Sections.Count, elf.SectionHeaderEntrySize, sectionTableAddress, elf.SectionNameTableIndex));

        // Everything is placed and checked; from here on nothing can fail.
        WritePieces(file, memory, pieces);
        foreach (var (s, at) in sectionCopies)
        {
            if (s.HasFileData)
            {
                memory.Write(at, file.Slice((int)s.Offset, (int)s.Size));
            }
            else
            {
                memory.Fill(at, s.Size, 0);
            }
        }

        if (sectionTable is not null)
        {
            memory.Write(sectionTableAddress, sectionTable);
        }

        for (int i = 0; i < modules.Count; i++)
        {
            if (options.Modules[i].Data.Length > 0)
            {
                memory.Write(modules[i].Start, options.Modules[i].Data.Span);
            }
        }

        memory.Write(infoAddress, info);

        return new LoadedImage
        {
            DisplayName = displayName,
            Format = format,
            EntryPoint = entry,
            Eax = LoadedImage.MultibootBootloaderMagic,
            Ebx = infoAddress,
            Header = header,
            Elf = elf,
            Symbols = elf?.Symbols ?? SymbolTable.Empty,
            ImageStart = imageStart,
            ImageEnd = imageEnd,
            AllocationEnd = (uint)Math.Max(imageEnd, placement.AllocatedEnd),
            InfoAddress = infoAddress,
            Modules = modules,
            MemoryMap = memoryMap,
            Notes = notes,
        };
    }

    /// <summary>
    /// The memory map for <paramref name="ramSize"/> bytes of RAM: RAM outside the device holes and
    /// the reserved regions as available, plus the reserved regions, in address order.
    /// </summary>
    public static IReadOnlyList<MemoryMapEntry> BuildMemoryMap(uint ramSize, IReadOnlyList<MemoryMapEntry> reservedRegions)
    {
        var reserved = CheckReservedRegions(reservedRegions);
        var cuts = new List<(ulong Start, ulong End)>();
        foreach (var (s, e, _) in PhysicalMap.Holes)
        {
            cuts.Add((s, e));
        }

        foreach (var r in reserved)
        {
            cuts.Add((r.Base, r.End));
        }

        cuts.Sort();
        var map = new List<MemoryMapEntry>();
        ulong cursor = 0;
        foreach (var (s, e) in cuts)
        {
            if (s > cursor)
            {
                AddAvailable(map, cursor, Math.Min(s, ramSize));
            }

            cursor = Math.Max(cursor, e);
        }

        AddAvailable(map, cursor, ramSize);
        map.AddRange(reserved);
        map.Sort(static (a, b) => a.Base.CompareTo(b.Base));
        return map;

        static void AddAvailable(List<MemoryMapEntry> map, ulong start, ulong end)
        {
            if (end > start)
            {
                map.Add(new MemoryMapEntry(start, end - start, MemoryMapType.Available));
            }
        }
    }

    private static ImageLoadException Fail(string displayName, string problem) => ImageLoadException.For(displayName, problem);

    private static string Range(ulong start, ulong end) => $"0x{start:x8}-0x{end - 1:x8}";

    private static MemoryMapEntry[] CheckReservedRegions(IReadOnlyList<MemoryMapEntry> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        var sorted = regions.OrderBy(static r => r.Base).ToArray();
        for (int i = 0; i < sorted.Length; i++)
        {
            var r = sorted[i];
            if (r.Length == 0 || r.Base >= FourGiB || r.Length > FourGiB - r.Base)
            {
                throw new ArgumentException($"reserved region {r} is empty or extends past 4 GiB", nameof(regions));
            }

            if (r.Type == MemoryMapType.Available)
            {
                throw new ArgumentException($"reserved region {r} has type Available", nameof(regions));
            }

            if (i > 0 && r.Base < sorted[i - 1].End)
            {
                throw new ArgumentException($"reserved regions {sorted[i - 1]} and {r} overlap", nameof(regions));
            }
        }

        return sorted;
    }

    private static void CheckOptionStrings(string displayName, LoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options.CommandLine);
        ArgumentNullException.ThrowIfNull(options.BootLoaderName);
        ArgumentNullException.ThrowIfNull(options.Modules);
        CheckNoNul(options.CommandLine, "the kernel command line");
        CheckNoNul(options.BootLoaderName, "the boot loader name");
        for (int i = 0; i < options.Modules.Count; i++)
        {
            var m = options.Modules[i];
            ArgumentNullException.ThrowIfNull(m, nameof(options));
            ArgumentNullException.ThrowIfNull(m.Name, nameof(options));
            ArgumentNullException.ThrowIfNull(m.CommandLine, nameof(options));
            CheckNoNul(m.CommandLine, $"the command line of module {i} ({m.Name})");
        }

        void CheckNoNul(string s, string what)
        {
            if (s.Contains('\0', StringComparison.Ordinal))
            {
                throw Fail(displayName, $"{what} contains a NUL character, which would cut it short");
            }
        }
    }

    private static void CheckHeaderFlags(string displayName, MultibootHeader header, List<string> notes)
    {
        uint unknown = header.UnsupportedRequiredFlags;
        if (unknown != 0)
        {
            throw Fail(displayName, $"Multiboot header at file offset 0x{header.FileOffset:x} requires features this loader does not provide (flag bits 0x{unknown:x4})");
        }

        if (header.RequestsVideoMode)
        {
            notes.Add($"the image asks for a video mode (type {header.ModeType}, {header.Width}x{header.Height}x{header.Depth}); no video information is provided and the display stays in text mode");
        }
    }

    private static Piece AddressFieldsPiece(string displayName, MultibootHeader h, int fileLength)
    {
        if (h.LoadAddress > h.HeaderAddress)
        {
            throw Fail(displayName, $"Multiboot load_addr 0x{h.LoadAddress:x8} is above header_addr 0x{h.HeaderAddress:x8}");
        }

        ulong delta = h.HeaderAddress - h.LoadAddress;
        if (delta > (ulong)h.FileOffset)
        {
            throw Fail(displayName, $"Multiboot header_addr 0x{h.HeaderAddress:x8} is 0x{delta:x} bytes above load_addr 0x{h.LoadAddress:x8}, but the header is only 0x{h.FileOffset:x} bytes into the file");
        }

        ulong fileStart = (ulong)h.FileOffset - delta;
        ulong loadSize;
        if (h.LoadEndAddress == 0)
        {
            loadSize = (ulong)fileLength - fileStart;
        }
        else
        {
            if (h.LoadEndAddress < h.LoadAddress)
            {
                throw Fail(displayName, $"Multiboot load_end_addr 0x{h.LoadEndAddress:x8} is below load_addr 0x{h.LoadAddress:x8}");
            }

            loadSize = h.LoadEndAddress - h.LoadAddress;
            if (loadSize > (ulong)fileLength - fileStart)
            {
                throw Fail(displayName, $"Multiboot load_end_addr 0x{h.LoadEndAddress:x8} lies past the end of the file (0x{loadSize:x} bytes from file offset 0x{fileStart:x}, the file has 0x{fileLength:x})");
            }
        }

        ulong loadEnd = h.LoadAddress + loadSize;
        if (loadEnd > FourGiB)
        {
            throw Fail(displayName, $"Multiboot load of 0x{loadSize:x} bytes at 0x{h.LoadAddress:x8} wraps around the end of the 32-bit address space");
        }

        ulong bssEnd = loadEnd;
        if (h.BssEndAddress != 0)
        {
            if (h.BssEndAddress < loadEnd)
            {
                throw Fail(displayName, $"Multiboot bss_end_addr 0x{h.BssEndAddress:x8} is below the end of the loaded data 0x{loadEnd:x8}");
            }

            bssEnd = h.BssEndAddress;
        }

        if (loadSize == 0)
        {
            throw Fail(displayName, "Multiboot address fields load no bytes from the file");
        }

        if (h.EntryAddress < h.LoadAddress || h.EntryAddress >= loadEnd)
        {
            throw Fail(displayName, $"Multiboot entry_addr 0x{h.EntryAddress:x8} is outside the loaded image {Range(h.LoadAddress, loadEnd)}");
        }

        return new Piece("the image", h.LoadAddress, (uint)fileStart, (uint)loadSize, (uint)(bssEnd - h.LoadAddress));
    }

    private static (List<Piece> Pieces, uint Entry) ElfPieces(string displayName, ElfImage elf)
    {
        if (elf.HasInterpreter)
        {
            throw Fail(displayName, "is dynamically linked (it has a PT_INTERP program header); only static executables can be booted");
        }

        var pieces = new List<Piece>();
        foreach (var s in elf.Segments)
        {
            if (s.MemorySize > 0)
            {
                pieces.Add(new Piece($"program header {s.Index}", s.PhysicalAddress, s.FileOffset, s.FileSize, s.MemorySize));
            }
        }

        if (pieces.Count == 0)
        {
            throw Fail(displayName, "has no loadable segments (no PT_LOAD program header with a non-zero memory size)");
        }

        uint entry = elf.Entry;
        if (!pieces.Exists(p => entry >= p.Address && entry - p.Address < p.FileSize))
        {
            throw Fail(displayName, $"entry point 0x{entry:x8} is not in the file-backed part of any loadable segment's physical range (e_entry is used as a physical address, as QEMU does)");
        }

        return (pieces, entry);
    }

    private static void CheckPieces(string displayName, List<Piece> pieces, PhysicalMemory memory, MemoryMapEntry[] reserved)
    {
        foreach (var p in pieces)
        {
            string where = $"{p.What} ({Range(p.Address, p.End)})";
            if (!memory.Contains(p.Address, p.MemorySize))
            {
                throw Fail(displayName, $"{where} lies outside guest RAM (0x{memory.Size:x} bytes, {memory.Size >> 20} MiB)");
            }

            if (PhysicalMap.OverlappedHole(p.Address, p.MemorySize) is { } hole)
            {
                throw Fail(displayName, $"{where} overlaps {hole}");
            }

            foreach (var r in reserved)
            {
                if (p.Address < r.End && p.End > r.Base)
                {
                    throw Fail(displayName, $"{where} overlaps reserved memory {Range(r.Base, r.End)} ({r.Type})");
                }
            }
        }

        var sorted = pieces.OrderBy(static p => p.Address).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            var a = sorted[i - 1];
            var b = sorted[i];
            if (b.Address < a.End)
            {
                throw Fail(displayName, $"{a.What} ({Range(a.Address, a.End)}) and {b.What} ({Range(b.Address, b.End)}) overlap");
            }
        }
    }

    private static void WritePieces(ReadOnlySpan<byte> file, PhysicalMemory memory, List<Piece> pieces)
    {
        foreach (var p in pieces)
        {
            if (p.FileSize > 0)
            {
                memory.Write(p.Address, file.Slice((int)p.FileOffset, (int)p.FileSize));
            }

            if (p.MemorySize > p.FileSize)
            {
                memory.Fill(p.Address + p.FileSize, p.MemorySize - p.FileSize, 0);
            }
        }
    }

    /// <summary>
    /// Lays out and fills the block holding the information structure, the memory map, the module
    /// list and the strings: [info | mmap | mods | cmdline, boot loader name, module strings].
    /// </summary>
    private sealed class BootInfoBuilder
    {
        private readonly IReadOnlyList<MemoryMapEntry> _map;
        private readonly byte[] _commandLine;
        private readonly byte[] _loaderName;
        private readonly byte[][] _moduleStrings;
        private readonly int _mmapOffset;
        private readonly int _modsOffset;
        private readonly int _stringsOffset;

        public BootInfoBuilder(string displayName, LoadOptions options, IReadOnlyList<MemoryMapEntry> map)
        {
            _map = map;
            _commandLine = Encoding.UTF8.GetBytes(options.CommandLine);
            _loaderName = Encoding.UTF8.GetBytes(options.BootLoaderName);
            _moduleStrings = options.Modules.Select(static m => Encoding.UTF8.GetBytes(m.CommandLine)).ToArray();
            _mmapOffset = InfoReserve;
            _modsOffset = _mmapOffset + (map.Count * MultibootInfo.MemoryMapEntrySize);
            _stringsOffset = _modsOffset + (_moduleStrings.Length * MultibootInfo.ModuleEntrySize);
            long size = _stringsOffset + _commandLine.Length + 1L + _loaderName.Length + 1L + _moduleStrings.Sum(static s => s.Length + 1L);
            if (size > int.MaxValue / 2)
            {
                throw Fail(displayName, $"the command line, boot loader name and module strings are too long (0x{size:x} bytes)");
            }

            Size = (int)size;
        }

        public int Size { get; }

        private int ModuleStringOffset(int index)
        {
            int at = _stringsOffset + _commandLine.Length + 1 + _loaderName.Length + 1;
            for (int i = 0; i < index; i++)
            {
                at += _moduleStrings[i].Length + 1;
            }

            return at;
        }

        public uint ModuleStringAddress(uint baseAddress, int index) => baseAddress + (uint)ModuleStringOffset(index);

        public byte[] Build(uint baseAddress, List<LoadedModule> modules, (int Count, int EntrySize, uint Address, int NameIndex)? elfSections)
        {
            var b = new byte[Size];
            var span = b.AsSpan();
            uint flags = MultibootInfo.MemoryFlag | MultibootInfo.CommandLineFlag | MultibootInfo.ModulesFlag
                | MultibootInfo.MemoryMapFlag | MultibootInfo.BootLoaderNameFlag;

            ulong lowerEnd = 0;
            ulong upperEnd = HighMemoryBase;
            foreach (var e in _map)
            {
                if (e.Type != MemoryMapType.Available)
                {
                    continue;
                }

                if (e.Base == 0)
                {
                    lowerEnd = Math.Min(e.End, LowMemoryTop);
                }
                else if (e.Base == HighMemoryBase)
                {
                    upperEnd = e.End;
                }
            }

            Put(span, MultibootInfo.MemLowerOffset, (uint)(lowerEnd / 1024));
            Put(span, MultibootInfo.MemUpperOffset, (uint)((upperEnd - HighMemoryBase) / 1024));

            int cmdAt = _stringsOffset;
            _commandLine.CopyTo(span[cmdAt..]);
            Put(span, MultibootInfo.CommandLineOffset, baseAddress + (uint)cmdAt);

            int nameAt = cmdAt + _commandLine.Length + 1;
            _loaderName.CopyTo(span[nameAt..]);
            Put(span, MultibootInfo.BootLoaderNameOffset, baseAddress + (uint)nameAt);

            Put(span, MultibootInfo.ModsCountOffset, (uint)modules.Count);
            Put(span, MultibootInfo.ModsAddrOffset, baseAddress + (uint)_modsOffset);
            for (int i = 0; i < modules.Count; i++)
            {
                int stringAt = ModuleStringOffset(i);
                _moduleStrings[i].CopyTo(span[stringAt..]);
                int at = _modsOffset + (i * MultibootInfo.ModuleEntrySize);
                Put(span, at, modules[i].Start);
                Put(span, at + 4, modules[i].End);
                Put(span, at + 8, baseAddress + (uint)stringAt);
            }

            if (elfSections is { } es)
            {
                flags |= MultibootInfo.ElfSectionsFlag;
                Put(span, MultibootInfo.ElfNumOffset, (uint)es.Count);
                Put(span, MultibootInfo.ElfSizeOffset, (uint)es.EntrySize);
                Put(span, MultibootInfo.ElfAddrOffset, es.Address);
                Put(span, MultibootInfo.ElfShndxOffset, (uint)es.NameIndex);
            }

            for (int i = 0; i < _map.Count; i++)
            {
                var e = _map[i];
                var entry = span.Slice(_mmapOffset + (i * MultibootInfo.MemoryMapEntrySize), MultibootInfo.MemoryMapEntrySize);
                BinaryPrimitives.WriteUInt32LittleEndian(entry, MultibootInfo.MemoryMapEntrySize - 4);
                BinaryPrimitives.WriteUInt64LittleEndian(entry[4..], e.Base);
                BinaryPrimitives.WriteUInt64LittleEndian(entry[12..], e.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(entry[20..], (uint)e.Type);
            }

            Put(span, MultibootInfo.MmapLengthOffset, (uint)(_map.Count * MultibootInfo.MemoryMapEntrySize));
            Put(span, MultibootInfo.MmapAddrOffset, baseAddress + (uint)_mmapOffset);
            Put(span, MultibootInfo.FlagsOffset, flags);
            return b;

            static void Put(Span<byte> s, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(offset, 4), value);
        }
    }
}
