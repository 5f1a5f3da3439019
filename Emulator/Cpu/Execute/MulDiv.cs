using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;
using Iced.Intel;
using static Emulator.Cpu.Execute.Operands;

namespace Emulator.Cpu.Execute;

/// <summary>
/// A one-operand multiply or divide on the accumulator (AL/AX/EAX, with AH/DX/EDX as the high
/// half). Returns false, having changed nothing, when it raises #DE.
/// </summary>
public interface IAccumulatorOp
{
    static abstract bool Run<S>(Cpu c, uint src)
        where S : ISize;
}

/// <summary>
/// MUL: AX = AL * r/m8, DX:AX = AX * r/m16, EDX:EAX = EAX * r/m32. CF = OF = (high half != 0).
/// SF, ZF, AF and PF are undefined: we set SF, ZF and PF from the low half of the product (AL, AX or
/// EAX) and clear AF: QEMU's model, and the pattern sandpile.org records for the Pentium 4 (SF, ZF,
/// PF computed, AF = 0). (An AMD EPYC was measured to leave the four unchanged; what current Intel
/// cores write is not documented, so the host-CPU oracle should settle it.)
/// </summary>
public struct MulOp : IAccumulatorOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Run<S>(Cpu c, uint src)
        where S : ISize
    {
        ulong p = (ulong)GetReg<S>(c, 0) * src;
        uint lo = (uint)p & S.Mask;
        uint hi = (uint)(p >> S.Bits) & S.Mask;
        MulDiv.StorePair<S>(c, lo, hi);
        c.SetLazyExplicit(S.Index, lo, hi != 0 ? EFlags.CF | EFlags.OF : 0);
        return true;
    }
}

/// <summary>
/// One-operand IMUL: the signed product in AX, DX:AX or EDX:EAX. CF = OF = (the product does not
/// fit the low half sign-extended). SF/ZF/PF from the low half, AF cleared, as for <see cref="MulOp"/>.
/// </summary>
public struct ImulOp : IAccumulatorOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Run<S>(Cpu c, uint src)
        where S : ISize
    {
        long p = (long)SignExtend<S>(GetReg<S>(c, 0)) * SignExtend<S>(src);
        uint lo = (uint)p & S.Mask;
        uint hi = (uint)(p >> S.Bits) & S.Mask;
        MulDiv.StorePair<S>(c, lo, hi);
        c.SetLazyExplicit(S.Index, lo, p != SignExtend<S>(lo) ? EFlags.CF | EFlags.OF : 0);
        return true;
    }
}

/// <summary>
/// DIV: AX / r/m8 into AL (quotient) and AH (remainder); DX:AX / r/m16 into AX, DX; EDX:EAX / r/m32
/// into EAX, EDX. #DE, with nothing changed, for a zero divisor or a quotient that does not fit.
/// All six status flags are undefined: we leave them unchanged (as Bochs and QEMU do).
/// </summary>
public struct DivOp : IAccumulatorOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Run<S>(Cpu c, uint src)
        where S : ISize
    {
        if (src == 0)
        {
            return c.Fault(Vectors.DE);
        }

        ulong dividend = MulDiv.LoadPair<S>(c);
        ulong q = dividend / src;
        if (q > S.Mask)
        {
            return c.Fault(Vectors.DE);
        }

        MulDiv.StorePair<S>(c, (uint)q, (uint)(dividend % src));
        return true;
    }
}

/// <summary>
/// IDIV: signed division of AX, DX:AX or EDX:EAX; the quotient truncates toward zero and the
/// remainder takes the dividend's sign. #DE, with nothing changed, for a zero divisor or a quotient
/// outside the signed range of the operand size (which includes the most negative dividend
/// divided by -1). Flags unchanged, as for <see cref="DivOp"/>.
/// </summary>
public struct IdivOp : IAccumulatorOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Run<S>(Cpu c, uint src)
        where S : ISize
    {
        long divisor = SignExtend<S>(src);
        if (divisor == 0)
        {
            return c.Fault(Vectors.DE);
        }

        ulong raw = MulDiv.LoadPair<S>(c);
        long dividend = S.Bytes == 1 ? (short)raw : S.Bytes == 2 ? (int)raw : (long)raw;
        long q;
        long r;
        if (divisor == -1)
        {
            // long.MinValue / -1 would throw; its quotient is out of range for every size anyway.
            if (dividend == long.MinValue)
            {
                return c.Fault(Vectors.DE);
            }

            q = -dividend;
            r = 0;
        }
        else
        {
            q = dividend / divisor;
            r = dividend % divisor;
        }

        if (q < -(long)S.Sign || q > S.Sign - 1)
        {
            return c.Fault(Vectors.DE);
        }

        MulDiv.StorePair<S>(c, (uint)q & S.Mask, (uint)r & S.Mask);
        return true;
    }
}

/// <summary>
/// MUL, IMUL (one, two and three operands), DIV and IDIV for 8/16/32-bit operands. Faults (#DE or a
/// memory fault on the source) leave every register and flag as it was.
/// </summary>
public static unsafe class MulDiv
{
    public static int AccR<O, S>(Cpu c, ref MicroOp op)
        where O : IAccumulatorOp
        where S : ISize => O.Run<S>(c, GetReg<S>(c, op.Src)) ? Exec.Next : Exec.Fault;

    public static int AccM<O, S>(Cpu c, ref MicroOp op)
        where O : IAccumulatorOp
        where S : ISize
    {
        if (!ReadMem<S>(c, op.Seg, Ea(c, ref op), out uint src))
        {
            return Exec.Fault;
        }

        return O.Run<S>(c, src) ? Exec.Next : Exec.Fault;
    }

