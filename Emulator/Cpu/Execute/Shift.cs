using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;
using Iced.Intel;
using static Emulator.Cpu.Execute.Operands;

namespace Emulator.Cpu.Execute;

/// <summary>
/// A shift or rotate of one operand. <see cref="Compute{S}"/> is only called with a count that is
/// already masked to 5 bits and is not zero (a zero count changes neither the operand nor any flag).
/// </summary>
public interface IShiftOp
{
    static abstract uint Compute<S>(Cpu c, uint dst, int count)
        where S : ISize;
}

/// <summary>
/// SHL/SAL. CF is the last bit shifted out (0 once the count exceeds the operand width, which only
/// 8- and 16-bit operands allow); OF = CF XOR the result's MSB for every count (the SDM defines it
/// for count 1 only; Bochs and QEMU apply this formula for every count, and an AMD EPYC agrees).
/// SF/ZF/PF follow the result. AF is undefined: we clear it, as Bochs and QEMU do (an AMD EPYC was
/// measured to set it to 1; what current Intel cores do should be settled by the host-CPU oracle).
/// </summary>
public struct ShlOp : IShiftOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, int count)
        where S : ISize
    {
        uint r = (dst << count) & S.Mask;
        uint cf = ((dst << (count - 1)) >> (S.Bits - 1)) & 1;
        uint of = cf ^ (r >> (S.Bits - 1));
        c.SetLazyExplicit(S.Index, r, cf | (of << 11));
        return r;
    }
}

/// <summary>
/// SHR. CF is the last bit shifted out (0 once the count exceeds the width); OF is the original MSB
/// for count 1 and 0 for larger counts (the SDM leaves it undefined; Bochs and QEMU do this and an
/// AMD EPYC agrees).
/// SF/ZF/PF follow the result; AF (undefined) is cleared, as for <see cref="ShlOp"/>.
/// </summary>
public struct ShrOp : IShiftOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, int count)
        where S : ISize
    {
        uint r = dst >> count;
        uint cf = (dst >> (count - 1)) & 1;
        uint of = count == 1 ? dst >> (S.Bits - 1) : 0;
        c.SetLazyExplicit(S.Index, r, cf | (of << 11));
        return r;
    }
}

/// <summary>
/// SAR. CF is the last bit shifted out (the sign once the count exceeds the width); OF = 0 for
/// every count (defined for count 1). SF/ZF/PF follow the result; AF (undefined) is cleared.
/// </summary>
public struct SarOp : IShiftOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, int count)
        where S : ISize
    {
        int s = SignExtend<S>(dst);
        uint r = (uint)(s >> count) & S.Mask;
        uint cf = (uint)(s >> (count - 1)) & 1;
        c.SetLazyExplicit(S.Index, r, cf);
        return r;
    }
}

/// <summary>
/// ROL. The operand rotates by the masked count modulo its width, but the flags are written
/// whenever the 5-bit masked count is non-zero (so ROL r8 by 8 leaves r8 alone and still sets
/// CF and OF, as Bochs models it and an AMD EPYC does): CF = the result's LSB, OF = CF XOR the result's MSB
/// (the count-1 formula, applied for every count; the SDM leaves OF undefined for other counts).
/// SF, ZF, AF and PF are unaffected.
/// </summary>
public struct RolOp : IShiftOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, int count)
        where S : ISize
    {
        int n = count & (S.Bits - 1);
        uint r = n == 0 ? dst : ((dst << n) | (dst >> (S.Bits - n))) & S.Mask;
        uint cf = r & 1;
        uint of = cf ^ (r >> (S.Bits - 1));
        c.SetCarryOverflow(cf, of);
        return r;
    }
}

/// <summary>
/// ROR. As <see cref="RolOp"/> for the count; CF = the result's MSB, OF = XOR of the result's two
/// most significant bits (the count-1 formula, applied for every count). SF, ZF, AF, PF unaffected.
/// </summary>
public struct RorOp : IShiftOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, int count)
        where S : ISize
    {
        int n = count & (S.Bits - 1);
        uint r = n == 0 ? dst : ((dst >> n) | (dst << (S.Bits - n))) & S.Mask;
        uint cf = r >> (S.Bits - 1);
        uint of = (cf ^ (r >> (S.Bits - 2))) & 1;
        c.SetCarryOverflow(cf, of);
        return r;
    }
}

