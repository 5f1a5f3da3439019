using System.Numerics;
using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;
using Iced.Intel;
using static Emulator.Cpu.Execute.Operands;

namespace Emulator.Cpu.Execute;

/// <summary>What BT, BTS, BTR and BTC do to the selected bit.</summary>
public interface IBitOp
{
    /// <summary>False for BT, which only reads.</summary>
    static abstract bool WritesResult { get; }

    static abstract uint Apply(uint value, uint bit);
}

public struct BtOp : IBitOp
{
    public static bool WritesResult => false;

    public static uint Apply(uint value, uint bit) => value;
}

public struct BtsOp : IBitOp
{
    public static bool WritesResult => true;

    public static uint Apply(uint value, uint bit) => value | bit;
}

public struct BtrOp : IBitOp
{
    public static bool WritesResult => true;

    public static uint Apply(uint value, uint bit) => value & ~bit;
}

public struct BtcOp : IBitOp
{
    public static bool WritesResult => true;

    public static uint Apply(uint value, uint bit) => value ^ bit;
}

/// <summary>BSF or BSR: the index of the lowest or highest set bit of a non-zero value.</summary>
public interface IBitScanOp
{
    static abstract uint Scan(uint value);
}

public struct BsfOp : IBitScanOp
{
    public static uint Scan(uint value) => (uint)BitOperations.TrailingZeroCount(value);
}

public struct BsrOp : IBitScanOp
{
    public static uint Scan(uint value) => (uint)BitOperations.Log2(value);
}

/// <summary>
/// BT, BTS, BTR, BTC (16/32-bit, bit offset in a register or an imm8) and BSF, BSR.
///
/// Bit tests: a register operand, or any imm8 offset, takes the offset modulo the operand width.
/// A memory operand with a register offset treats the offset as signed and addresses the operand
/// containing the bit: EA + (offset SAR 4) * 2 for 16-bit, EA + (offset SAR 5) * 4 for 32-bit (the
/// word/dword access the SDM allows), wrapped to 16 bits under 16-bit addressing. CF = the selected
/// bit before the change. The other status flags: ZF is unaffected by definition, and OF, SF, AF and
/// PF (undefined) are left unchanged too, as Bochs models it and as an AMD EPYC was measured to do.
/// </summary>
public static unsafe class BitOps
{
    public static int BitRR<O, S>(Cpu c, ref MicroOp op)
        where O : IBitOp
        where S : ISize
    {
        uint bit = 1u << (int)(GetReg<S>(c, op.Src) & (uint)(S.Bits - 1));
        uint v = GetReg<S>(c, op.Dst);
        SetCarry(c, v, bit);
        if (O.WritesResult)
        {
            SetReg<S>(c, op.Dst, O.Apply(v, bit));
        }

        return Exec.Next;
    }

    /// <summary>Register operand, imm8 offset: <see cref="MicroOp.Imm"/> holds the mask of the bit (offset masked at translation).</summary>
    public static int BitRI<O, S>(Cpu c, ref MicroOp op)
        where O : IBitOp
        where S : ISize
    {
        uint v = GetReg<S>(c, op.Dst);
        SetCarry(c, v, op.Imm);
        if (O.WritesResult)
        {
            SetReg<S>(c, op.Dst, O.Apply(v, op.Imm));
        }

        return Exec.Next;
    }

    /// <summary>Memory operand, register offset: the signed offset selects the operand-sized unit that holds the bit.</summary>
    public static int BitMR<O, S>(Cpu c, ref MicroOp op)
        where O : IBitOp
        where S : ISize
    {
        int offset = SignExtend<S>(GetReg<S>(c, op.Src));
        uint ea = Ea(c, ref op) + (uint)((offset >> (S.Bytes == 2 ? 4 : 5)) * S.Bytes);
        if ((op.Flags & OpFlags.Addr16) != 0)
        {
            ea &= 0xFFFF;
        }

        return BitMemory<O, S>(c, ref op, ea, 1u << (offset & (S.Bits - 1)));
    }

