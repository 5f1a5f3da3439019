using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;
using Emulator.Cpu.Segmentation;
using Iced.Intel;

namespace Emulator.Cpu.Execute;

/// <summary>Near control transfers: Jcc, JMP, CALL, RET, LOOP/LOOPcc, JCXZ/JECXZ. Every one ends its block.</summary>
public static unsafe class Branch
{
    /// <summary>A new EIP must lie within the CS limit, else #GP(0) with EIP at the branch (SDM JMP/Jcc/CALL/RET).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Go(Cpu c, uint target)
    {
        if (target > c.Seg(SegReg.CS).Limit)
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        c.Eip = target;
        return Exec.Jump;
    }

    public static int Jcc(Cpu c, ref MicroOp op) => Jcc(c, op.Cc, op.Imm, op.NextEip);

    /// <summary>
    /// The field form of Jcc, which compiled blocks call with constants (BlockCompiler). JZ/JNZ
    /// after any lazy record read ZF from the result inline (the first test of
    /// <see cref="Cpu.Condition"/>, whose size mask is (1 &lt;&lt; (8 &lt;&lt; size)) - 1: 0xFF,
    /// 0xFFFF, 0xFFFFFFFF, and 0 for the unused size 3, where the 64-bit shift count wraps to 0);
    /// everything else calls Condition. With a constant condition the test folds away.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Jcc(Cpu c, int cc, uint target, uint next)
    {
        bool taken;
        int lazy = c.LazyOp;
        if ((cc == 4 || cc == 5) && lazy != 0)
        {
            bool zero = (c.LazyResult & (uint)((1UL << (8 << (lazy & 3))) - 1)) == 0;
            taken = cc == 4 ? zero : !zero;
        }
        else
        {
            taken = c.Condition(cc);
        }

        if (taken)
        {
            return Go(c, target);
        }

        c.Eip = next;
        return Exec.Jump;
    }

    public static int JmpRel(Cpu c, ref MicroOp op) => JmpRel(c, op.Imm);

    /// <summary>The field form of JmpRel (see Jcc).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int JmpRel(Cpu c, uint target) => Go(c, target);

    public static int JmpR(Cpu c, ref MicroOp op) =>
        Go(c, op.OpSize == 2 ? c.RegWord(op.Src) : c.RegDword(op.Src));

    public static int JmpM(Cpu c, ref MicroOp op)
    {
        if (!c.Read(op.Seg, Operands.Ea(c, ref op), op.OpSize, out uint target))
        {
            return Exec.Fault;
        }

        return Go(c, target);
    }

    private static int CallTo(Cpu c, ref MicroOp op, uint target)
    {
        if (target > c.Seg(SegReg.CS).Limit)
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        if (!c.Push(op.NextEip, op.OpSize))
        {
            return Exec.Fault;
        }

        c.Eip = target;
        return Exec.Jump;
    }

    public static int CallRel(Cpu c, ref MicroOp op) => CallTo(c, ref op, op.Imm);

    public static int CallR(Cpu c, ref MicroOp op) =>
        CallTo(c, ref op, op.OpSize == 2 ? c.RegWord(op.Src) : c.RegDword(op.Src));

    public static int CallM(Cpu c, ref MicroOp op)
    {
        if (!c.Read(op.Seg, Operands.Ea(c, ref op), op.OpSize, out uint target))
        {
            return Exec.Fault;
        }

        return CallTo(c, ref op, target);
    }

    /// <summary>RET near [imm16]: pops EIP (IP for 16-bit operand size), then releases imm16 bytes.</summary>
    public static int Ret(Cpu c, ref MicroOp op)
    {
        if (!c.PeekStack(0, op.OpSize, out uint target))
        {
            return Exec.Fault;
        }

        if (target > c.Seg(SegReg.CS).Limit)
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        uint release = (uint)op.OpSize + op.Imm2;
        if (c.Stack32)
        {
            c.Esp += release;
        }
        else
        {
            c.Esp = (c.Esp & 0xFFFF0000) | (ushort)(c.Esp + release);
        }

        c.Eip = target;
        return Exec.Jump;
    }

