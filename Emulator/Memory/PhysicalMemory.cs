using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Emulator.Memory;

/// <summary>
/// Guest physical RAM: one zero-filled native block, so that the CPU's TLB can hold raw host
/// pointers into it (no bounds checks, no pinning on the per-access fast path).
/// Bulk writers that are not the CPU (the loader, firmware set-up, later DMA) go through
/// <see cref="Write(uint, ReadOnlySpan{byte})"/>, which tells the code tracker so that decoded
/// instructions in the written pages are invalidated.
/// </summary>
public sealed unsafe class PhysicalMemory : IDisposable
{
    public const int PageShift = 12;
    public const uint PageSize = 1u << PageShift;

    private byte* _base;
    private void* _allocation;

    public PhysicalMemory(uint size)
    {
        if (size < (1u << 20) || (size & (PageSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), "guest memory must be at least 1 MiB and a multiple of 4 KiB");
        }

        Size = size;
        // calloc, not an aligned allocation and a clear: for a block this large the C library maps
        // fresh zero pages and does not write them, so RAM the guest never touches costs neither
        // start-up time nor resident memory. Page-aligned by hand.
        _allocation = NativeMemory.AllocZeroed((nuint)size + PageSize);
        _base = (byte*)(((nuint)_allocation + PageSize - 1) & ~(nuint)(PageSize - 1));
    }

    /// <summary>Bytes of RAM; physical addresses [0, Size) are RAM unless an MMIO region claims them.</summary>
    public uint Size { get; }

    /// <summary>Number of 4 KiB pages of RAM.</summary>
    public uint PageCount => Size >> PageShift;

    /// <summary>Host pointer to physical address 0. Valid until <see cref="Dispose"/>.</summary>
    public byte* Base => _base;

    /// <summary>Observer told about every write that does not come from a CPU store (loader, DMA).</summary>
    public ICodeWriteObserver? CodeObserver { get; set; }

    public bool Contains(ulong phys, ulong length) => phys + length <= Size && phys + length >= phys;

    public Span<byte> AsSpan(uint phys, int length)
    {
        CheckRange(phys, (uint)length);
        return new Span<byte>(_base + phys, length);
    }

    public void Read(uint phys, Span<byte> destination)
    {
        CheckRange(phys, (uint)destination.Length);
        new ReadOnlySpan<byte>(_base + phys, destination.Length).CopyTo(destination);
    }

    public void Write(uint phys, ReadOnlySpan<byte> data)
    {
        CheckRange(phys, (uint)data.Length);
        data.CopyTo(new Span<byte>(_base + phys, data.Length));
        CodeObserver?.PhysicalRangeWritten(phys, (uint)data.Length);
    }

    public void Fill(uint phys, uint length, byte value)
    {
        CheckRange(phys, length);
        NativeMemory.Fill(_base + phys, length, value);
        CodeObserver?.PhysicalRangeWritten(phys, length);
    }

    public byte Read8(uint phys)
    {
        CheckRange(phys, 1);
        return _base[phys];
    }

    public ushort Read16(uint phys)
    {
        CheckRange(phys, 2);
        return BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(_base + phys, 2));
    }

    public uint Read32(uint phys)
    {
        CheckRange(phys, 4);
        return BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_base + phys, 4));
    }

    public void Write8(uint phys, byte value) => Write(phys, [value]);

    public void Write16(uint phys, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        Write(phys, b);
    }

    public void Write32(uint phys, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        Write(phys, b);
    }

    private void CheckRange(uint phys, uint length)
    {
        if (!Contains(phys, length))
        {
            throw new ArgumentOutOfRangeException(nameof(phys), $"physical range 0x{phys:x8}+0x{length:x} is outside guest RAM (0x{Size:x} bytes)");
        }
    }

    public void Dispose()
    {
        if (_base != null)
        {
            NativeMemory.Free(_allocation);
            _allocation = null;
            _base = null;
        }
    }
}

/// <summary>Told when guest physical memory is written by something other than a CPU store.</summary>
public interface ICodeWriteObserver
{
    void PhysicalRangeWritten(uint phys, uint length);
}
