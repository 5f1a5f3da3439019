using System.Buffers.Binary;

namespace Emulator.Loading;

/// <summary>
/// The Multiboot (version 1, specification 0.6.96) header of an OS image: found in the first
/// <see cref="SearchLimit"/> bytes of the file, 4-byte aligned, with <c>magic + flags + checksum == 0</c>.
/// </summary>
/// <param name="FileOffset">Offset of the header's magic in the file.</param>
/// <param name="Flags">The header's flags: bits 0-15 are requirements, bits 16-31 optional features.</param>
/// <param name="HeaderAddress"><c>header_addr</c> (valid if <see cref="HasAddressFields"/>).</param>
/// <param name="LoadAddress"><c>load_addr</c> (valid if <see cref="HasAddressFields"/>).</param>
/// <param name="LoadEndAddress"><c>load_end_addr</c>; 0 means "to the end of the file" (valid if <see cref="HasAddressFields"/>).</param>
/// <param name="BssEndAddress"><c>bss_end_addr</c>; 0 means "no bss" (valid if <see cref="HasAddressFields"/>).</param>
/// <param name="EntryAddress"><c>entry_addr</c> (valid if <see cref="HasAddressFields"/>).</param>
/// <param name="ModeType"><c>mode_type</c> (valid if <see cref="RequestsVideoMode"/>).</param>
/// <param name="Width"><c>width</c> (valid if <see cref="RequestsVideoMode"/>).</param>
/// <param name="Height"><c>height</c> (valid if <see cref="RequestsVideoMode"/>).</param>
/// <param name="Depth"><c>depth</c> (valid if <see cref="RequestsVideoMode"/>).</param>
public sealed record MultibootHeader(
    int FileOffset,
    uint Flags,
    uint HeaderAddress,
    uint LoadAddress,
    uint LoadEndAddress,
    uint BssEndAddress,
    uint EntryAddress,
    uint ModeType,
    uint Width,
    uint Height,
    uint Depth)
{
    public const uint Magic = 0x1BADB002;

    /// <summary>The header must lie entirely within this many bytes from the start of the file.</summary>
    public const int SearchLimit = 8192;

    /// <summary>Flag bit 0: boot modules must be page aligned.</summary>
    public const uint PageAlignModulesFlag = 1u << 0;

    /// <summary>Flag bit 1: the memory fields (<c>mem_*</c>, and the memory map if available) must be provided.</summary>
    public const uint MemoryInfoFlag = 1u << 1;

    /// <summary>Flag bit 2: the video mode table must be provided and the header's video fields are valid.</summary>
    public const uint VideoModeFlag = 1u << 2;

    /// <summary>Flag bit 16: the header's address fields are valid and say where to load the image.</summary>
    public const uint AddressFieldsFlag = 1u << 16;

    /// <summary>The requirement bits (0-15) this loader can satisfy.</summary>
    public const uint SupportedRequiredFlags = PageAlignModulesFlag | MemoryInfoFlag | VideoModeFlag;

    private const int BaseLength = 12;
    private const int AddressFieldsLength = 32;
    private const int VideoFieldsLength = 48;

    public bool RequiresPageAlignedModules => (Flags & PageAlignModulesFlag) != 0;

    public bool RequiresMemoryInfo => (Flags & MemoryInfoFlag) != 0;

    public bool RequestsVideoMode => (Flags & VideoModeFlag) != 0;

    public bool HasAddressFields => (Flags & AddressFieldsFlag) != 0;

    /// <summary>Requirement bits (0-15) set in the header that this loader does not know.</summary>
    public uint UnsupportedRequiredFlags => Flags & 0xFFFF & ~SupportedRequiredFlags;

    /// <summary>
    /// Finds the first header with a valid checksum. Returns null if no header magic appears at a
    /// 4-byte aligned offset within the first <see cref="SearchLimit"/> bytes.
    /// </summary>
    /// <exception cref="ImageLoadException">
    /// Only headers with a bad checksum were found, or the header is cut off by the end of the file
    /// or the search limit before the fields its flags declare.
    /// </exception>
    public static MultibootHeader? Find(string displayName, ReadOnlySpan<byte> file)
    {
        ArgumentNullException.ThrowIfNull(displayName);
        int limit = Math.Min(file.Length, SearchLimit);
        int badOffset = -1;
        uint badSum = 0;
        for (int off = 0; off + BaseLength <= limit; off += 4)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(off, 4)) != Magic)
            {
                continue;
            }

            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(off + 4, 4));
            uint checksum = BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(off + 8, 4));
            uint sum = unchecked(Magic + flags + checksum);
            if (sum != 0)
            {
                if (badOffset < 0)
                {
                    badOffset = off;
                    badSum = sum;
                }

                continue;
            }

            int length = (flags & VideoModeFlag) != 0 ? VideoFieldsLength
                : (flags & AddressFieldsFlag) != 0 ? AddressFieldsLength
                : BaseLength;
            if (off + length > limit)
            {
                string where = limit == file.Length ? "the end of the file" : $"the {SearchLimit}-byte search limit";
                throw ImageLoadException.For(displayName, $"Multiboot header at file offset 0x{off:x} is cut off by {where}: its flags (0x{flags:x8}) declare a {length}-byte header");
            }

            Span<uint> f = stackalloc uint[VideoFieldsLength / 4];
            for (int i = 0; i * 4 < length; i++)
            {
                f[i] = BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(off + (i * 4), 4));
            }

            return new MultibootHeader(off, flags, f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11]);
        }

        if (badOffset >= 0)
        {
            throw ImageLoadException.For(displayName, $"Multiboot header at file offset 0x{badOffset:x} has a bad checksum (magic + flags + checksum = 0x{badSum:x8}, must be 0)");
        }

        return null;
    }
}