    public static int BitMI<O, S>(Cpu c, ref MicroOp op)
        where O : IBitOp
        where S : ISize => BitMemory<O, S>(c, ref op, Ea(c, ref op), op.Imm);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BitMemory<O, S>(Cpu c, ref MicroOp op, uint ea, uint bit)
        where O : IBitOp
        where S : ISize
    {
        if (!O.WritesResult)
        {
            if (!ReadMem<S>(c, op.Seg, ea, out uint v))
            {
                return Exec.Fault;
            }

            SetCarry(c, v, bit);
            return Exec.Next;
        }

        if (!BeginRmw<S>(c, op.Seg, ea, out uint lin, out byte* host))
        {
            return Exec.Fault;
        }

        uint m = RmwRead<S>(c, lin, host);
        SetCarry(c, m, bit);
        RmwWrite<S>(c, lin, host, O.Apply(m, bit));
        return Exec.Next;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetCarry(Cpu c, uint value, uint bit) =>
        c.SetArithFlags((value & bit) != 0 ? EFlags.CF : 0, EFlags.CF);

    public static int ScanRR<O, S>(Cpu c, ref MicroOp op)
        where O : IBitScanOp
        where S : ISize
    {
        Scan<O, S>(c, ref op, GetReg<S>(c, op.Src));
        return Exec.Next;
    }

    public static int ScanRM<O, S>(Cpu c, ref MicroOp op)
        where O : IBitScanOp
        where S : ISize
    {
        if (!ReadMem<S>(c, op.Seg, Ea(c, ref op), out uint src))
        {
            return Exec.Fault;
        }

        Scan<O, S>(c, ref op, src);
        return Exec.Next;
    }

    /// <summary>
    /// BSF/BSR. A zero source sets ZF and leaves the destination unchanged (what Intel and AMD
    /// processors do in practice; AMD documents it, the SDM calls the destination undefined); a non-zero source
    /// clears ZF and writes the bit index. CF, OF, SF, AF and PF are undefined: we set them as
    /// TEST src,src would (CF = OF = AF = 0, SF and PF from the source), which for a zero source
    /// matches what sandpile.org records for the Pentium 4. (An AMD EPYC was measured to leave them
    /// unchanged.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scan<O, S>(Cpu c, ref MicroOp op, uint src)
        where O : IBitScanOp
        where S : ISize
    {
        c.SetLazy(LazyKind.Logic, S.Index, src, src, src);
        if (src != 0)
        {
            SetReg<S>(c, op.Dst, O.Scan(src));
        }
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        return ins.Mnemonic switch
        {
            Mnemonic.Bt => BitTest<BtOp>(in ins, ref op),
            Mnemonic.Bts => BitTest<BtsOp>(in ins, ref op),
            Mnemonic.Btr => BitTest<BtrOp>(in ins, ref op),
            Mnemonic.Btc => BitTest<BtcOp>(in ins, ref op),
            Mnemonic.Bsf => BitScan<BsfOp>(in ins, ref op),
            Mnemonic.Bsr => BitScan<BsrOp>(in ins, ref op),
            _ => false,
        };
    }

    private static bool BitTest<O>(in Instruction ins, ref MicroOp op)
        where O : IBitOp
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

        bool imm;
        if (ins.Op1Kind == OpKind.Immediate8)
        {
            imm = true;
            op.Imm = 1u << (int)(ins.Immediate8 & (size * 8 - 1));
        }
        else if (ins.Op1Kind == OpKind.Register)
        {
            imm = false;
            op.Src = Translator.RegOffset(ins.Op1Register);
        }
        else
        {
            return false;
        }

        op.Fn = (reg, imm, size) switch
        {
            (true, false, 2) => &BitRR<O, W16>,
            (true, false, 4) => &BitRR<O, D32>,
            (true, true, 2) => &BitRI<O, W16>,
            (true, true, 4) => &BitRI<O, D32>,
            (false, false, 2) => &BitMR<O, W16>,
            (false, false, 4) => &BitMR<O, D32>,
            (false, true, 2) => &BitMI<O, W16>,
            (false, true, 4) => &BitMI<O, D32>,
            _ => null,
        };
        return op.Fn != null;
    }

    private static bool BitScan<O>(in Instruction ins, ref MicroOp op)
        where O : IBitScanOp
    {
        if (ins.OpCount != 2 || ins.Op0Kind != OpKind.Register)
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

        op.Fn = (reg, size) switch
        {
            (true, 2) => &ScanRR<O, W16>,
            (true, 4) => &ScanRR<O, D32>,
            (false, 2) => &ScanRM<O, W16>,
            (false, 4) => &ScanRM<O, D32>,
            _ => null,
        };
        return op.Fn != null;
    }
}