/// <summary>
/// RCL: rotates the (width + 1)-bit value CF:operand left by the masked count modulo width + 1
/// (9 for 8-bit, 17 for 16-bit, 33 for 32-bit, which the 5-bit mask never reaches). CF = the bit
/// rotated into the carry position; OF = CF XOR the result's MSB for every count (count-1 formula).
/// A masked count that is a multiple of width + 1 (RCL r8 by 9 or 18) leaves the operand and CF as
/// they were but still writes OF by that formula, as an AMD EPYC was measured to do (our choice where
/// Intel documents nothing; Bochs leaves OF alone then). SF, ZF, AF, PF unaffected.
/// </summary>
public struct RclOp : IShiftOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, int count)
        where S : ISize
    {
        int width = S.Bits + 1;
        int n = count % width;
        ulong v = ((ulong)c.GetCF() << S.Bits) | dst;
        ulong rot = ((v << n) | (v >> (width - n))) & ((1UL << width) - 1);
        uint r = (uint)rot & S.Mask;
        uint cf = (uint)(rot >> S.Bits) & 1;
        uint of = cf ^ (r >> (S.Bits - 1));
        c.SetArithFlags(cf | (of << 11), EFlags.CF | EFlags.OF);
        return r;
    }
}

/// <summary>
/// RCR: rotates CF:operand right, the count as for <see cref="RclOp"/>. CF = the bit rotated into
/// the carry position; OF = XOR of the result's two most significant bits for every count (for
/// count 1 that is the SDM's MSB(dest) XOR CF taken before the rotate). SF, ZF, AF, PF unaffected.
/// </summary>
public struct RcrOp : IShiftOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, int count)
        where S : ISize
    {
        int width = S.Bits + 1;
        int n = count % width;
        ulong v = ((ulong)c.GetCF() << S.Bits) | dst;
        ulong rot = ((v >> n) | (v << (width - n))) & ((1UL << width) - 1);
        uint r = (uint)rot & S.Mask;
        uint cf = (uint)(rot >> S.Bits) & 1;
        uint of = ((r >> (S.Bits - 1)) ^ (r >> (S.Bits - 2))) & 1;
        c.SetArithFlags(cf | (of << 11), EFlags.CF | EFlags.OF);
        return r;
    }
}

/// <summary>A double-precision shift (SHLD/SHRD) of a 16- or 32-bit destination filled from a source register.</summary>
public interface IDoubleShiftOp
{
    static abstract uint Compute<S>(Cpu c, uint dst, uint src, int count)
        where S : ISize;
}

/// <summary>
/// SHLD. For 32-bit operands the count (1-31) never exceeds the width. For a 16-bit operand a count
/// of 17-31 is undefined by the SDM; we do what QEMU documents as Intel's behaviour: the 48-bit
/// value dst:src:dst is shifted left and its top 16 bits are the result, CF being the last bit
/// shifted out of it. (An AMD EPYC was measured to shift dst:src:src instead.) OF = CF XOR the
/// result's MSB for every count; SF/ZF/PF follow the result; AF (undefined) is cleared.
/// </summary>
public struct ShldOp : IDoubleShiftOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src, int count)
        where S : ISize
    {
        ulong x = S.Bytes == 2 ? ((ulong)dst << 32) | ((ulong)src << 16) | dst : ((ulong)dst << 32) | src;
        uint r = (uint)((x << count) >> 32) & S.Mask;
        uint cf = (uint)(x >> (32 + S.Bits - count)) & 1;
        uint of = cf ^ (r >> (S.Bits - 1));
        c.SetLazyExplicit(S.Index, r, cf | (of << 11));
        return r;
    }
}

/// <summary>
/// SHRD. A 16-bit operand with a count of 17-31 shifts the 48-bit value dst:src:dst right (Intel's
/// behaviour as QEMU documents it; an AMD EPYC shifts src:src:dst); CF is the last bit shifted out.
/// OF = XOR of the result's two most significant bits for every count (for count 1: the sign
/// changed); SF/ZF/PF follow the result; AF (undefined) is cleared.
/// </summary>
public struct ShrdOp : IDoubleShiftOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src, int count)
        where S : ISize
    {
        ulong x = S.Bytes == 2 ? ((ulong)dst << 32) | ((ulong)src << 16) | dst : ((ulong)src << 32) | dst;
        uint r = (uint)(x >> count) & S.Mask;
        uint cf = (uint)(x >> (count - 1)) & 1;
        uint of = ((r >> (S.Bits - 1)) ^ (r >> (S.Bits - 2))) & 1;
        c.SetLazyExplicit(S.Index, r, cf | (of << 11));
        return r;
    }
}

