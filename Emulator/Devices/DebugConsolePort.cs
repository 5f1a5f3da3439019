namespace Emulator.Devices;

/// <summary>
/// The Bochs/QEMU debug console ("port E9 hack"): each byte written goes to the output sink, and
/// a read returns the readback value (0xE9 by default), which a guest checks to detect the port.
/// </summary>
/// <remarks>
/// The port is one byte wide; in a 16- or 32-bit access the bytes beyond it belong to the next
/// ports, so only the low byte of a wide write is output and the rest of a wide read is 0xFF.
/// </remarks>
public sealed class DebugConsolePort : BytePortDevice
{
    public const ushort DefaultIoBase = 0xE9;
    public const byte DefaultReadback = 0xE9;

    private readonly Action<byte> _output;
    private readonly byte _readback;

    /// <param name="output">Receives each byte written, on the emulator thread.</param>
    public DebugConsolePort(Action<byte> output, ushort ioBase = DefaultIoBase, byte readback = DefaultReadback)
        : base(ioBase, 1)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _readback = readback;
    }

    protected override byte ReadByte(int offset) => _readback;

    protected override void WriteByte(int offset, byte value) => _output(value);
}
