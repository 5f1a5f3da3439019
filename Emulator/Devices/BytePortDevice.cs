using Emulator.Memory;

namespace Emulator.Devices;

/// <summary>
/// Base for devices whose registers are all 8 bits wide and that claim the consecutive ports
/// [<see cref="BasePort"/>, <see cref="BasePort"/> + <see cref="PortCount"/>).
/// </summary>
/// <remarks>
/// A 16- or 32-bit IN/OUT to such a device is split into byte accesses to consecutive ports,
/// lowest port (least significant byte) first, the way an ISA bus splits a wide cycle to an
/// 8-bit device. <see cref="IoPortBus"/> hands the whole access to the device owning the first
/// port, so a byte that falls beyond this device's last port cannot reach the neighbouring
/// device: it reads as 0xFF and its write is dropped, as on an unclaimed port.
/// </remarks>
public abstract class BytePortDevice : IPortDevice
{
    protected BytePortDevice(ushort basePort, int portCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(portCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(basePort + portCount, 0x10000, nameof(portCount));
        BasePort = basePort;
        PortCount = portCount;
    }

    /// <summary>The first port the device answers.</summary>
    public ushort BasePort { get; }

    /// <summary>How many consecutive ports the device answers.</summary>
    public int PortCount { get; }

    /// <summary>Claims this device's ports on <paramref name="bus"/>.</summary>
    public void RegisterOn(IoPortBus bus) => bus.Register(BasePort, PortCount, this);

    public uint In(ushort port, int size)
    {
        CheckSize(size);
        uint value = 0;
        for (int i = 0; i < size; i++)
        {
            int offset = port + i - BasePort;
            uint b = offset >= 0 && offset < PortCount ? ReadByte(offset) : 0xFFu;
            value |= b << (8 * i);
        }

        return value;
    }

    public void Out(ushort port, int size, uint value)
    {
        CheckSize(size);
        for (int i = 0; i < size; i++)
        {
            int offset = port + i - BasePort;
            if (offset >= 0 && offset < PortCount)
            {
                WriteByte(offset, (byte)(value >> (8 * i)));
            }
        }
    }

    /// <summary>Reads the register at <paramref name="offset"/> from <see cref="BasePort"/>.</summary>
    protected abstract byte ReadByte(int offset);

    /// <summary>Writes the register at <paramref name="offset"/> from <see cref="BasePort"/>.</summary>
    protected abstract void WriteByte(int offset, byte value);

    internal static void CheckSize(int size)
    {
        if (size is not (1 or 2 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "I/O access size must be 1, 2 or 4");
        }
    }
}