    /// <summary>LOOP/LOOPE/LOOPNE (op.Cc = 0, 1, 2): decrements CX or ECX by the address size, no flags changed.</summary>
    public static int Loop(Cpu c, ref MicroOp op)
    {
        uint count;
        if ((op.Flags & OpFlags.Addr16) != 0)
        {
            count = (ushort)(c.Ecx - 1);
            c.Ecx = (c.Ecx & 0xFFFF0000) | count;
        }
        else
        {
            count = c.Ecx - 1;
            c.Ecx = count;
        }

        bool take = count != 0 && op.Cc switch
        {
            1 => c.Condition(4),
            2 => c.Condition(5),
            _ => true,
        };
        if (take)
        {
            return Go(c, op.Imm);
        }

        c.Eip = op.NextEip;
        return Exec.Jump;
    }

    public static int Jcxz(Cpu c, ref MicroOp op)
    {
        uint count = (op.Flags & OpFlags.Addr16) != 0 ? c.Ecx & 0xFFFF : c.Ecx;
        if (count == 0)
        {
            return Go(c, op.Imm);
        }

        c.Eip = op.NextEip;
        return Exec.Jump;
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        ends = true;
        var k0 = ins.OpCount > 0 ? ins.Op0Kind : OpKind.Register;
        bool near = k0 is OpKind.NearBranch16 or OpKind.NearBranch32;
        if (near)
        {
            op.Imm = (uint)ins.NearBranchTarget;
        }

        switch (ins.Mnemonic)
        {
            case Mnemonic.Jmp:
                if (near)
                {
                    op.Fn = &JmpRel;
                    return true;
                }

                if (ins.IsJmpFarIndirect || ins.IsJmpFar)
                {
                    return SystemOps.TryTranslate(in ins, ref op, ref ends);
                }

                op.OpSize = (byte)Translator.OperandSize(in ins, 0);
                if (k0 == OpKind.Register)
                {
                    op.Src = Translator.RegOffset(ins.Op0Register);
                    op.Fn = &JmpR;
                }
                else
                {
                    op.Fn = &JmpM;
                }

                return true;
            case Mnemonic.Call:
                if (ins.IsCallFarIndirect || ins.IsCallFar)
                {
                    return SystemOps.TryTranslate(in ins, ref op, ref ends);
                }

                op.OpSize = (byte)Math.Abs(ins.StackPointerIncrement);
                if (near)
                {
                    op.Fn = &CallRel;
                }
                else if (k0 == OpKind.Register)
                {
                    op.Src = Translator.RegOffset(ins.Op0Register);
                    op.Fn = &CallR;
                }
                else
                {
                    op.Fn = &CallM;
                }

                return true;
            case Mnemonic.Ret:
                op.OpSize = ins.Code is Code.Retnw or Code.Retnw_imm16 ? (byte)2 : (byte)4;
                op.Imm2 = ins.OpCount > 0 ? ins.Immediate16 : 0u;
                op.Fn = &Ret;
                return true;
            case Mnemonic.Loop:
            case Mnemonic.Loope:
            case Mnemonic.Loopne:
                op.Cc = ins.Mnemonic == Mnemonic.Loope ? (byte)1 : ins.Mnemonic == Mnemonic.Loopne ? (byte)2 : (byte)0;
                op.Fn = &Loop;
                return true;
            case Mnemonic.Jcxz:
            case Mnemonic.Jecxz:
                op.Fn = &Jcxz;
                return true;
        }

        if (near && ins.IsJccShortOrNear)
        {
            op.Cc = (byte)DataMove.ConditionCode(ins.ConditionCode);
            op.Fn = &Jcc;
            return true;
        }

        return false;
    }
}
