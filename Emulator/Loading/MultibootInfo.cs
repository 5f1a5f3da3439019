namespace Emulator.Loading;

/// <summary>
/// Layout of the Multiboot (0.6.96) information structure that EBX points to at entry, and of the
/// module list and memory map entries it refers to. All fields are little-endian.
/// </summary>
public static class MultibootInfo
{
    /// <summary>Size of the structure up to and including the framebuffer fields.</summary>
    public const int Size = 116;

    public const int FlagsOffset = 0;
    public const int MemLowerOffset = 4;
    public const int MemUpperOffset = 8;
    public const int BootDeviceOffset = 12;
    public const int CommandLineOffset = 16;
    public const int ModsCountOffset = 20;
    public const int ModsAddrOffset = 24;
    public const int ElfNumOffset = 28;
    public const int ElfSizeOffset = 32;
    public const int ElfAddrOffset = 36;
    public const int ElfShndxOffset = 40;
    public const int MmapLengthOffset = 44;
    public const int MmapAddrOffset = 48;
    public const int DrivesLengthOffset = 52;
    public const int DrivesAddrOffset = 56;
    public const int ConfigTableOffset = 60;
    public const int BootLoaderNameOffset = 64;
    public const int ApmTableOffset = 68;

    public const uint MemoryFlag = 1u << 0;
    public const uint BootDeviceFlag = 1u << 1;
    public const uint CommandLineFlag = 1u << 2;
    public const uint ModulesFlag = 1u << 3;
    public const uint AoutSymbolsFlag = 1u << 4;
    public const uint ElfSectionsFlag = 1u << 5;
    public const uint MemoryMapFlag = 1u << 6;
    public const uint DrivesFlag = 1u << 7;
    public const uint ConfigTableFlag = 1u << 8;
    public const uint BootLoaderNameFlag = 1u << 9;
    public const uint ApmTableFlag = 1u << 10;
    public const uint VbeFlag = 1u << 11;
    public const uint FramebufferFlag = 1u << 12;

    /// <summary>Size of one module list entry: mod_start, mod_end, string, reserved.</summary>
    public const int ModuleEntrySize = 16;

    /// <summary>Size of one memory map entry including its leading size field (which holds 20).</summary>
    public const int MemoryMapEntrySize = 24;
}
