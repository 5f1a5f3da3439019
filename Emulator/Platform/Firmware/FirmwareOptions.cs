using Emulator.Memory;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Platform.Firmware;

/// <summary>What the firmware tables describe. The defaults describe this machine.</summary>
public sealed record FirmwareOptions
{
    /// <summary>The largest CPU count the tables can describe: APIC IDs 0..N-1 and the IOAPIC's ID N must stay below the xAPIC broadcast ID 0xFF.</summary>
    public const int MaxCpuCount = 254;

    /// <summary>Number of CPUs; CPU i has local APIC ID i, CPU 0 is the bootstrap processor.</summary>
    public int CpuCount { get; init; } = 1;

    /// <summary>The local APICs' physical address.</summary>
    public uint LocalApicAddress { get; init; } = PhysicalMap.LocalApicBase;

    /// <summary>The IOAPIC's physical address.</summary>
    public uint IoApicAddress { get; init; } = PhysicalMap.IoApicBase;

    /// <summary>The IOAPIC's ID; null means <see cref="CpuCount"/> (the first ID after the CPUs').</summary>
    public int? IoApicId { get; init; }

    /// <summary>The local APIC version register's low byte (0x14: an integrated xAPIC, 8-bit IDs).</summary>
    public byte LocalApicVersion { get; init; } = 0x14;

    /// <summary>The IOAPIC version (0x11: an 82093AA, 24 pins).</summary>
    public byte IoApicVersion { get; init; } = 0x11;

    /// <summary>CPUID.1:EAX of the CPUs (family 6, model 3, stepping 3).</summary>
    public uint CpuSignature { get; init; } = CpuCore.ProcessorSignature;

    /// <summary>CPUID.1:EDX of the CPUs.</summary>
    public uint CpuFeatures { get; init; } = CpuCore.CpuidFeaturesEdx;

    /// <summary>The COM1 base port recorded in the BIOS data area (0 for none).</summary>
    public ushort Com1Base { get; init; } = 0x3F8;

    internal int EffectiveIoApicId => IoApicId ?? CpuCount;

    internal void Validate()
    {
        if (CpuCount < 1 || CpuCount > MaxCpuCount)
        {
            throw new ArgumentOutOfRangeException(nameof(CpuCount), CpuCount, $"the firmware tables describe 1 to {MaxCpuCount} CPUs");
        }

        if (EffectiveIoApicId is < 0 or > 0xFE)
        {
            throw new ArgumentOutOfRangeException(nameof(IoApicId), EffectiveIoApicId, "the IOAPIC ID must be 0-254");
        }
    }
}
