using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;
using Emulator.Cpu.Execute;
using Emulator.Cpu.Segmentation;
using static Emulator.Cpu.Execute.Operands;

namespace Emulator.Cpu.Compile;

/// <summary>
/// The hottest handlers again, with the micro-op's fields as parameters instead of a
/// <see cref="MicroOp"/> reference. <see cref="BlockCompiler"/> calls these with the fields as IL
/// constants; each is inlined into the compiled block, so the JIT folds the register offsets,
/// segment, displacement, immediate and branch targets (an absent base or index register costs
/// nothing, the segment cache is at a fixed offset). Each body is its handler's with
/// <c>op.Field</c> replaced by the parameter, calling the same memory, segment and lazy-flags
/// code, so faults, flags and cycle charges are the handler's.
/// </summary>
public static unsafe class JitKernels
{
    /// <summary><see cref="Operands.Ea"/> with constant operands (<see cref="Reg.Zero"/> always reads 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Ea(Cpu c, int baseReg, int indexReg, int scale, uint disp, bool addr16)
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
    public static int MovRR<S>(Cpu c, int dst, int src)
        where S : ISize
    {
        SetReg<S>(c, dst, GetReg<S>(c, src));
        return Exec.Next;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovRI<S>(Cpu c, int dst, uint imm)
        where S : ISize
    {
        SetReg<S>(c, dst, imm);
        return Exec.Next;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovRM<S>(Cpu c, int seg, int baseReg, int indexReg, int scale, uint disp, bool addr16, int dst)
        where S : ISize
    {
        if (!ReadMem<S>(c, seg, Ea(c, baseReg, indexReg, scale, disp, addr16), out uint v))
        {
            return Exec.Fault;
        }

        SetReg<S>(c, dst, v);
        return Exec.Next;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovMR<S>(Cpu c, int seg, int baseReg, int indexReg, int scale, uint disp, bool addr16, int src)
        where S : ISize => WriteMem<S>(c, seg, Ea(c, baseReg, indexReg, scale, disp, addr16), GetReg<S>(c, src)) ? Exec.Next : Exec.Fault;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MovMI<S>(Cpu c, int seg, int baseReg, int indexReg, int scale, uint disp, bool addr16, uint imm)
        where S : ISize => WriteMem<S>(c, seg, Ea(c, baseReg, indexReg, scale, disp, addr16), imm) ? Exec.Next : Exec.Fault;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AluRR<O, S>(Cpu c, int dst, int src)
        where O : IAluOp
        where S : ISize
    {
        uint r = O.Compute<S>(c, GetReg<S>(c, dst), GetReg<S>(c, src));
        if (O.WritesResult)
        {
            SetReg<S>(c, dst, r);
        }

        return Exec.Next;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AluRI<O, S>(Cpu c, int dst, uint imm)
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AluRM<O, S>(Cpu c, int seg, int baseReg, int indexReg, int scale, uint disp, bool addr16, int dst)
        where O : IAluOp
        where S : ISize
    {
        if (!ReadMem<S>(c, seg, Ea(c, baseReg, indexReg, scale, disp, addr16), out uint src))
        {
            return Exec.Fault;
        }

        // Then as a register, immediate operation with the value read.
        return AluRI<O, S>(c, dst, src);
    }

    /// <summary>ALU memory, register: <see cref="AluMI"/> with the register's value (reading it first changes nothing: a register read has no side effect).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AluMR<O, S>(Cpu c, int seg, int baseReg, int indexReg, int scale, uint disp, bool addr16, int src)
        where O : IAluOp
        where S : ISize
        => AluMI<O, S>(c, seg, baseReg, indexReg, scale, disp, addr16, GetReg<S>(c, src));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AluMI<O, S>(Cpu c, int seg, int baseReg, int indexReg, int scale, uint disp, bool addr16, uint imm)
        where O : IAluOp
        where S : ISize
    {
        uint ea = Ea(c, baseReg, indexReg, scale, disp, addr16);
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnaryR<O, S>(Cpu c, int dst)
        where O : IUnaryOp
        where S : ISize
    {
        SetReg<S>(c, dst, O.Compute<S>(c, GetReg<S>(c, dst)));
        return Exec.Next;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ShiftRI<O, S>(Cpu c, int dst, uint imm)
        where O : IShiftOp
        where S : ISize
    {
        SetReg<S>(c, dst, O.Compute<S>(c, GetReg<S>(c, dst), (int)imm));
        return Exec.Next;
    }

    /// <summary>
    /// Jcc. JZ/JNZ after any lazy record read ZF from the result inline (the first test of
    /// <see cref="Cpu.Condition"/>, whose size mask is (1 &lt;&lt; (8 &lt;&lt; size)) - 1: 0xFF, 0xFFFF,
    /// 0xFFFFFFFF, and 0 for the unused size 3, where the 64-bit shift count wraps to 0);
    /// everything else calls Condition.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Jcc(Cpu c, int cc, uint target, uint next)
    {
        bool taken;
        int op = c.LazyOp;
        if ((cc == 4 || cc == 5) && op != 0)
        {
            bool zero = (c.LazyResult & (uint)((1UL << (8 << (op & 3))) - 1)) == 0;
            taken = cc == 4 ? zero : !zero;
        }
        else
        {
            taken = c.Condition(cc);
        }

        if (taken)
        {
            return Branch.Go(c, target);
        }

        c.Eip = next;
        return Exec.Jump;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int JmpRel(Cpu c, uint target) => Branch.Go(c, target);
}