    /// <summary>IMUL r, r/m (register source): dst = low half of dst * src.</summary>
    public static int ImulRR<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        SetReg<S>(c, op.Dst, ImulTruncated<S>(c, GetReg<S>(c, op.Dst), GetReg<S>(c, op.Src)));
        return Exec.Next;
    }

    public static int ImulRM<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        if (!ReadMem<S>(c, op.Seg, Ea(c, ref op), out uint src))
        {
            return Exec.Fault;
        }

        SetReg<S>(c, op.Dst, ImulTruncated<S>(c, GetReg<S>(c, op.Dst), src));
        return Exec.Next;
    }

    /// <summary>IMUL r, r/m, imm (register source): dst = low half of src * imm.</summary>
    public static int ImulRRI<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        SetReg<S>(c, op.Dst, ImulTruncated<S>(c, GetReg<S>(c, op.Src), op.Imm));
        return Exec.Next;
    }

    public static int ImulRMI<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        if (!ReadMem<S>(c, op.Seg, Ea(c, ref op), out uint src))
        {
            return Exec.Fault;
        }

        SetReg<S>(c, op.Dst, ImulTruncated<S>(c, src, op.Imm));
        return Exec.Next;
    }

    /// <summary>
    /// The two- and three-operand IMUL product truncated to the operand size. CF = OF = (the full
    /// product differs from the truncated one sign-extended); SF/ZF/PF from the truncated result and
    /// AF cleared, the same choice as <see cref="MulOp"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ImulTruncated<S>(Cpu c, uint a, uint b)
        where S : ISize
    {
        long p = (long)SignExtend<S>(a) * SignExtend<S>(b);
        uint lo = (uint)p & S.Mask;
        c.SetLazyExplicit(S.Index, lo, p != SignExtend<S>(lo) ? EFlags.CF | EFlags.OF : 0);
        return lo;
    }

    /// <summary>The double-width accumulator: AX, DX:AX or EDX:EAX.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong LoadPair<S>(Cpu c)
        where S : ISize
    {
        if (S.Bytes == 1)
        {
            return c.RegWord(0);
        }

        if (S.Bytes == 2)
        {
            return ((uint)c.RegWord(8) << 16) | c.RegWord(0);
        }

        return ((ulong)c.Edx << 32) | c.Eax;
    }

    /// <summary>Stores a low/high pair: AL/AH, AX/DX or EAX/EDX.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StorePair<S>(Cpu c, uint lo, uint hi)
        where S : ISize
    {
        if (S.Bytes == 1)
        {
            c.RegWord(0) = (ushort)((hi << 8) | lo);
        }
        else if (S.Bytes == 2)
        {
            c.RegWord(0) = (ushort)lo;
            c.RegWord(8) = (ushort)hi;
        }
        else
        {
            c.Eax = lo;
            c.Edx = hi;
        }
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        if (ins.OpCount == 1)
        {
            return ins.Mnemonic switch
            {
                Mnemonic.Mul => Accumulator<MulOp>(in ins, ref op),
                Mnemonic.Imul => Accumulator<ImulOp>(in ins, ref op),
                Mnemonic.Div => Accumulator<DivOp>(in ins, ref op),
                Mnemonic.Idiv => Accumulator<IdivOp>(in ins, ref op),
                _ => false,
            };
        }

        if (ins.Mnemonic != Mnemonic.Imul || ins.Op0Kind != OpKind.Register)
        {
            return false;
        }

        int size = ins.Op0Register.GetSize();
        op.OpSize = (byte)size;
        op.Dst = Translator.RegOffset(ins.Op0Register);
        bool reg = ins.Op1Kind == OpKind.Register;
        if (reg)
        {
            op.Src = Translator.RegOffset(ins.Op1Register);
        }

        if (ins.OpCount == 2)
        {
            op.Fn = (reg, size) switch
            {
                (true, 2) => &ImulRR<W16>,
                (true, 4) => &ImulRR<D32>,
                (false, 2) => &ImulRM<W16>,
                (false, 4) => &ImulRM<D32>,
                _ => null,
            };
            return op.Fn != null;
        }

        if (ins.OpCount != 3 || ins.Op2Kind is not (OpKind.Immediate8to16 or OpKind.Immediate8to32 or
            OpKind.Immediate16 or OpKind.Immediate32))
        {
            return false;
        }

        op.Imm = (uint)ins.GetImmediate(2) & Alu.SizeMask(size);
        op.Fn = (reg, size) switch
        {
            (true, 2) => &ImulRRI<W16>,
            (true, 4) => &ImulRRI<D32>,
            (false, 2) => &ImulRMI<W16>,
            (false, 4) => &ImulRMI<D32>,
            _ => null,
        };
        return op.Fn != null;
    }

    private static bool Accumulator<O>(in Instruction ins, ref MicroOp op)
        where O : IAccumulatorOp
    {
        int size = Translator.OperandSize(in ins, 0);
        op.OpSize = (byte)size;
        if (ins.Op0Kind == OpKind.Register)
        {
            op.Src = Translator.RegOffset(ins.Op0Register);
            op.Fn = size switch
            {
                1 => &AccR<O, B8>,
                2 => &AccR<O, W16>,
                4 => &AccR<O, D32>,
                _ => null,
            };
        }
        else
        {
            op.Fn = size switch
            {
                1 => &AccM<O, B8>,
                2 => &AccM<O, W16>,
                4 => &AccM<O, D32>,
                _ => null,
            };
        }

        return op.Fn != null;
    }
}
