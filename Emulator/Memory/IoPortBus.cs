namespace Emulator.Memory;

/// <summary>A device that answers I/O port accesses. Sizes are 1, 2 or 4 bytes.</summary>
public interface IPortDevice
{
    uint In(ushort port, int size);

    void Out(ushort port, int size, uint value);
}

/// <summary>
/// The I/O port space: 65536 byte ports, each claimed by at most one device. Unclaimed ports read
/// all-ones and ignore writes, as on a PC. Accesses are counted per port so that a run can
/// report which unmodelled ports the guest touched.
/// </summary>
public sealed class IoPortBus
{
    private readonly IPortDevice?[] _devices = new IPortDevice?[65536];
    private readonly Dictionary<ushort, long> _unclaimed = [];
    private readonly Dictionary<ushort, long> _unclaimedWrites = [];

    public void Register(ushort first, int count, IPortDevice device)
    {
        for (int i = 0; i < count; i++)
        {
            int port = first + i;
            if (_devices[port] is not null)
            {
                throw new InvalidOperationException($"I/O port 0x{port:x} is claimed twice");
            }

            _devices[port] = device;
        }
    }

    /// <summary>Accesses to ports no device claims, by port (the emulator's "not modelled" report).</summary>
    public IReadOnlyDictionary<ushort, long> UnclaimedAccesses => _unclaimed;

    /// <summary>The writes among <see cref="UnclaimedAccesses"/> (the rest are reads), by port.</summary>
    public IReadOnlyDictionary<ushort, long> UnclaimedWrites => _unclaimedWrites;

    public uint In(ushort port, int size)
    {
        var device = _devices[port];
        if (device is null)
        {
            Count(port);
            return size switch { 1 => 0xFFu, 2 => 0xFFFFu, _ => 0xFFFFFFFFu };
        }

        return device.In(port, size);
    }

    public void Out(ushort port, int size, uint value)
    {
        var device = _devices[port];
        if (device is null)
        {
            Count(port);
            _unclaimedWrites[port] = _unclaimedWrites.GetValueOrDefault(port) + 1;
            return;
        }

        device.Out(port, size, value);
    }

    private void Count(ushort port)
    {
        _unclaimed.TryGetValue(port, out long n);
        _unclaimed[port] = n + 1;
    }
}
