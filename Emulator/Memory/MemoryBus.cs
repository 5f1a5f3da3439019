namespace Emulator.Memory;

/// <summary>
/// A device mapped into the physical address space. The accessing CPU is passed along because
/// some devices (the local APIC) answer each CPU differently at the same address.
/// </summary>
public interface IMmioDevice
{
    uint Read(int cpuId, uint phys, int size);

    void Write(int cpuId, uint phys, int size, uint value);
}

/// <summary>
/// The physical address space seen by the CPUs: RAM plus MMIO regions (page granular). Physical
/// addresses that are neither RAM nor claimed read all-ones and ignore writes (an open bus), and
/// are counted so that a run can report them.
/// </summary>
public sealed unsafe class MemoryBus
{
    private readonly List<(uint Start, uint End, IMmioDevice Device)> _regions = [];
    private readonly Dictionary<uint, long> _unclaimed = [];
    private readonly Dictionary<uint, long> _unclaimedWrites = [];

    public MemoryBus(PhysicalMemory ram)
    {
        Ram = ram;
        RamBase = ram.Base;
        RamSize = ram.Size;
    }

    public PhysicalMemory Ram { get; }

    /// <summary>Host pointer to guest physical 0 (cached here so the CPU's slow path avoids a property chain).</summary>
    public byte* RamBase { get; }

    public uint RamSize { get; }

    /// <summary>Unclaimed physical pages accessed, by page base (the "not modelled" report).</summary>
    public IReadOnlyDictionary<uint, long> UnclaimedAccesses => _unclaimed;

    /// <summary>The writes among <see cref="UnclaimedAccesses"/> (the rest are reads), by page base.</summary>
    public IReadOnlyDictionary<uint, long> UnclaimedWrites => _unclaimedWrites;

    public void Map(uint start, uint length, IMmioDevice device)
    {
        if ((start & 0xFFF) != 0 || (length & 0xFFF) != 0 || length == 0)
        {
            throw new ArgumentException("MMIO regions are page aligned");
        }

        uint end = start + length - 1;
        foreach (var r in _regions)
        {
            if (start <= r.End && end >= r.Start)
            {
                throw new InvalidOperationException($"MMIO region at 0x{start:x8} overlaps another");
            }
        }

        _regions.Add((start, end, device));
    }

    /// <summary>The device claiming a physical address, or null. MMIO shadows RAM.</summary>
    public IMmioDevice? FindDevice(uint phys)
    {
        foreach (var r in _regions)
        {
            if (phys >= r.Start && phys <= r.End)
            {
                return r.Device;
            }
        }

        return null;
    }

    /// <summary>Whether a physical page can be accessed through a direct host pointer (RAM, no MMIO).</summary>
    public bool IsDirectRam(uint physPage) =>
        physPage + PhysicalMemory.PageSize <= RamSize && physPage + PhysicalMemory.PageSize > physPage && FindDevice(physPage) is null;

    public uint Read(int cpuId, uint phys, int size)
    {
        var dev = FindDevice(phys);
        if (dev is not null)
        {
            return dev.Read(cpuId, phys, size);
        }

        if ((ulong)phys + (ulong)size <= RamSize)
        {
            byte* p = RamBase + phys;
            return size switch { 1 => *p, 2 => *(ushort*)p, _ => *(uint*)p };
        }

        Count(phys);
        return size switch { 1 => 0xFFu, 2 => 0xFFFFu, _ => 0xFFFFFFFFu };
    }

    /// <summary>Writes to RAM or a device. Returns true when RAM was written (the caller handles code invalidation).</summary>
    public bool Write(int cpuId, uint phys, int size, uint value)
    {
        var dev = FindDevice(phys);
        if (dev is not null)
        {
            dev.Write(cpuId, phys, size, value);
            return false;
        }

        if ((ulong)phys + (ulong)size <= RamSize)
        {
            byte* p = RamBase + phys;
            switch (size)
            {
                case 1: *p = (byte)value; break;
                case 2: *(ushort*)p = (ushort)value; break;
                default: *(uint*)p = value; break;
            }

            return true;
        }

        Count(phys);
        _unclaimedWrites[phys & ~0xFFFu] = _unclaimedWrites.GetValueOrDefault(phys & ~0xFFFu) + 1;
        return false;
    }

    private void Count(uint phys)
    {
        uint page = phys & ~0xFFFu;
        _unclaimed.TryGetValue(page, out long n);
        _unclaimed[page] = n + 1;
    }
}
