using Emulator.Memory;

namespace Emulator.Devices;

/// <summary>
/// QEMU's <c>isa-debug-exit</c> device: a write of value v to its ports asks the machine to stop
/// with host exit status <c>(v &lt;&lt; 1) | 1</c>, so a guest can report success or failure
/// to the host (a status of 0 is impossible, which tells a guest-chosen status from a clean
/// emulator exit).
/// </summary>
/// <remarks>
/// <para>
/// The device answers <see cref="IoSize"/> ports from <see cref="IoBase"/> (defaults 0xF4 and 1,
/// the usual <c>-device isa-debug-exit,iobase=0xf4</c>; QEMU's own defaults are 0x501 and 2).
/// As in QEMU, which port of the window is written does not matter, and a 1-, 2- or 4-byte write
/// is one access whose value is what falls inside the window: the bytes of a wide write that
/// reach past the window's last port belong to the next port, not to this device, so a 32-bit
/// OUT of 0x100 to a 1-port window exits with status 1 (its low byte is 0).
/// </para>
/// <para>
/// Reads return 0, as QEMU's <c>debug_exit_read</c> does (bytes of a wide read beyond the window
/// read 0xFF, as an unclaimed port). The status is computed in 64 bits and truncated to an int,
/// as QEMU passes it on; the host operating system keeps only its low 8 bits.
/// </para>
/// </remarks>
public sealed class DebugExitPort : IPortDevice
{
    public const ushort DefaultIoBase = 0xF4;

    private readonly IMachineControl _machine;

    public DebugExitPort(IMachineControl machine, ushort ioBase = DefaultIoBase, int ioSize = 1)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentOutOfRangeException.ThrowIfLessThan(ioSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ioSize, 4);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ioBase + ioSize, 0x10000, nameof(ioSize));
        _machine = machine;
        IoBase = ioBase;
        IoSize = ioSize;
    }

    public ushort IoBase { get; }

    public int IoSize { get; }

    /// <summary>Claims this device's ports on <paramref name="bus"/>.</summary>
    public void RegisterOn(IoPortBus bus) => bus.Register(IoBase, IoSize, this);

    /// <summary>The host exit status a write of <paramref name="value"/> requests.</summary>
    public static int ExitStatus(uint value) => unchecked((int)(((ulong)value << 1) | 1));

    public uint In(ushort port, int size)
    {
        BytePortDevice.CheckSize(size);
        int inside = BytesInside(port, size);
        return inside >= 4 ? 0u : (0xFFFFFFFFu << (8 * inside)) & SizeMask(size);
    }

    public void Out(ushort port, int size, uint value)
    {
        BytePortDevice.CheckSize(size);
        int inside = BytesInside(port, size);
        if (inside > 0)
        {
            _machine.RequestExit(ExitStatus(value & SizeMask(inside)));
        }
    }

    /// <summary>How many bytes of an access at <paramref name="port"/> fall inside the window.</summary>
    private int BytesInside(ushort port, int size) => Math.Clamp(IoBase + IoSize - port, 0, size);

    private static uint SizeMask(int bytes) => bytes >= 4 ? 0xFFFFFFFFu : (1u << (8 * bytes)) - 1;
}
