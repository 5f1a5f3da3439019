using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;
using Emulator.Timing;

namespace Emulator.Cpu.Execute;

/// <summary>
/// Operand size as a type: handlers are generic over it and the JIT compiles one specialised
/// copy per size, so size tests fold away at compile time instead of branching per instruction.
/// </summary>
public interface ISize
{
    /// <summary>0, 1, 2 for 8, 16, 32 bits (the lazy-flags size index).</summary>
    static abstract int Index { get; }

    static abstract int Bytes { get; }

    static abstract int Bits { get; }

    static abstract uint Mask { get; }

    static abstract uint Sign { get; }
}

public struct B8 : ISize
{
    public static int Index => 0;

    public static int Bytes => 1;

    public static int Bits => 8;

    public static uint Mask => 0xFF;

    public static uint Sign => 0x80;
}

public struct W16 : ISize
{
    public static int Index => 1;

    public static int Bytes => 2;

    public static int Bits => 16;

    public static uint Mask => 0xFFFF;

    public static uint Sign => 0x8000;
}

public struct D32 : ISize
{
    public static int Index => 2;

    public static int Bytes => 4;

    public static int Bits => 32;

    public static uint Mask => 0xFFFFFFFF;

    public static uint Sign => 0x80000000;
}

/// <summary>Operand access shared by all handler families (all inlined into the handlers).</summary>
public static unsafe class Operands
{
    /// <summary>Effective address of the memory operand (offset in its segment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Ea(Cpu c, ref MicroOp op)
    {
        uint ea = c.R(op.Base) + (c.R(op.Index) << op.Scale) + op.Disp;
        if ((op.Flags & OpFlags.Addr16) != 0)
        {
            ea &= 0xFFFF;
        }

        return ea;
    }

    /// <summary>
    /// The same for operands that are constants in a compiled block (BlockCompiler): an absent
    /// base or index register (<see cref="Reg.Zero"/>) is left out at compile time instead of
    /// read as 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Ea(Cpu c, int baseReg, int indexReg, int scale, uint disp, bool addr16)
    {
        uint ea = disp;
        if (baseReg != Reg.Zero)
        {
            ea += c.R(baseReg);
        }

        if (indexReg != Reg.Zero)
        {
            ea += c.R(indexReg) << scale;
        }

        if (addr16)
        {
            ea &= 0xFFFF;
        }

        return ea;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint GetReg<S>(Cpu c, int byteOffset)
        where S : ISize
    {
        if (S.Bytes == 1)
        {
            return c.RegByte(byteOffset);
        }

        if (S.Bytes == 2)
        {
            return c.RegWord(byteOffset);
        }

        return c.RegDword(byteOffset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SetReg<S>(Cpu c, int byteOffset, uint value)
        where S : ISize
    {
        if (S.Bytes == 1)
        {
            c.RegByte(byteOffset) = (byte)value;
        }
        else if (S.Bytes == 2)
        {
            c.RegWord(byteOffset) = (ushort)value;
        }
        else
        {
            c.RegDword(byteOffset) = value;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ReadMem<S>(Cpu c, int seg, uint offset, out uint value)
        where S : ISize
    {
        if (S.Bytes == 1)
        {
            bool ok = c.Read8(seg, offset, out byte b);
            value = b;
            return ok;
        }

        if (S.Bytes == 2)
        {
            bool ok = c.Read16(seg, offset, out ushort w);
            value = w;
            return ok;
        }

        return c.Read32(seg, offset, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool WriteMem<S>(Cpu c, int seg, uint offset, uint value)
        where S : ISize
    {
        if (S.Bytes == 1)
        {
            return c.Write8(seg, offset, (byte)value);
        }

        if (S.Bytes == 2)
        {
            return c.Write16(seg, offset, (ushort)value);
        }

        return c.Write32(seg, offset, value);
    }

    /// <summary>
    /// Starts a read-modify-write of the memory operand: checks the whole write up front (so a
    /// fault leaves memory and registers untouched) and returns a direct host pointer when the
    /// write TLB maps the bytes, or null to use <see cref="RmwRead{S}"/>/<see cref="RmwWrite{S}"/>'s slow forms.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool BeginRmw<S>(Cpu c, int seg, uint offset, out uint linear, out byte* host)
        where S : ISize
    {
        if (!c.SegWrite(seg, offset, S.Bytes, out linear))
        {
            host = null;
            return false;
        }

        host = c.TryWritePointer(linear, S.Bytes);
        if (host != null)
        {
            if (c.CycleMode)
            {
                // One access that reads for ownership: the write that follows hits the Modified line.
                c.ChargeHostRange(host, (uint)S.Bytes, S.Bytes, CacheAccessKind.Write);
            }

            return true;
        }

        return c.ProbeWrite(linear, S.Bytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint RmwRead<S>(Cpu c, uint linear, byte* host)
        where S : ISize
    {
        if (host != null)
        {
            return S.Bytes == 1 ? *host : S.Bytes == 2 ? *(ushort*)host : *(uint*)host;
        }

        // The probe succeeded, so this read cannot fault.
        c.ReadLinear(linear, S.Bytes, out uint v);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RmwWrite<S>(Cpu c, uint linear, byte* host, uint value)
        where S : ISize
    {
        if (host != null)
        {
            if (S.Bytes == 1)
            {
                *host = (byte)value;
            }
            else if (S.Bytes == 2)
            {
                *(ushort*)host = (ushort)value;
            }
            else
            {
                *(uint*)host = value;
            }

            return;
        }

        c.WriteLinear(linear, S.Bytes, value);
    }

    /// <summary>Sign-extends the low <typeparamref name="S"/> bits of a value to 32 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SignExtend<S>(uint v)
        where S : ISize => S.Bytes == 1 ? (sbyte)v : S.Bytes == 2 ? (short)v : (int)v;
}
