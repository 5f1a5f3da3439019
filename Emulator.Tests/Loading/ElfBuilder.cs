using System.Buffers.Binary;
using System.Text;

namespace Emulator.Tests.Loading;

/// <summary>
/// Writes small ELF32 files for tests: an ELF header, program headers with their data, sections
/// (optionally pointing into a segment's data), and a .symtab/.strtab pair built from symbols.
/// The header fields are public so that tests can make them wrong on purpose; <see cref="ElfFile"/>
/// reports where everything ended up so that tests can corrupt bytes afterwards.
/// </summary>
internal sealed class ElfBuilder
{
    public const byte SttNoType = 0;
    public const byte SttObject = 1;
    public const byte SttFunc = 2;
    public const byte SttSection = 3;
    public const byte StbLocal = 0;
    public const byte StbGlobal = 1;
    public const byte StbWeak = 2;

    public const uint ShfWrite = 1;
    public const uint ShfAlloc = 2;
    public const uint ShfExec = 4;

    public const uint ShtProgBits = 1;
    public const uint ShtSymTab = 2;
    public const uint ShtStrTab = 3;
    public const uint ShtNoBits = 8;

    public byte Class { get; set; } = 1;

    public byte DataEncoding { get; set; } = 1;

    public ushort Type { get; set; } = 2;

    public ushort Machine { get; set; } = 3;

    public uint Entry { get; set; } = 0x100000;

    /// <summary>Whether to emit a section header table at all (with .shstrtab).</summary>
    public bool WithSections { get; set; } = true;

    public List<Segment> Segments { get; } = [];

    public List<Section> Sections { get; } = [];

    public List<Sym> Symbols { get; } = [];

    public sealed class Segment
    {
        public uint Type { get; set; } = 1;

        public uint PhysicalAddress { get; set; }

        public uint VirtualAddress { get; set; }

        public byte[] Data { get; set; } = [];

        public uint MemorySize { get; set; }

        public uint Flags { get; set; } = 5;

        public uint Align { get; set; } = 0x1000;

        internal uint FileOffset { get; set; }
    }

    public sealed class Section
    {
        public required string Name { get; init; }

        public uint Type { get; set; } = ShtProgBits;

        public uint Flags { get; set; }

        public uint Address { get; set; }

        /// <summary>Own bytes, written to the file (ignored if <see cref="InSegment"/> is set).</summary>
        public byte[]? Data { get; set; }

        /// <summary>Size for NOBITS sections or sections inside a segment.</summary>
        public uint Size { get; set; }

        public Segment? InSegment { get; set; }

        public uint OffsetInSegment { get; set; }

        public uint Align { get; set; } = 4;

        internal uint FileOffset { get; set; }
    }

    public sealed record Sym(string Name, uint Value, uint Size, byte Type, byte Bind, string? Section);

    /// <summary>Adds a loadable segment at <paramref name="paddr"/> (virtual address equal unless given).</summary>
    public Segment AddSegment(uint paddr, byte[] data, uint memSize = 0, uint? vaddr = null, uint flags = 5)
    {
        var s = new Segment
        {
            PhysicalAddress = paddr,
            VirtualAddress = vaddr ?? paddr,
            Data = data,
            MemorySize = Math.Max(memSize, (uint)data.Length),
            Flags = flags,
        };
        Segments.Add(s);
        return s;
    }

    /// <summary>Adds an allocated section covering part of a segment.</summary>
    public Section AddSectionIn(string name, Segment segment, uint offsetInSegment, uint size, uint flags, uint type = ShtProgBits)
    {
        var s = new Section
        {
            Name = name,
            Type = type,
            Flags = flags | ShfAlloc,
            Address = segment.VirtualAddress + offsetInSegment,
            InSegment = segment,
            OffsetInSegment = offsetInSegment,
            Size = size,
        };
        Sections.Add(s);
        return s;
    }

    public Section AddSection(string name, uint type, byte[] data, uint flags = 0, uint address = 0)
    {
        var s = new Section { Name = name, Type = type, Flags = flags, Address = address, Data = data, Size = (uint)data.Length };
        Sections.Add(s);
        return s;
    }

    public void AddSymbol(string name, uint value, uint size, byte type, string? section, byte bind = StbGlobal) =>
        Symbols.Add(new Sym(name, value, size, type, bind, section));

