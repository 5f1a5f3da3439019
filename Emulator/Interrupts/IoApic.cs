using Emulator.Devices;
using Emulator.Memory;

namespace Emulator.Interrupts;

/// <summary>
/// An 82093AA-style I/O APIC with 24 inputs (version 0x11), at 0xFEC00000: IOREGSEL at offset
/// 0x00 selects a register that IOWIN at offset 0x10 reads and writes. Registers: 0x00 ID
/// (bits 24-27), 0x01 version 0x00170011, 0x02 arbitration ID (reads as the ID), 0x10-0x3F the
/// redirection table (two dwords per input: low then high). Other offsets of the window read 0
/// and ignore writes; registers may be accessed with narrower reads and writes (a narrow IOWIN
/// write merges into the selected register).
/// </summary>
/// <remarks>
/// <para>
/// Redirection entry: bits 0-7 vector, 8-10 delivery mode (fixed, lowest priority, SMI, NMI,
/// INIT, ExtINT; STARTUP and the reserved encoding are not sent), 11 logical destination mode,
/// 12 delivery status (always 0: messages are delivered at once), 13 polarity, 14 remote IRR
/// (read-only), 15 level trigger, 16 mask, 56-63 destination. Every entry is masked at reset.
/// </para>
/// <para>
/// Inputs are <see cref="IInterruptLine"/>s whose argument is the logical "asserted" state, so
/// the polarity bit is stored but not applied (as in QEMU). An edge-triggered input sends one
/// message per rising edge while unmasked (an edge arriving while masked is lost). A
/// level-triggered fixed or lowest-priority input sends while asserted, unmasked and remote IRR
/// is clear, then sets remote IRR until a local APIC broadcasts the EOI of its vector; if the
/// input is still asserted it is sent again. Level-triggered NMI, INIT and ExtINT entries act on
/// rising edges. Writing an entry as edge-triggered clears its remote IRR (Linux relies on this to
/// clear a stuck remote IRR on IOAPICs without an EOI register).
/// </para>
/// </remarks>
public sealed class IoApic : IMmioDevice
{
    public const int PinCount = 24;
    public const uint VersionValue = 0x00170011;
    public const uint WindowSize = 0x1000;

    private const ulong Mask = 1UL << 16;
    private const ulong LevelTrigger = 1UL << 15;
    private const ulong RemoteIrr = 1UL << 14;
    private const ulong Writable = 0xFF000000_0001AFFFUL;

    private readonly ApicSystem _system;
    private readonly ulong[] _entries = new ulong[PinCount];
    private readonly bool[] _levels = new bool[PinCount];
    private readonly IInterruptLine[] _pins = new IInterruptLine[PinCount];
    private uint _select;
    private uint _id;

    public IoApic(ApicSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        _system = system;
        for (int i = 0; i < PinCount; i++)
        {
            _pins[i] = new Pin(this, i);
        }

        system.AddEoiListener(OnEoi);
        Reset();
    }

    /// <summary>Messages sent, for statistics and tests.</summary>
    public long MessagesSent { get; private set; }

    /// <summary>The input line of pin <paramref name="index"/> (0-23).</summary>
    public IInterruptLine GetPin(int index) => _pins[index];

    /// <summary>A redirection entry, for inspection.</summary>
    public ulong GetRedirectionEntry(int index) => _entries[index];

    /// <summary>Maps the IOAPIC window at <see cref="PhysicalMap.IoApicBase"/>.</summary>
    public void MapInto(MemoryBus bus) => bus.Map(PhysicalMap.IoApicBase, WindowSize, this);

    /// <summary>The power-up state: every entry masked, ID 0, IOREGSEL 0. Input levels are kept.</summary>
    public void Reset()
    {
        Array.Fill(_entries, Mask);
        _select = 0;
        _id = 0;
    }

    public uint Read(int cpuId, uint phys, int size)
    {
        int offset = (int)(phys & 0xFF);
        uint dword = offset switch
        {
            < 4 => _select,
            >= 0x10 and < 0x14 => ReadRegister(_select),
            _ => 0,
        };

        uint value = dword >> (8 * (offset & 3));
        return size switch { 1 => value & 0xFF, 2 => value & 0xFFFF, _ => value };
    }

