namespace Emulator.Devices;

/// <summary>
/// Port 0x92, system control port A (the PS/2 "fast A20 and reset" port).
/// </summary>
/// <remarks>
/// <para>
/// Bit 0, fast reset: writing it as 1 when it was 0 asks the machine to reset (through the
/// callback given to the constructor; the machine decides when to act, typically after the
/// current instruction), as QEMU does. Bit 1, fast A20 gate: this machine has no A20 gate, A20
/// is always enabled, so the bit always reads 1 and writing 0 has no effect. Bits 2-7 (security
/// lock, watchdog, disk activity lights on the PS/2) are stored and read back, without effect.
/// </para>
/// <para>
/// <see cref="Reset"/> (the machine calls it when it resets) returns the port to 0x02.
/// </para>
/// </remarks>
public sealed class SystemControlPortA : BytePortDevice
{
    public const ushort Port = 0x92;
    public const byte FastReset = 0x01;
    public const byte A20Enable = 0x02;

    private readonly Action _requestReset;
    private byte _value;

    /// <param name="requestReset">Called, on the emulator thread, when the guest asks for a reset.</param>
    public SystemControlPortA(Action requestReset)
        : base(Port, 1)
    {
        ArgumentNullException.ThrowIfNull(requestReset);
        _requestReset = requestReset;
        Reset();
    }

    public void Reset() => _value = A20Enable;

    protected override byte ReadByte(int offset) => (byte)(_value | A20Enable);

    protected override void WriteByte(int offset, byte value)
    {
        byte old = _value;
        _value = (byte)(value | A20Enable);
        if ((value & FastReset) != 0 && (old & FastReset) == 0)
        {
            _requestReset();
        }
    }
}