    public ElfFile Build()
    {
        var file = new List<byte>();
        void Pad(int align)
        {
            while (file.Count % align != 0)
            {
                file.Add(0);
            }
        }

        file.AddRange(new byte[52 + (32 * Segments.Count)]);
        foreach (var seg in Segments)
        {
            Pad(16);
            seg.FileOffset = (uint)file.Count;
            file.AddRange(seg.Data);
        }

        var all = new List<(string Name, uint Type, uint Flags, uint Addr, uint Offset, uint Size, uint Link, uint Info, uint Align, uint EntSize)>
        {
            (string.Empty, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        };

        foreach (var s in Sections)
        {
            uint offset;
            uint size;
            if (s.InSegment is not null)
            {
                offset = s.InSegment.FileOffset + s.OffsetInSegment;
                size = s.Size;
            }
            else if (s.Type == ShtNoBits || s.Data is null)
            {
                offset = (uint)file.Count;
                size = s.Size;
            }
            else
            {
                Pad(4);
                offset = (uint)file.Count;
                file.AddRange(s.Data);
                size = (uint)s.Data.Length;
            }

            s.FileOffset = offset;
            all.Add((s.Name, s.Type, s.Flags, s.Address, offset, size, 0, 0, s.Align, 0));
        }

        int symtabIndex = -1;
        int strtabIndex = -1;
        uint symtabOffset = 0;
        uint strtabOffset = 0;
        if (Symbols.Count > 0)
        {
            var strtab = new List<byte> { 0 };
            var ordered = Symbols.Where(s => s.Bind == StbLocal).Concat(Symbols.Where(s => s.Bind != StbLocal)).ToList();
            var symtab = new byte[16 * (ordered.Count + 1)];
            for (int i = 0; i < ordered.Count; i++)
            {
                var sym = ordered[i];
                uint nameOffset = (uint)strtab.Count;
                strtab.AddRange(Encoding.UTF8.GetBytes(sym.Name));
                strtab.Add(0);
                ushort shndx = sym.Section is null ? (ushort)0xFFF1 : (ushort)all.FindIndex(x => x.Name == sym.Section);
                var e = symtab.AsSpan((i + 1) * 16, 16);
                BinaryPrimitives.WriteUInt32LittleEndian(e, nameOffset);
                BinaryPrimitives.WriteUInt32LittleEndian(e[4..], sym.Value);
                BinaryPrimitives.WriteUInt32LittleEndian(e[8..], sym.Size);
                e[12] = (byte)((sym.Bind << 4) | sym.Type);
                BinaryPrimitives.WriteUInt16LittleEndian(e[14..], shndx);
            }

            Pad(4);
            symtabOffset = (uint)file.Count;
            file.AddRange(symtab);
            strtabOffset = (uint)file.Count;
            file.AddRange(strtab);
            symtabIndex = all.Count;
            strtabIndex = all.Count + 1;
            int firstGlobal = ordered.FindIndex(s => s.Bind != StbLocal);
            all.Add((".symtab", ShtSymTab, 0, 0, symtabOffset, (uint)symtab.Length, (uint)strtabIndex, (uint)(firstGlobal < 0 ? ordered.Count + 1 : firstGlobal + 1), 4, 16));
            all.Add((".strtab", ShtStrTab, 0, 0, strtabOffset, (uint)strtab.Count, 0, 0, 1, 0));
        }

        uint shoff = 0;
        int shnum = 0;
        int shstrndx = 0;
        if (WithSections)
        {
            var shstrtab = new List<byte> { 0 };
            var nameOffsets = new List<uint>();
            all.Add((".shstrtab", ShtStrTab, 0, 0, 0, 0, 0, 0, 1, 0));
            foreach (var s in all)
            {
                if (s.Name.Length == 0)
                {
                    nameOffsets.Add(0);
                    continue;
                }

                nameOffsets.Add((uint)shstrtab.Count);
                shstrtab.AddRange(Encoding.UTF8.GetBytes(s.Name));
                shstrtab.Add(0);
            }

            uint shstrOffset = (uint)file.Count;
            file.AddRange(shstrtab);
            shstrndx = all.Count - 1;
            all[shstrndx] = all[shstrndx] with { Offset = shstrOffset, Size = (uint)shstrtab.Count };

            Pad(4);
            shoff = (uint)file.Count;
            shnum = all.Count;
            for (int i = 0; i < all.Count; i++)
            {
                var s = all[i];
                var h = new byte[40];
                BinaryPrimitives.WriteUInt32LittleEndian(h, nameOffsets[i]);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), s.Type);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), s.Flags);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), s.Addr);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), s.Offset);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(20), s.Size);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(24), s.Link);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(28), s.Info);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(32), s.Align);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(36), s.EntSize);
                file.AddRange(h);
            }
        }

        var bytes = file.ToArray();
        bytes[0] = 0x7F;
        bytes[1] = (byte)'E';
        bytes[2] = (byte)'L';
        bytes[3] = (byte)'F';
        bytes[4] = Class;
        bytes[5] = DataEncoding;
        bytes[6] = 1;
        var hdr = bytes.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(hdr[16..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(hdr[18..], Machine);
        BinaryPrimitives.WriteUInt32LittleEndian(hdr[20..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(hdr[24..], Entry);
        BinaryPrimitives.WriteUInt32LittleEndian(hdr[28..], Segments.Count > 0 ? 52u : 0u);
        BinaryPrimitives.WriteUInt32LittleEndian(hdr[32..], shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(hdr[40..], 52);
        BinaryPrimitives.WriteUInt16LittleEndian(hdr[42..], 32);
        BinaryPrimitives.WriteUInt16LittleEndian(hdr[44..], (ushort)Segments.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(hdr[46..], 40);
        BinaryPrimitives.WriteUInt16LittleEndian(hdr[48..], (ushort)shnum);
        BinaryPrimitives.WriteUInt16LittleEndian(hdr[50..], (ushort)shstrndx);

        for (int i = 0; i < Segments.Count; i++)
        {
            var seg = Segments[i];
            var p = hdr.Slice(52 + (32 * i), 32);
            BinaryPrimitives.WriteUInt32LittleEndian(p, seg.Type);
            BinaryPrimitives.WriteUInt32LittleEndian(p[4..], seg.FileOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(p[8..], seg.VirtualAddress);
            BinaryPrimitives.WriteUInt32LittleEndian(p[12..], seg.PhysicalAddress);
            BinaryPrimitives.WriteUInt32LittleEndian(p[16..], (uint)seg.Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(p[20..], seg.MemorySize);
            BinaryPrimitives.WriteUInt32LittleEndian(p[24..], seg.Flags);
            BinaryPrimitives.WriteUInt32LittleEndian(p[28..], seg.Align);
        }

        return new ElfFile(bytes, 52, shoff, shnum, symtabIndex, symtabOffset, strtabOffset, Segments.Select(s => s.FileOffset).ToArray());
    }
}

/// <summary>A built ELF file and where its parts are.</summary>
internal sealed record ElfFile(
    byte[] Bytes,
    uint ProgramHeaderOffset,
    uint SectionHeaderOffset,
    int SectionCount,
    int SymtabIndex,
    uint SymtabOffset,
    uint StrtabOffset,
    uint[] SegmentFileOffsets)
{
    public uint ProgramHeaderField(int index, int fieldOffset) =>
        BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan((int)ProgramHeaderOffset + (32 * index) + fieldOffset));

    public void SetProgramHeaderField(int index, int fieldOffset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan((int)ProgramHeaderOffset + (32 * index) + fieldOffset), value);

    public void SetSectionHeaderField(int index, int fieldOffset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan((int)SectionHeaderOffset + (40 * index) + fieldOffset), value);

    public void SetU16(int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(offset), value);

    public void SetU32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(offset), value);
}

/// <summary>Multiboot header bytes for tests.</summary>
internal static class MultibootHeaderBytes
{
    public const uint Magic = 0x1BADB002;

    /// <summary>A header with the given flags (checksum correct unless <paramref name="checksumError"/> is non-zero).</summary>
    public static byte[] Create(
        uint flags,
        uint headerAddr = 0,
        uint loadAddr = 0,
        uint loadEndAddr = 0,
        uint bssEndAddr = 0,
        uint entryAddr = 0,
        uint checksumError = 0)
    {
        int length = (flags & 4) != 0 ? 48 : (flags & 0x10000) != 0 ? 32 : 12;
        var b = new byte[length];
        var s = b.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], unchecked(0u - Magic - flags + checksumError));
        if (length >= 32)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(s[12..], headerAddr);
            BinaryPrimitives.WriteUInt32LittleEndian(s[16..], loadAddr);
            BinaryPrimitives.WriteUInt32LittleEndian(s[20..], loadEndAddr);
            BinaryPrimitives.WriteUInt32LittleEndian(s[24..], bssEndAddr);
            BinaryPrimitives.WriteUInt32LittleEndian(s[28..], entryAddr);
        }

        return b;
    }

    /// <summary>
    /// A flat binary of <paramref name="totalSize"/> bytes whose header is at <paramref name="headerOffset"/>
    /// and which loads the whole file at <paramref name="loadAddr"/>; the rest is a recognisable pattern.
    /// </summary>
    public static byte[] FlatImage(int headerOffset, uint loadAddr, int totalSize, uint bssEnd = 0, uint entryOffset = 0, uint extraFlags = 0)
    {
        var file = new byte[totalSize];
        for (int i = 0; i < file.Length; i++)
        {
            file[i] = (byte)(i * 7 + 3);
        }

        var h = Create(0x10000 | extraFlags, headerAddr: loadAddr + (uint)headerOffset, loadAddr: loadAddr, loadEndAddr: 0, bssEndAddr: bssEnd, entryAddr: loadAddr + entryOffset);
        h.CopyTo(file, headerOffset);
        return file;
    }
}
