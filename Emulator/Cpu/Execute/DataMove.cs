using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Emulator.Cpu.Execute.Operands;

namespace Emulator.Cpu.Execute;

/// <summary>MOV and friends, LEA, XCHG, PUSH/POP of general operands, SETcc, CMOVcc, BSWAP, CBW..CDQ, LAHF/SAHF.</summary>
public static unsafe class DataMove
{
    // Each hot handler is a call of its field form (the op's fields as parameters, inlined):
    // the IL block compiler calls the field form with the fields as constants (BlockCompiler),
    // so the interpreter and the compiled code run one body.
    public static int MovRR<S>(Cpu c, ref MicroOp op)
        where S : ISize => MovRR<S>(c, op.Dst, op.Src);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovRR<S>(Cpu c, int dst, int src)
        where S : ISize
    {
        SetReg<S>(c, dst, GetReg<S>(c, src));
        return Exec.Next;
    }

    public static int MovRI<S>(Cpu c, ref MicroOp op)
        where S : ISize => MovRI<S>(c, op.Dst, op.Imm);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovRI<S>(Cpu c, int dst, uint imm)
        where S : ISize
    {
        SetReg<S>(c, dst, imm);
        return Exec.Next;
    }

    public static int MovRM<S>(Cpu c, ref MicroOp op)
        where S : ISize => MovRM<S>(c, op.Seg, Ea(c, ref op), op.Dst);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovRM<S>(Cpu c, int seg, uint ea, int dst)
        where S : ISize
    {
        if (!ReadMem<S>(c, seg, ea, out uint v))
        {
            return Exec.Fault;
        }

        SetReg<S>(c, dst, v);
        return Exec.Next;
    }

    public static int MovMR<S>(Cpu c, ref MicroOp op)
        where S : ISize => MovMR<S>(c, op.Seg, Ea(c, ref op), op.Src);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovMR<S>(Cpu c, int seg, uint ea, int src)
        where S : ISize => WriteMem<S>(c, seg, ea, GetReg<S>(c, src)) ? Exec.Next : Exec.Fault;

    public static int MovMI<S>(Cpu c, ref MicroOp op)
        where S : ISize => MovMI<S>(c, op.Seg, Ea(c, ref op), op.Imm);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovMI<S>(Cpu c, int seg, uint ea, uint imm)
        where S : ISize => WriteMem<S>(c, seg, ea, imm) ? Exec.Next : Exec.Fault;

