using Emulator.Memory;

namespace Emulator.Loading;

/// <summary>Type of a Multiboot / E820 memory map entry.</summary>
public enum MemoryMapType : uint
{
    Available = 1,
    Reserved = 2,
    AcpiReclaimable = 3,
    AcpiNvs = 4,
    BadMemory = 5,
}

/// <summary>One memory map entry: [<see cref="Base"/>, <see cref="Base"/> + <see cref="Length"/>).</summary>
public readonly record struct MemoryMapEntry(ulong Base, ulong Length, MemoryMapType Type)
{
    public ulong End => Base + Length;

    public override string ToString() => $"[0x{Base:x}, 0x{End:x}) {Type}";
}

/// <summary>A boot module handed to a Multiboot kernel (an initrd, a driver, a data file).</summary>
/// <param name="Name">Name used in error messages (typically the file name).</param>
/// <param name="Data">The module's bytes, copied into guest memory as they are.</param>
/// <param name="CommandLine">The module's string in the module list (<c>mods[i].string</c>).</param>
public sealed record BootModule(string Name, ReadOnlyMemory<byte> Data, string CommandLine);

/// <summary>What a boot loader passes to the kernel besides the image itself.</summary>
public sealed class LoadOptions
{
    /// <summary>
    /// The regions reported as not available by default: the EBDA, the BIOS ROM, and the IOAPIC and
    /// local APIC windows. (The VGA window 0xA0000-0xEFFFF is a hole and simply not listed.)
    /// </summary>
    public static IReadOnlyList<MemoryMapEntry> DefaultReservedRegions { get; } =
    [
        new(0x9FC00, 0x400, MemoryMapType.Reserved),
        new(0xF0000, 0x10000, MemoryMapType.Reserved),
        new(PhysicalMap.IoApicBase, 0x1000, MemoryMapType.Reserved),
        new(PhysicalMap.LocalApicBase, 0x1000, MemoryMapType.Reserved),
    ];

    /// <summary>The kernel command line (<c>cmdline</c>), passed exactly as given.</summary>
    public string CommandLine { get; init; } = string.Empty;

    /// <summary>Boot modules, in the order the kernel will see them.</summary>
    public IReadOnlyList<BootModule> Modules { get; init; } = [];

    /// <summary>The <c>boot_loader_name</c> string.</summary>
    public string BootLoaderName { get; init; } = "Emulator";

    /// <summary>
    /// Physical ranges that are not free RAM: they appear in the memory map with their type, RAM
    /// under them is not reported as available, the image may not be loaded over them and the
    /// loader places nothing in them. Entries must not overlap and must not be of type
    /// <see cref="MemoryMapType.Available"/>.
    /// </summary>
    public IReadOnlyList<MemoryMapEntry> ReservedRegions { get; init; } = DefaultReservedRegions;
}
