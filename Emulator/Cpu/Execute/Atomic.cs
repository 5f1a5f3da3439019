using Emulator.Cpu.Decode;
using Iced.Intel;
using static Emulator.Cpu.Execute.Operands;

namespace Emulator.Cpu.Execute;

/// <summary>
/// CMPXCHG, CMPXCHG8B and XADD. With LOCK (validated by the translator) they are atomic with
/// respect to other vCPUs because vCPUs interleave only at instruction boundaries; the memory
/// forms check the whole write before changing anything, so a fault leaves registers, memory and
/// flags untouched.
/// </summary>
public static unsafe class Atomic
{
    /// <summary>
    /// CMPXCHG r/m, r with a register destination: compares the accumulator with the destination
    /// (flags as CMP accumulator, destination); equal: destination = source; else accumulator =
    /// destination.
    /// </summary>
    public static int CmpxchgRR<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        uint acc = GetReg<S>(c, 0);
        uint d = GetReg<S>(c, op.Dst);
        c.SetLazy(LazyKind.Sub, S.Index, (acc - d) & S.Mask, acc, d);
        if (acc == d)
        {
            SetReg<S>(c, op.Dst, GetReg<S>(c, op.Src));
        }
        else
        {
            SetReg<S>(c, 0, d);
        }

        return Exec.Next;
    }

    /// <summary>
    /// CMPXCHG m, r. The destination is always written, with its old value when the compare fails,
    /// as the processor does (SDM: "the destination operand is written back if the comparison
    /// fails"), so a read-only destination faults either way.
    /// </summary>
    public static int CmpxchgMR<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        if (!BeginRmw<S>(c, op.Seg, Ea(c, ref op), out uint lin, out byte* host))
        {
            return Exec.Fault;
        }

        uint acc = GetReg<S>(c, 0);
        uint m = RmwRead<S>(c, lin, host);
        c.SetLazy(LazyKind.Sub, S.Index, (acc - m) & S.Mask, acc, m);
        if (acc == m)
        {
            RmwWrite<S>(c, lin, host, GetReg<S>(c, op.Src));
        }
        else
        {
            RmwWrite<S>(c, lin, host, m);
            SetReg<S>(c, 0, m);
        }

        return Exec.Next;
    }

    /// <summary>
    /// CMPXCHG8B m64: compares EDX:EAX with the quadword; equal: ZF = 1 and m64 = ECX:EBX; else
    /// ZF = 0, EDX:EAX = m64 and m64 is written back unchanged (so the write can fault either way).
    /// CF, PF, AF, SF and OF are unaffected.
    /// </summary>
    public static int Cmpxchg8b(Cpu c, ref MicroOp op)
    {
        if (!c.PrepareWrite(op.Seg, Ea(c, ref op), 8, out uint lin))
        {
            return Exec.Fault;
        }

        // The probe covered all eight bytes, so none of these accesses can fault.
        c.ReadLinear32(lin, out uint lo);
        c.ReadLinear32(lin + 4, out uint hi);
        if (lo == c.Eax && hi == c.Edx)
        {
            c.WriteLinear32(lin, c.Ebx);
            c.WriteLinear32(lin + 4, c.Ecx);
            c.SetArithFlags(EFlags.ZF, EFlags.ZF);
        }
        else
        {
            c.WriteLinear32(lin, lo);
            c.WriteLinear32(lin + 4, hi);
            c.Eax = lo;
            c.Edx = hi;
            c.SetArithFlags(0, EFlags.ZF);
        }

        return Exec.Next;
    }

    /// <summary>XADD r/m, r with a register destination: source = old destination, destination = sum; flags as ADD.</summary>
    public static int XaddRR<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        uint d = GetReg<S>(c, op.Dst);
        uint sum = AddOp.Compute<S>(c, d, GetReg<S>(c, op.Src));
        SetReg<S>(c, op.Src, d);
        SetReg<S>(c, op.Dst, sum);
        return Exec.Next;
    }

    public static int XaddMR<S>(Cpu c, ref MicroOp op)
        where S : ISize
    {
        if (!BeginRmw<S>(c, op.Seg, Ea(c, ref op), out uint lin, out byte* host))
        {
            return Exec.Fault;
        }

        uint m = RmwRead<S>(c, lin, host);
        RmwWrite<S>(c, lin, host, AddOp.Compute<S>(c, m, GetReg<S>(c, op.Src)));
        SetReg<S>(c, op.Src, m);
        return Exec.Next;
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        if (ins.Mnemonic == Mnemonic.Cmpxchg8b)
        {
            if (ins.OpCount != 1 || ins.Op0Kind != OpKind.Memory)
            {
                return false;
            }

            op.OpSize = 8;
            op.Fn = &Cmpxchg8b;
            return true;
        }

        if (ins.OpCount != 2 || ins.Op1Kind != OpKind.Register)
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

        op.Fn = (ins.Mnemonic, reg, size) switch
        {
            (Mnemonic.Cmpxchg, true, 1) => &CmpxchgRR<B8>,
            (Mnemonic.Cmpxchg, true, 2) => &CmpxchgRR<W16>,
            (Mnemonic.Cmpxchg, true, 4) => &CmpxchgRR<D32>,
            (Mnemonic.Cmpxchg, false, 1) => &CmpxchgMR<B8>,
            (Mnemonic.Cmpxchg, false, 2) => &CmpxchgMR<W16>,
            (Mnemonic.Cmpxchg, false, 4) => &CmpxchgMR<D32>,
            (Mnemonic.Xadd, true, 1) => &XaddRR<B8>,
            (Mnemonic.Xadd, true, 2) => &XaddRR<W16>,
            (Mnemonic.Xadd, true, 4) => &XaddRR<D32>,
            (Mnemonic.Xadd, false, 1) => &XaddMR<B8>,
            (Mnemonic.Xadd, false, 2) => &XaddMR<W16>,
            (Mnemonic.Xadd, false, 4) => &XaddMR<D32>,
            _ => null,
        };
        return op.Fn != null;
    }
}
