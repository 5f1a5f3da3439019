using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;
using Iced.Intel;
using static Emulator.Cpu.Execute.Operands;

namespace Emulator.Cpu.Execute;

/// <summary>A two-operand ALU operation: computes the result and records its flags lazily.</summary>
public interface IAluOp
{
    /// <summary>False for CMP and TEST, which only set flags.</summary>
    static abstract bool WritesResult { get; }

    static abstract uint Compute<S>(Cpu c, uint dst, uint src)
        where S : ISize;
}

public struct AddOp : IAluOp
{
    public static bool WritesResult => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src)
        where S : ISize
    {
        uint r = (dst + src) & S.Mask;
        c.SetLazy(LazyKind.Add, S.Index, r, dst, src);
        return r;
    }
}

public struct OrOp : IAluOp
{
    public static bool WritesResult => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src)
        where S : ISize
    {
        uint r = dst | src;
        c.SetLazy(LazyKind.Logic, S.Index, r, dst, src);
        return r;
    }
}

public struct AdcOp : IAluOp
{
    public static bool WritesResult => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src)
        where S : ISize
    {
        uint cf = c.GetCF();
        uint r = (dst + src + cf) & S.Mask;
        c.SetLazyCarry(LazyKind.Adc, S.Index, r, dst, src, cf);
        return r;
    }
}

public struct SbbOp : IAluOp
{
    public static bool WritesResult => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src)
        where S : ISize
    {
        uint cf = c.GetCF();
        uint r = (dst - src - cf) & S.Mask;
        c.SetLazyCarry(LazyKind.Sbb, S.Index, r, dst, src, cf);
        return r;
    }
}

public struct AndOp : IAluOp
{
    public static bool WritesResult => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src)
        where S : ISize
    {
        uint r = dst & src;
        c.SetLazy(LazyKind.Logic, S.Index, r, dst, src);
        return r;
    }
}

public struct SubOp : IAluOp
{
    public static bool WritesResult => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src)
        where S : ISize
    {
        uint r = (dst - src) & S.Mask;
        c.SetLazy(LazyKind.Sub, S.Index, r, dst, src);
        return r;
    }
}

public struct XorOp : IAluOp
{
    public static bool WritesResult => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src)
        where S : ISize
    {
        uint r = dst ^ src;
        c.SetLazy(LazyKind.Logic, S.Index, r, dst, src);
        return r;
    }
}

public struct CmpOp : IAluOp
{
    public static bool WritesResult => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src)
        where S : ISize
    {
        uint r = (dst - src) & S.Mask;
        c.SetLazy(LazyKind.Sub, S.Index, r, dst, src);
        return r;
    }
}

public struct TestOp : IAluOp
{
    public static bool WritesResult => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst, uint src)
        where S : ISize
    {
        uint r = dst & src;
        c.SetLazy(LazyKind.Logic, S.Index, r, dst, src);
        return r;
    }
}

/// <summary>A one-operand ALU operation (INC, DEC, NEG, NOT).</summary>
public interface IUnaryOp
{
    static abstract uint Compute<S>(Cpu c, uint dst)
        where S : ISize;
}

public struct IncOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst)
        where S : ISize
    {
        uint r = (dst + 1) & S.Mask;
        c.SetLazyIncDec(LazyKind.Inc, S.Index, r, dst);
        return r;
    }
}

public struct DecOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst)
        where S : ISize
    {
        uint r = (dst - 1) & S.Mask;
        c.SetLazyIncDec(LazyKind.Dec, S.Index, r, dst);
        return r;
    }
}

public struct NegOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst)
        where S : ISize
    {
        uint r = (0 - dst) & S.Mask;
        c.SetLazy(LazyKind.Sub, S.Index, r, 0, dst);
        return r;
    }
}

public struct NotOp : IUnaryOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute<S>(Cpu c, uint dst)
        where S : ISize => ~dst & S.Mask; // NOT changes no flags
}