/// <summary>
/// SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR (count 1, CL or imm8) and SHLD/SHRD (imm8 or CL).
/// The count is masked to 5 bits; a masked count of 0 changes nothing. Handlers come per form
/// (register or memory operand, immediate or CL count), specialised for operation and size.
/// A memory operand is checked for writing before anything happens even when the count is 0
/// (a read-modify-write access, as Bochs models it); nothing is written back in that case.
/// </summary>
public static unsafe class Shift
{
    /// <summary>Byte offset of CL in the register file.</summary>
    private const int Cl = 4;

    public static int RI<O, S>(Cpu c, ref MicroOp op)
        where O : IShiftOp
        where S : ISize => RI<O, S>(c, op.Dst, op.Imm);

    /// <summary>The field form of <see cref="RI{O, S}(Cpu, ref MicroOp)"/>, which compiled blocks call with constants (BlockCompiler).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RI<O, S>(Cpu c, int dst, uint imm)
        where O : IShiftOp
        where S : ISize
    {
        SetReg<S>(c, dst, O.Compute<S>(c, GetReg<S>(c, dst), (int)imm));
        return Exec.Next;
    }

    public static int RC<O, S>(Cpu c, ref MicroOp op)
        where O : IShiftOp
        where S : ISize
    {
        int count = c.RegByte(Cl) & 0x1F;
        if (count != 0)
        {
            SetReg<S>(c, op.Dst, O.Compute<S>(c, GetReg<S>(c, op.Dst), count));
        }

        return Exec.Next;
    }

    public static int MI<O, S>(Cpu c, ref MicroOp op)
        where O : IShiftOp
        where S : ISize => MemoryShift<O, S>(c, ref op, (int)op.Imm);

    public static int MC<O, S>(Cpu c, ref MicroOp op)
        where O : IShiftOp
        where S : ISize => MemoryShift<O, S>(c, ref op, c.RegByte(Cl) & 0x1F);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MemoryShift<O, S>(Cpu c, ref MicroOp op, int count)
        where O : IShiftOp
        where S : ISize
    {
        if (!BeginRmw<S>(c, op.Seg, Ea(c, ref op), out uint lin, out byte* host))
        {
            return Exec.Fault;
        }

        if (count != 0)
        {
            RmwWrite<S>(c, lin, host, O.Compute<S>(c, RmwRead<S>(c, lin, host), count));
        }

        return Exec.Next;
    }

    public static int DoubleRI<O, S>(Cpu c, ref MicroOp op)
        where O : IDoubleShiftOp
        where S : ISize
    {
        SetReg<S>(c, op.Dst, O.Compute<S>(c, GetReg<S>(c, op.Dst), GetReg<S>(c, op.Src), (int)op.Imm));
        return Exec.Next;
    }

    public static int DoubleRC<O, S>(Cpu c, ref MicroOp op)
        where O : IDoubleShiftOp
        where S : ISize
    {
        int count = c.RegByte(Cl) & 0x1F;
        if (count != 0)
        {
            SetReg<S>(c, op.Dst, O.Compute<S>(c, GetReg<S>(c, op.Dst), GetReg<S>(c, op.Src), count));
        }

        return Exec.Next;
    }

    public static int DoubleMI<O, S>(Cpu c, ref MicroOp op)
        where O : IDoubleShiftOp
        where S : ISize => MemoryDoubleShift<O, S>(c, ref op, (int)op.Imm);

    public static int DoubleMC<O, S>(Cpu c, ref MicroOp op)
        where O : IDoubleShiftOp
        where S : ISize => MemoryDoubleShift<O, S>(c, ref op, c.RegByte(Cl) & 0x1F);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MemoryDoubleShift<O, S>(Cpu c, ref MicroOp op, int count)
        where O : IDoubleShiftOp
        where S : ISize
    {
        if (!BeginRmw<S>(c, op.Seg, Ea(c, ref op), out uint lin, out byte* host))
        {
            return Exec.Fault;
        }

        if (count != 0)
        {
            uint r = O.Compute<S>(c, RmwRead<S>(c, lin, host), GetReg<S>(c, op.Src), count);
            RmwWrite<S>(c, lin, host, r);
        }

        return Exec.Next;
    }

