using Emulator.Memory;

namespace Emulator.Interrupts;

/// <summary>
/// The local APIC window (one page at 0xFEE00000): every CPU sees its own APIC there, chosen by
/// the accessing CPU's id.
/// </summary>
/// <remarks>
/// Registers are 32 bits wide at 16-byte aligned offsets. Reads of any size return the bytes of
/// the register's 16-byte slot (bytes 4-15 read 0). Writes take effect only when they are 32 bits
/// wide and 16-byte aligned (the SDM leaves other accesses undefined); others are counted in
/// <see cref="IgnoredWrites"/>. While a CPU's APIC is globally disabled its window reads
/// all-ones and ignores writes, like an unclaimed address.
/// </remarks>
public sealed class LocalApicBus(ApicSystem system) : IMmioDevice
{
    public const uint WindowSize = 0x1000;

    /// <summary>Writes dropped for being narrower than 32 bits or misaligned.</summary>
    public long IgnoredWrites { get; private set; }

    public uint Read(int cpuId, uint phys, int size)
    {
        var apic = system.ForCpu(cpuId);
        if (apic is null || !apic.GloballyEnabled)
        {
            return size switch { 1 => 0xFFu, 2 => 0xFFFFu, _ => 0xFFFFFFFFu };
        }

        int offset = (int)(phys & (WindowSize - 1));
        int within = offset & 0xF;
        ulong slot = apic.ReadRegister(offset & ~0xF);
        ulong value = within < 4 ? slot >> (8 * within) : 0;
        return size switch { 1 => (uint)(value & 0xFF), 2 => (uint)(value & 0xFFFF), _ => (uint)value };
    }

    public void Write(int cpuId, uint phys, int size, uint value)
    {
        var apic = system.ForCpu(cpuId);
        if (apic is null || !apic.GloballyEnabled)
        {
            return;
        }

        int offset = (int)(phys & (WindowSize - 1));
        if (size != 4 || (offset & 0xF) != 0)
        {
            IgnoredWrites++;
            return;
        }

        apic.WriteRegister(offset, value);
    }
}