/// <summary>
/// ADD/OR/ADC/SBB/AND/SUB/XOR/CMP/TEST and INC/DEC/NEG/NOT. One generic handler per operand form
/// (reg,reg / reg,imm / reg,mem / mem,reg / mem,imm), specialised by the JIT for each operation
/// and size, so the hot path has no switch on the operation and no size tests.
/// </summary>
public static unsafe class Alu
{
    // Each hot handler is a call of its field form (the op's fields as parameters, inlined):
    // the IL block compiler calls the field form with the fields as constants (BlockCompiler),
    // so the interpreter and the compiled code run one body.
    public static int RR<O, S>(Cpu c, ref MicroOp op)
        where O : IAluOp
        where S : ISize => RR<O, S>(c, op.Dst, op.Src);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RR<O, S>(Cpu c, int dst, int src)
        where O : IAluOp
        where S : ISize => RI<O, S>(c, dst, GetReg<S>(c, src));

    public static int RI<O, S>(Cpu c, ref MicroOp op)
        where O : IAluOp
        where S : ISize => RI<O, S>(c, op.Dst, op.Imm);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RI<O, S>(Cpu c, int dst, uint imm)
        where O : IAluOp
        where S : ISize
    {
        uint r = O.Compute<S>(c, GetReg<S>(c, dst), imm);
        if (O.WritesResult)
        {
            SetReg<S>(c, dst, r);
        }

        return Exec.Next;
    }

    public static int RM<O, S>(Cpu c, ref MicroOp op)
        where O : IAluOp
        where S : ISize => RM<O, S>(c, op.Seg, Ea(c, ref op), op.Dst);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RM<O, S>(Cpu c, int seg, uint ea, int dst)
        where O : IAluOp
        where S : ISize
    {
        if (!ReadMem<S>(c, seg, ea, out uint src))
        {
            return Exec.Fault;
        }

        // Then as register, immediate with the value read.
        return RI<O, S>(c, dst, src);
    }

    public static int MR<O, S>(Cpu c, ref MicroOp op)
        where O : IAluOp
        where S : ISize => MR<O, S>(c, op.Seg, Ea(c, ref op), op.Src);

    /// <summary>Memory, register: <see cref="MI{O, S}(Cpu, int, uint, uint)"/> with the register's value (a register read has no side effect, so reading it first changes nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MR<O, S>(Cpu c, int seg, uint ea, int src)
        where O : IAluOp
        where S : ISize => MI<O, S>(c, seg, ea, GetReg<S>(c, src));

    public static int MI<O, S>(Cpu c, ref MicroOp op)
        where O : IAluOp
        where S : ISize => MI<O, S>(c, op.Seg, Ea(c, ref op), op.Imm);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MI<O, S>(Cpu c, int seg, uint ea, uint imm)
        where O : IAluOp
        where S : ISize
    {
        if (!O.WritesResult)
        {
            if (!ReadMem<S>(c, seg, ea, out uint d))
            {
                return Exec.Fault;
            }

            O.Compute<S>(c, d, imm);
            return Exec.Next;
        }

        if (!BeginRmw<S>(c, seg, ea, out uint lin, out byte* host))
        {
            return Exec.Fault;
        }

        uint r = O.Compute<S>(c, RmwRead<S>(c, lin, host), imm);
        RmwWrite<S>(c, lin, host, r);
        return Exec.Next;
    }

    public static int UnaryR<O, S>(Cpu c, ref MicroOp op)
        where O : IUnaryOp
        where S : ISize => UnaryR<O, S>(c, op.Dst);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnaryR<O, S>(Cpu c, int dst)
        where O : IUnaryOp
        where S : ISize
    {
        SetReg<S>(c, dst, O.Compute<S>(c, GetReg<S>(c, dst)));
        return Exec.Next;
    }