    public void Write(int cpuId, uint phys, int size, uint value)
    {
        int offset = (int)(phys & 0xFF);
        if (offset == 0)
        {
            _select = value & 0xFF;
        }
        else if (offset >= 0x10 && offset < 0x14)
        {
            // Narrow writes merge into the selected register.
            int shift = 8 * (offset & 3);
            uint mask = size switch { 1 => 0xFFu, 2 => 0xFFFFu, _ => 0xFFFFFFFFu } << shift;
            uint merged = (ReadRegister(_select) & ~mask) | ((value << shift) & mask);
            WriteRegister(_select, merged);
        }
    }

    /// <summary>Reads the register IOREGSEL would select.</summary>
    public uint ReadRegister(uint index)
    {
        switch (index)
        {
            case 0: return _id;
            case 1: return VersionValue;
            case 2: return _id;
        }

        if (index >= 0x10 && index < 0x10 + (2 * PinCount))
        {
            ulong entry = _entries[(index - 0x10) >> 1];
            return (index & 1) == 0 ? (uint)entry : (uint)(entry >> 32);
        }

        return 0;
    }

    /// <summary>Writes the register IOREGSEL would select.</summary>
    public void WriteRegister(uint index, uint value)
    {
        if (index == 0)
        {
            _id = value & 0x0F000000;
            return;
        }

        if (index < 0x10 || index >= 0x10 + (2 * PinCount))
        {
            return;
        }

        int pin = (int)(index - 0x10) >> 1;
        ulong old = _entries[pin];
        ulong part = (index & 1) == 0 ? value : (ulong)value << 32;
        ulong partMask = (index & 1) == 0 ? 0xFFFFFFFFUL : 0xFFFFFFFF_00000000UL;
        ulong entry = (old & ~(partMask & Writable)) | (part & partMask & Writable);
        if ((entry & LevelTrigger) == 0)
        {
            entry &= ~RemoteIrr;
        }

        _entries[pin] = entry;
        ServiceLevel(pin);
    }

    private void SetLevel(int pin, bool asserted)
    {
        bool rising = asserted && !_levels[pin];
        _levels[pin] = asserted;
        ulong entry = _entries[pin];
        if (IsLevelSensitive(entry))
        {
            ServiceLevel(pin);
        }
        else if (rising && (entry & Mask) == 0)
        {
            Send(entry);
        }
    }

    /// <summary>Fixed and lowest-priority entries with the level trigger bit are level-sensitive.</summary>
    private static bool IsLevelSensitive(ulong entry) =>
        (entry & LevelTrigger) != 0 && ((entry >> 8) & 7) is 0 or 1;

    private void ServiceLevel(int pin)
    {
        ulong entry = _entries[pin];
        if (!IsLevelSensitive(entry) || (entry & (Mask | RemoteIrr)) != 0 || !_levels[pin])
        {
            return;
        }

        _entries[pin] = entry | RemoteIrr;
        Send(entry);
    }

    private void Send(ulong entry)
    {
        var mode = (DeliveryMode)((entry >> 8) & 7);
        if (mode is DeliveryMode.Startup or DeliveryMode.Reserved3)
        {
            return;
        }

        MessagesSent++;
        _system.Deliver(new ApicMessage(
            Vector: (int)(entry & 0xFF),
            Mode: mode,
            Logical: (entry & (1UL << 11)) != 0,
            Destination: (byte)(entry >> 56),
            LevelTriggered: IsLevelSensitive(entry)));
    }

    /// <summary>A local APIC's EOI of a level-triggered vector: clears remote IRR on the entries with that vector.</summary>
    private void OnEoi(int vector)
    {
        for (int pin = 0; pin < PinCount; pin++)
        {
            ulong entry = _entries[pin];
            if ((entry & RemoteIrr) != 0 && (int)(entry & 0xFF) == vector)
            {
                _entries[pin] = entry & ~RemoteIrr;
                ServiceLevel(pin);
            }
        }
    }

    private sealed class Pin(IoApic ioApic, int index) : IInterruptLine
    {
        public void SetLevel(bool asserted) => ioApic.SetLevel(index, asserted);
    }
}