    /// <summary>A shift by an immediate count that masks to 0: no effect at all.</summary>
    public static int Nop(Cpu c, ref MicroOp op) => Exec.Next;

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        return ins.Mnemonic switch
        {
            Mnemonic.Shl or Mnemonic.Sal => Single<ShlOp>(in ins, ref op),
            Mnemonic.Shr => Single<ShrOp>(in ins, ref op),
            Mnemonic.Sar => Single<SarOp>(in ins, ref op),
            Mnemonic.Rol => Single<RolOp>(in ins, ref op),
            Mnemonic.Ror => Single<RorOp>(in ins, ref op),
            Mnemonic.Rcl => Single<RclOp>(in ins, ref op),
            Mnemonic.Rcr => Single<RcrOp>(in ins, ref op),
            Mnemonic.Shld => Double<ShldOp>(in ins, ref op),
            Mnemonic.Shrd => Double<ShrdOp>(in ins, ref op),
            _ => false,
        };
    }

    private static bool IsImmediate(OpKind k) => k == OpKind.Immediate8;

    private static bool Single<O>(in Instruction ins, ref MicroOp op)
        where O : IShiftOp
    {
        if (ins.OpCount != 2)
        {
            return false;
        }

        int size = Translator.OperandSize(in ins, 0);
        op.OpSize = (byte)size;
        bool reg = ins.Op0Kind == OpKind.Register;
        if (reg)
        {
            op.Dst = Translator.RegOffset(ins.Op0Register);
        }

        bool cl;
        if (IsImmediate(ins.Op1Kind))
        {
            cl = false;
            op.Imm = (uint)ins.GetImmediate(1) & 0x1F;
            if (reg && op.Imm == 0)
            {
                op.Fn = &Nop;
                return true;
            }
        }
        else if (ins.Op1Kind == OpKind.Register && ins.Op1Register == Register.CL)
        {
            cl = true;
        }
        else
        {
            return false;
        }

        op.Fn = (reg, cl, size) switch
        {
            (true, false, 1) => &RI<O, B8>,
            (true, false, 2) => &RI<O, W16>,
            (true, false, 4) => &RI<O, D32>,
            (true, true, 1) => &RC<O, B8>,
            (true, true, 2) => &RC<O, W16>,
            (true, true, 4) => &RC<O, D32>,
            (false, false, 1) => &MI<O, B8>,
            (false, false, 2) => &MI<O, W16>,
            (false, false, 4) => &MI<O, D32>,
            (false, true, 1) => &MC<O, B8>,
            (false, true, 2) => &MC<O, W16>,
            (false, true, 4) => &MC<O, D32>,
            _ => null,
        };
        return op.Fn != null;
    }

    private static bool Double<O>(in Instruction ins, ref MicroOp op)
        where O : IDoubleShiftOp
    {
        if (ins.OpCount != 3 || ins.Op1Kind != OpKind.Register)
        {
            return false;
        }

        int size = Translator.OperandSize(in ins, 0);
        op.OpSize = (byte)size;
        op.Src = Translator.RegOffset(ins.Op1Register);
        bool reg = ins.Op0Kind == OpKind.Register;
        if (reg)
        {
            op.Dst = Translator.RegOffset(ins.Op0Register);
        }

        bool cl;
        if (IsImmediate(ins.Op2Kind))
        {
            cl = false;
            op.Imm = (uint)ins.GetImmediate(2) & 0x1F;
            if (reg && op.Imm == 0)
            {
                op.Fn = &Nop;
                return true;
            }
        }
        else if (ins.Op2Kind == OpKind.Register && ins.Op2Register == Register.CL)
        {
            cl = true;
        }
        else
        {
            return false;
        }

        op.Fn = (reg, cl, size) switch
        {
            (true, false, 2) => &DoubleRI<O, W16>,
            (true, false, 4) => &DoubleRI<O, D32>,
            (true, true, 2) => &DoubleRC<O, W16>,
            (true, true, 4) => &DoubleRC<O, D32>,
            (false, false, 2) => &DoubleMI<O, W16>,
            (false, false, 4) => &DoubleMI<O, D32>,
            (false, true, 2) => &DoubleMC<O, W16>,
            (false, true, 4) => &DoubleMC<O, D32>,
            _ => null,
        };
        return op.Fn != null;
    }
}