    public static int UnaryM<O, S>(Cpu c, ref MicroOp op)
        where O : IUnaryOp
        where S : ISize
    {
        if (!BeginRmw<S>(c, op.Seg, Ea(c, ref op), out uint lin, out byte* host))
        {
            return Exec.Fault;
        }

        RmwWrite<S>(c, lin, host, O.Compute<S>(c, RmwRead<S>(c, lin, host)));
        return Exec.Next;
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        return ins.Mnemonic switch
        {
            Mnemonic.Add => Binary<AddOp>(in ins, ref op),
            Mnemonic.Or => Binary<OrOp>(in ins, ref op),
            Mnemonic.Adc => Binary<AdcOp>(in ins, ref op),
            Mnemonic.Sbb => Binary<SbbOp>(in ins, ref op),
            Mnemonic.And => Binary<AndOp>(in ins, ref op),
            Mnemonic.Sub => Binary<SubOp>(in ins, ref op),
            Mnemonic.Xor => Binary<XorOp>(in ins, ref op),
            Mnemonic.Cmp => Binary<CmpOp>(in ins, ref op),
            Mnemonic.Test => Binary<TestOp>(in ins, ref op),
            Mnemonic.Inc => Unary<IncOp>(in ins, ref op),
            Mnemonic.Dec => Unary<DecOp>(in ins, ref op),
            Mnemonic.Neg => Unary<NegOp>(in ins, ref op),
            Mnemonic.Not => Unary<NotOp>(in ins, ref op),
            _ => false,
        };
    }

    private static bool Binary<O>(in Instruction ins, ref MicroOp op)
        where O : IAluOp
    {
        int size = Translator.OperandSize(in ins, 0);
        op.OpSize = (byte)size;
        var k0 = ins.Op0Kind;
        var k1 = ins.Op1Kind;
        if (k0 == OpKind.Register)
        {
            op.Dst = Translator.RegOffset(ins.Op0Register);
        }

        bool imm = k1 is OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or
            OpKind.Immediate8to16 or OpKind.Immediate8to32;
        if (imm)
        {
            op.Imm = (uint)ins.GetImmediate(1) & SizeMask(size);
        }

        if (k1 == OpKind.Register)
        {
            op.Src = Translator.RegOffset(ins.Op1Register);
        }

        // Forms: RR, RI, RM (dst register, src memory), MR (dst memory, src register), MI.
        int form = (k0, k1) switch
        {
            (OpKind.Register, OpKind.Register) => 0,
            (OpKind.Register, OpKind.Memory) => 2,
            (OpKind.Memory, OpKind.Register) => 3,
            (OpKind.Memory, _) when imm => 4,
            (OpKind.Register, _) when imm => 1,
            _ => -1,
        };
        op.Fn = (form, size) switch
        {
            (0, 1) => &RR<O, B8>,
            (0, 2) => &RR<O, W16>,
            (0, 4) => &RR<O, D32>,
            (1, 1) => &RI<O, B8>,
            (1, 2) => &RI<O, W16>,
            (1, 4) => &RI<O, D32>,
            (2, 1) => &RM<O, B8>,
            (2, 2) => &RM<O, W16>,
            (2, 4) => &RM<O, D32>,
            (3, 1) => &MR<O, B8>,
            (3, 2) => &MR<O, W16>,
            (3, 4) => &MR<O, D32>,
            (4, 1) => &MI<O, B8>,
            (4, 2) => &MI<O, W16>,
            (4, 4) => &MI<O, D32>,
            _ => null,
        };
        return op.Fn != null;
    }

    private static bool Unary<O>(in Instruction ins, ref MicroOp op)
        where O : IUnaryOp
    {
        int size = Translator.OperandSize(in ins, 0);
        op.OpSize = (byte)size;
        if (ins.Op0Kind == OpKind.Register)
        {
            op.Dst = Translator.RegOffset(ins.Op0Register);
            op.Fn = size switch
            {
                1 => &UnaryR<O, B8>,
                2 => &UnaryR<O, W16>,
                4 => &UnaryR<O, D32>,
                _ => null,
            };
        }
        else
        {
            op.Fn = size switch
            {
                1 => &UnaryM<O, B8>,
                2 => &UnaryM<O, W16>,
                4 => &UnaryM<O, D32>,
                _ => null,
            };
        }

        return op.Fn != null;
    }

    public static uint SizeMask(int size) => size switch { 1 => 0xFFu, 2 => 0xFFFFu, _ => 0xFFFFFFFFu };
}
