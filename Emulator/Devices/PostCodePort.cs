namespace Emulator.Devices;

/// <summary>
/// Port 0x80, the POST diagnostic port: firmware and kernels write progress codes to it, and
/// Linux uses it for I/O delays (outb_p). Writes are kept (the last code can be inspected), reads
/// return the last value written. Claiming it keeps these routine accesses out of the report of
/// unmodelled ports.
/// </summary>
public sealed class PostCodePort : BytePortDevice
{
    public const ushort Port = 0x80;

    public PostCodePort()
        : base(Port, 1)
    {
    }

    public byte LastCode { get; private set; }

    public long Writes { get; private set; }

    protected override byte ReadByte(int offset) => LastCode;

    protected override void WriteByte(int offset, byte value)
    {
        LastCode = value;
        Writes++;
    }
}
