namespace Emulator.Devices;

/// <summary>
/// Port 0x61, the PC's system control port B (NMI status and control): the gate of PIT channel 2
/// and the view of its output, as PC timing code (Linux's TSC calibration among it) uses them.
/// </summary>
/// <remarks>
/// <para>
/// Bits: 0 timer 2 gate (read/write, drives <see cref="Pit8254.SetGate"/> of channel 2);
/// 1 speaker data enable (read/write, stored: there is no speaker); 2 and 3 the parity and
/// channel check enables (read/write, stored, no effect); 4 the refresh request toggle (read
/// only); 5 the output of PIT channel 2 (read only); 6 and 7 the channel check and parity error
/// flags (read only, always 0: no such errors occur).
/// </para>
/// <para>
/// The refresh toggle is derived from the time line: it flips every 18 PIT clock ticks
/// (15.09 µs, the period a PC BIOS programs into PIT channel 1 for DRAM refresh), so delay loops
/// that count its flips measure time deterministically. Channel 1 itself is not consulted.
/// </para>
/// </remarks>
public sealed class SystemControlPortB : BytePortDevice
{
    public const ushort Port = 0x61;

    /// <summary>PIT clock ticks between flips of the refresh toggle (bit 4).</summary>
    public const int RefreshTicks = 18;

    private readonly Pit8254 _pit;
    private byte _control;

    public SystemControlPortB(Pit8254 pit)
        : base(Port, 1)
    {
        ArgumentNullException.ThrowIfNull(pit);
        _pit = pit;
        Reset();
    }

    /// <summary>Clears the writable bits (timer 2 gate low, speaker off).</summary>
    public void Reset()
    {
        _control = 0;
        _pit.SetGate(2, false);
    }

    /// <summary>Whether the guest enabled the speaker data (bit 1).</summary>
    public bool SpeakerDataEnabled => (_control & 0x02) != 0;

    protected override byte ReadByte(int offset)
    {
        int value = _control;
        if ((_pit.CurrentTick / RefreshTicks & 1) != 0)
        {
            value |= 0x10;
        }

        if (_pit.GetOutput(2))
        {
            value |= 0x20;
        }

        return (byte)value;
    }

    protected override void WriteByte(int offset, byte value)
    {
        _control = (byte)(value & 0x0F);
        _pit.SetGate(2, (value & 0x01) != 0);
    }
}