    /// <summary>MOVZX/MOVSX: source size S, destination size in op.OpSize (2 or 4), sign extension when op.Cc = 1.</summary>
    public static int ExtendR<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        uint v = GetReg<S>(c, op.Src);
        StoreExtended<S>(c, ref op, v);
        return Exec.Next;
    }

    public static int ExtendM<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        if (!ReadMem<S>(c, op.Seg, Ea(c, ref op), out uint v))
        {
            return Exec.Fault;
        }

        StoreExtended<S>(c, ref op, v);
        return Exec.Next;
    }

    private static void StoreExtended<S>(Cpu c, ref MicroOp op, uint v)
        where S : ISize
    {
        uint x = op.Cc != 0 ? (uint)SignExtend<S>(v) : v;
        if (op.OpSize == 2)
        {
            c.RegWord(op.Dst) = (ushort)x;
        }
        else
        {
            c.RegDword(op.Dst) = x;
        }
    }

    public static int Lea32(Cpu c, ref MicroOp op)
    {
        c.RegDword(op.Dst) = Ea(c, ref op);
        return Exec.Next;
    }

    public static int Lea16(Cpu c, ref MicroOp op)
    {
        c.RegWord(op.Dst) = (ushort)Ea(c, ref op);
        return Exec.Next;
    }

    public static int XchgRR<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        uint a = GetReg<S>(c, op.Dst);
        SetReg<S>(c, op.Dst, GetReg<S>(c, op.Src));
        SetReg<S>(c, op.Src, a);
        return Exec.Next;
    }

    /// <summary>XCHG with memory: always locked on hardware; atomic here because vCPUs interleave at instruction boundaries.</summary>
    public static int XchgMR<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        if (!BeginRmw<S>(c, op.Seg, Ea(c, ref op), out uint lin, out byte* host))
        {
            return Exec.Fault;
        }

        uint m = RmwRead<S>(c, lin, host);
        RmwWrite<S>(c, lin, host, GetReg<S>(c, op.Src));
        SetReg<S>(c, op.Src, m);
        return Exec.Next;
    }

    public static int PushR(Cpu c, ref MicroOp op)
    {
        uint v = op.OpSize == 2 ? c.RegWord(op.Src) : c.RegDword(op.Src);
        return c.Push(v, op.OpSize) ? Exec.Next : Exec.Fault;
    }

    public static int PushI(Cpu c, ref MicroOp op) => c.Push(op.Imm, op.OpSize) ? Exec.Next : Exec.Fault;

    public static int PushM(Cpu c, ref MicroOp op)
    {
        if (!c.Read(op.Seg, Ea(c, ref op), op.OpSize, out uint v))
        {
            return Exec.Fault;
        }

        return c.Push(v, op.OpSize) ? Exec.Next : Exec.Fault;
    }

    public static int PopR(Cpu c, ref MicroOp op)
    {
        if (!c.Pop(op.OpSize, out uint v))
        {
            return Exec.Fault;
        }

        if (op.OpSize == 2)
        {
            c.RegWord(op.Dst) = (ushort)v;
        }
        else
        {
            c.RegDword(op.Dst) = v;
        }

        return Exec.Next;
    }

    /// <summary>POP to memory: the address is computed with ESP already incremented (SDM POP).</summary>
    public static int PopM(Cpu c, ref MicroOp op)
    {
        uint oldEsp = c.Esp;
        if (!c.Pop(op.OpSize, out uint v))
        {
            return Exec.Fault;
        }

        if (!c.Write(op.Seg, Ea(c, ref op), op.OpSize, v))
        {
            c.Esp = oldEsp;
            return Exec.Fault;
        }

        return Exec.Next;
    }

    public static int SetccR(Cpu c, ref MicroOp op)
    {
        c.RegByte(op.Dst) = c.Condition(op.Cc) ? (byte)1 : (byte)0;
        return Exec.Next;
    }

    public static int SetccM(Cpu c, ref MicroOp op) =>
        c.Write8(op.Seg, Ea(c, ref op), c.Condition(op.Cc) ? (byte)1 : (byte)0) ? Exec.Next : Exec.Fault;

    /// <summary>CMOVcc reg, reg: a 32-bit destination is written (zero-extension aside, no 64-bit here) only when the condition holds.</summary>
    public static int CmovRR<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        if (c.Condition(op.Cc))
        {
            SetReg<S>(c, op.Dst, GetReg<S>(c, op.Src));
        }

        return Exec.Next;
    }

    /// <summary>CMOVcc reg, mem: the source is read (and may fault) whatever the condition, as on hardware.</summary>
    public static int CmovRM<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        if (!ReadMem<S>(c, op.Seg, Ea(c, ref op), out uint v))
        {
            return Exec.Fault;
        }

        if (c.Condition(op.Cc))
        {
            SetReg<S>(c, op.Dst, v);
        }

        return Exec.Next;
    }

    public static int Bswap32(Cpu c, ref MicroOp op)
    {
        c.RegDword(op.Dst) = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(c.RegDword(op.Dst));
        return Exec.Next;
    }

    /// <summary>BSWAP with a 16-bit operand is undefined by the SDM; real CPUs write 0 to the low word (documented choice).</summary>
    public static int Bswap16(Cpu c, ref MicroOp op)
    {
        c.RegWord(op.Dst) = 0;
        return Exec.Next;
    }

    public static int Cbw(Cpu c, ref MicroOp op)
    {
        c.RegWord(0) = (ushort)(sbyte)c.RegByte(0);
        return Exec.Next;
    }

    public static int Cwde(Cpu c, ref MicroOp op)
    {
        c.Eax = (uint)(short)c.RegWord(0);
        return Exec.Next;
    }

    public static int Cwd(Cpu c, ref MicroOp op)
    {
        c.RegWord(8) = (short)c.RegWord(0) < 0 ? (ushort)0xFFFF : (ushort)0;
        return Exec.Next;
    }

    public static int Cdq(Cpu c, ref MicroOp op)
    {
        c.Edx = (int)c.Eax < 0 ? 0xFFFFFFFF : 0;
        return Exec.Next;
    }

    public static int Lahf(Cpu c, ref MicroOp op)
    {
        c.RegByte(1) = (byte)(c.GetEflags() & 0xD5 | 0x02);
        return Exec.Next;
    }

    public static int Sahf(Cpu c, ref MicroOp op)
    {
        c.SetArithFlags(c.RegByte(1), EFlags.CF | EFlags.PF | EFlags.AF | EFlags.ZF | EFlags.SF);
        return Exec.Next;
    }

    public static int Xlat(Cpu c, ref MicroOp op)
    {
        uint off = c.Ebx + c.RegByte(0);
        if ((op.Flags & OpFlags.Addr16) != 0)
        {
            off &= 0xFFFF;
        }

        if (!c.Read8(op.Seg, off, out byte v))
        {
            return Exec.Fault;
        }

        c.RegByte(0) = v;
        return Exec.Next;
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        // MOV to/from segment, control and debug registers and POP/PUSH of segment registers are
        // system instructions.
        for (int i = 0; i < ins.OpCount; i++)
        {
            if (ins.GetOpKind(i) == OpKind.Register)
            {
                var r = ins.GetOpRegister(i);
                if (r.IsSegmentRegister() || r.IsCR() || r.IsDR() || r.IsTR())
                {
                    return SystemOps.TryTranslate(in ins, ref op, ref ends);
                }
            }
        }

        switch (ins.Mnemonic)
        {
            case Mnemonic.Mov:
                return Mov(in ins, ref op);
            case Mnemonic.Movzx:
            case Mnemonic.Movsx:
                return Extend(in ins, ref op);
            case Mnemonic.Lea:
                if (ins.Op1Kind != OpKind.Memory)
                {
                    return false;
                }

                op.Dst = Translator.RegOffset(ins.Op0Register);
                op.Fn = ins.Op0Register.GetSize() == 2 ? &Lea16 : &Lea32;
                return true;
            case Mnemonic.Xchg:
                return Xchg(in ins, ref op);
            case Mnemonic.Push:
                return PushPop(in ins, ref op, push: true);
            case Mnemonic.Pop:
                return PushPop(in ins, ref op, push: false);
            case Mnemonic.Bswap:
                op.Dst = Translator.RegOffset(ins.Op0Register);
                op.Fn = ins.Op0Register.GetSize() == 2 ? &Bswap16 : &Bswap32;
                return true;
            case Mnemonic.Cbw:
                op.Fn = &Cbw;
                return true;
            case Mnemonic.Cwde:
                op.Fn = &Cwde;
                return true;
            case Mnemonic.Cwd:
                op.Fn = &Cwd;
                return true;
            case Mnemonic.Cdq:
                op.Fn = &Cdq;
                return true;
            case Mnemonic.Lahf:
                op.Fn = &Lahf;
                return true;
            case Mnemonic.Sahf:
                op.Fn = &Sahf;
                return true;
            case Mnemonic.Xlatb:
                op.Seg = (byte)Translator.SegmentNumber(ins.MemorySegment);
                op.Fn = &Xlat;
                return true;
        }

        if (ins.Mnemonic >= Mnemonic.Cmova && ins.Mnemonic <= Mnemonic.Cmovs)
        {
            return Cmov(in ins, ref op);
        }

        if (ins.Mnemonic >= Mnemonic.Seta && ins.Mnemonic <= Mnemonic.Sets)
        {
            op.Cc = (byte)ConditionCode(ins.ConditionCode);
            if (ins.Op0Kind == OpKind.Register)
            {
                op.Dst = Translator.RegOffset(ins.Op0Register);
                op.Fn = &SetccR;
            }
            else
            {
                op.Fn = &SetccM;
            }

            return true;
        }

        return StackOps.TryTranslate(in ins, ref op, ref ends);
    }

    /// <summary>Maps Iced's condition code to the x86 encoding nibble (0 = O ... 15 = G).</summary>
    public static int ConditionCode(Iced.Intel.ConditionCode cc) => cc switch
    {
        Iced.Intel.ConditionCode.o => 0,
        Iced.Intel.ConditionCode.no => 1,
        Iced.Intel.ConditionCode.b => 2,
        Iced.Intel.ConditionCode.ae => 3,
        Iced.Intel.ConditionCode.e => 4,
        Iced.Intel.ConditionCode.ne => 5,
        Iced.Intel.ConditionCode.be => 6,
        Iced.Intel.ConditionCode.a => 7,
        Iced.Intel.ConditionCode.s => 8,
        Iced.Intel.ConditionCode.ns => 9,
        Iced.Intel.ConditionCode.p => 10,
        Iced.Intel.ConditionCode.np => 11,
        Iced.Intel.ConditionCode.l => 12,
        Iced.Intel.ConditionCode.ge => 13,
        Iced.Intel.ConditionCode.le => 14,
        Iced.Intel.ConditionCode.g => 15,
        _ => throw new ArgumentOutOfRangeException(nameof(cc)),
    };

    private static bool IsImmediate(OpKind k) => k is OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or
        OpKind.Immediate8to16 or OpKind.Immediate8to32;

    private static bool Mov(in Instruction ins, ref MicroOp op)
    {
        int size = Translator.OperandSize(in ins, 0);
        op.OpSize = (byte)size;
        var k0 = ins.Op0Kind;
        var k1 = ins.Op1Kind;
        if (k0 == OpKind.Register)
        {
            op.Dst = Translator.RegOffset(ins.Op0Register);
        }

        if (k1 == OpKind.Register)
        {
            op.Src = Translator.RegOffset(ins.Op1Register);
        }

        if (IsImmediate(k1))
        {
            op.Imm = (uint)ins.GetImmediate(1);
        }

        op.Fn = (k0, k1, size) switch
        {
            (OpKind.Register, OpKind.Register, 1) => &MovRR<B8>,
            (OpKind.Register, OpKind.Register, 2) => &MovRR<W16>,
            (OpKind.Register, OpKind.Register, 4) => &MovRR<D32>,
            (OpKind.Register, OpKind.Memory, 1) => &MovRM<B8>,
            (OpKind.Register, OpKind.Memory, 2) => &MovRM<W16>,
            (OpKind.Register, OpKind.Memory, 4) => &MovRM<D32>,
            (OpKind.Memory, OpKind.Register, 1) => &MovMR<B8>,
            (OpKind.Memory, OpKind.Register, 2) => &MovMR<W16>,
            (OpKind.Memory, OpKind.Register, 4) => &MovMR<D32>,
            (OpKind.Register, _, 1) when IsImmediate(k1) => &MovRI<B8>,
            (OpKind.Register, _, 2) when IsImmediate(k1) => &MovRI<W16>,
            (OpKind.Register, _, 4) when IsImmediate(k1) => &MovRI<D32>,
            (OpKind.Memory, _, 1) when IsImmediate(k1) => &MovMI<B8>,
            (OpKind.Memory, _, 2) when IsImmediate(k1) => &MovMI<W16>,
            (OpKind.Memory, _, 4) when IsImmediate(k1) => &MovMI<D32>,
            _ => null,
        };
        return op.Fn != null;
    }

    private static bool Extend(in Instruction ins, ref MicroOp op)
    {
        op.OpSize = (byte)ins.Op0Register.GetSize();
        op.Dst = Translator.RegOffset(ins.Op0Register);
        op.Cc = ins.Mnemonic == Mnemonic.Movsx ? (byte)1 : (byte)0;
        int srcSize = Translator.OperandSize(in ins, 1);
        if (ins.Op1Kind == OpKind.Register)
        {
            op.Src = Translator.RegOffset(ins.Op1Register);
            op.Fn = srcSize == 1 ? &ExtendR<B8> : &ExtendR<W16>;
        }
        else
        {
            op.Fn = srcSize == 1 ? &ExtendM<B8> : &ExtendM<W16>;
        }

        return true;
    }

    private static bool Xchg(in Instruction ins, ref MicroOp op)
    {
        int size = Translator.OperandSize(in ins, 0);
        op.OpSize = (byte)size;
        if (ins.Op0Kind == OpKind.Register && ins.Op1Kind == OpKind.Register)
        {
            op.Dst = Translator.RegOffset(ins.Op0Register);
            op.Src = Translator.RegOffset(ins.Op1Register);
            op.Fn = size switch { 1 => &XchgRR<B8>, 2 => &XchgRR<W16>, _ => &XchgRR<D32> };
            return true;
        }

        // One operand is memory; Iced may put it first or second.
        var reg = ins.Op0Kind == OpKind.Register ? ins.Op0Register : ins.Op1Register;
        op.Src = Translator.RegOffset(reg);
        op.Fn = size switch { 1 => &XchgMR<B8>, 2 => &XchgMR<W16>, _ => &XchgMR<D32> };
        return true;
    }

    private static bool PushPop(in Instruction ins, ref MicroOp op, bool push)
    {
        if (ins.OpCount != 1)
        {
            return false;
        }

        op.OpSize = (byte)Math.Abs(ins.StackPointerIncrement);
        switch (ins.Op0Kind)
        {
            case OpKind.Register:
                if (push)
                {
                    op.Src = Translator.RegOffset(ins.Op0Register);
                    op.Fn = &PushR;
                }
                else
                {
                    op.Dst = Translator.RegOffset(ins.Op0Register);
                    op.Fn = &PopR;
                }

                return true;
            case OpKind.Memory:
                op.Fn = push ? &PushM : &PopM;
                return true;
            default:
                if (push && IsImmediate(ins.Op0Kind))
                {
                    op.Imm = (uint)ins.GetImmediate(0);
                    if (op.OpSize == 2)
                    {
                        op.Imm &= 0xFFFF;
                    }

                    op.Fn = &PushI;
                    return true;
                }

                return false;
        }
    }

    private static bool Cmov(in Instruction ins, ref MicroOp op)
    {
        int size = ins.Op0Register.GetSize();
        op.OpSize = (byte)size;
        op.Cc = (byte)ConditionCode(ins.ConditionCode);
        op.Dst = Translator.RegOffset(ins.Op0Register);
        if (ins.Op1Kind == OpKind.Register)
        {
            op.Src = Translator.RegOffset(ins.Op1Register);
            op.Fn = size == 2 ? &CmovRR<W16> : &CmovRR<D32>;
        }
        else
        {
            op.Fn = size == 2 ? &CmovRM<W16> : &CmovRM<D32>;
        }

        return true;
    }
}
