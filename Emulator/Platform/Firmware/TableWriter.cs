using System.Buffers.Binary;

namespace Emulator.Platform.Firmware;

/// <summary>Builds a little-endian firmware table in a byte buffer.</summary>
internal sealed class TableWriter
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public TableWriter U8(int value)
    {
        _bytes.Add((byte)value);
        return this;
    }

    public TableWriter U16(int value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        _bytes.AddRange(b);
        return this;
    }

    public TableWriter U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _bytes.AddRange(b);
        return this;
    }

    public TableWriter Zeros(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _bytes.Add(0);
        }

        return this;
    }

    /// <summary>An ASCII string, padded with spaces (or truncated) to exactly <paramref name="length"/> bytes.</summary>
    public TableWriter Ascii(string text, int length)
    {
        for (int i = 0; i < length; i++)
        {
            char c = i < text.Length ? text[i] : ' ';
            if (c > 0x7E)
            {
                throw new ArgumentException("firmware strings are ASCII", nameof(text));
            }

            _bytes.Add((byte)c);
        }

        return this;
    }

    public byte[] ToArray() => [.. _bytes];

    /// <summary>Patches a 16-bit field of a finished table.</summary>
    public static void Patch16(byte[] table, int offset, int value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(table.AsSpan(offset), (ushort)value);

    /// <summary>Patches a 32-bit field of a finished table.</summary>
    public static void Patch32(byte[] table, int offset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(offset), value);

    /// <summary>
    /// Sets the byte at <paramref name="checksumOffset"/> so that the bytes
    /// [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) sum to 0 modulo 256.
    /// </summary>
    public static void SetChecksum(byte[] table, int checksumOffset, int start, int length)
    {
        table[checksumOffset] = 0;
        int sum = 0;
        for (int i = start; i < start + length; i++)
        {
            sum += table[i];
        }

        table[checksumOffset] = (byte)(-sum);
    }
}
