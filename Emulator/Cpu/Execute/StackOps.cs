using Emulator.Cpu.Decode;
using Emulator.Cpu.Segmentation;
using Iced.Intel;

namespace Emulator.Cpu.Execute;

/// <summary>
/// PUSHA/PUSHAD, POPA/POPAD, PUSHF/PUSHFD, POPF/POPFD, ENTER and LEAVE (SDM Vol. 2). A fault
/// leaves ESP, EBP and the other registers as they were (values already stored below ESP are
/// not architectural state).
/// </summary>
public static unsafe class StackOps
{
    /// <summary>The stack pointer as an offset in SS: ESP with a 32-bit stack, SP otherwise.</summary>
    private static uint StackTop(Cpu c) => c.Stack32 ? c.Esp : (ushort)c.Esp;

    /// <summary>Sets ESP (32-bit stack) or only SP (16-bit stack) to <paramref name="offset"/>.</summary>
    private static void SetStackTop(Cpu c, uint offset)
    {
        if (c.Stack32)
        {
            c.Esp = offset;
        }
        else
        {
            c.Esp = (c.Esp & 0xFFFF0000) | (ushort)offset;
        }
    }

    /// <summary>PUSHA/PUSHAD: EAX, ECX, EDX, EBX, the original ESP, EBP, ESI, EDI (op.OpSize = 2 or 4).</summary>
    public static int Pusha(Cpu c, ref MicroOp op)
    {
        int size = op.OpSize;
        uint mask = size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
        uint oldEsp = c.Esp;
        for (int r = Reg.EAX; r <= Reg.EDI; r++)
        {
            uint v = r == Reg.ESP ? oldEsp : c.R(r);
            if (!c.Push(v & mask, size))
            {
                c.Esp = oldEsp;
                return Exec.Fault;
            }
        }

        return Exec.Next;
    }

    /// <summary>POPA/POPAD: EDI, ESI, EBP, (the ESP slot is skipped), EBX, EDX, ECX, EAX. Everything is read before anything changes.</summary>
    public static int Popa(Cpu c, ref MicroOp op)
    {
        int size = op.OpSize;
        Span<uint> v = stackalloc uint[8];
        for (int i = 0; i < 8; i++)
        {
            if (i == 3)
            {
                continue; // the saved ESP
            }

            if (!c.PeekStack((uint)(i * size), size, out v[i]))
            {
                return Exec.Fault;
            }
        }

        for (int i = 0; i < 8; i++)
        {
            if (i == 3)
            {
                continue;
            }

            int r = Reg.EDI - i;
            if (size == 2)
            {
                c.RegWord(r * 4) = (ushort)v[i];
            }
            else
            {
                c.R(r) = v[i];
            }
        }

        SetStackTop(c, StackTop(c) + (uint)(8 * size));
        return Exec.Next;
    }

    /// <summary>In virtual-8086 mode PUSHF/POPF need IOPL = 3 (VME is not offered), else #GP(0).</summary>
    private static bool V86Denied(Cpu c) =>
        (c.FlagsBase & EFlags.VM) != 0 && (c.FlagsBase & EFlags.IOPL) != EFlags.IOPL;

    /// <summary>PUSHF/PUSHFD: the image has VM and RF clear (SDM PUSHF); the 16-bit form pushes the low word.</summary>
    public static int Pushf(Cpu c, ref MicroOp op)
    {
        if (V86Denied(c))
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        uint flags = c.GetEflags() & ~(EFlags.VM | EFlags.RF);
        if (op.OpSize == 2)
        {
            flags &= 0xFFFF;
        }

        return c.Push(flags, op.OpSize) ? Exec.Next : Exec.Fault;
    }

    /// <summary>
    /// POPF/POPFD (SDM POPF): at CPL 0 every writable flag changes, IOPL and IF included; above
    /// CPL 0 IOPL is kept, and IF is kept too when CPL &gt; IOPL (silently, no fault); in V86
    /// mode IOPL must be 3 (else #GP(0)) and IOPL is kept. VM, VIP and VIF never change; the
    /// 32-bit form clears RF; the 16-bit form touches only the low 16 bits. Ends the block: TF and
    /// IF may have changed.
    /// </summary>
    public static int Popf(Cpu c, ref MicroOp op)
    {
        if (V86Denied(c))
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        if (!c.Pop(op.OpSize, out uint popped))
        {
            return Exec.Fault;
        }

        uint mask = EFlags.Writable;
        if (op.OpSize == 2)
        {
            mask &= 0xFFFF;
        }

        uint iopl = (c.FlagsBase >> 12) & 3;
        if ((c.FlagsBase & EFlags.VM) != 0)
        {
            mask &= ~EFlags.IOPL;
        }
        else if (c.Cpl > 0)
        {
            mask &= ~EFlags.IOPL;
            if (c.Cpl > iopl)
            {
                mask &= ~EFlags.IF;
            }
        }

        uint flags = (c.GetEflags() & ~mask) | (popped & mask);
        if (op.OpSize == 4)
        {
            flags &= ~EFlags.RF;
        }

        c.SetEflags(flags);
        c.Eip = op.NextEip;
        return Exec.Jump;
    }

    /// <summary>
    /// ENTER imm16, imm8 (SDM ENTER): pushes EBP, copies level-1 frame pointers from the
    /// enclosing frame and pushes the new frame pointer when the level is above 0, sets EBP and
    /// allocates imm16 bytes. op.Imm = size, op.Imm2 = level (mod 32), op.OpSize = operand
    /// size. ESP/SP follows the stack size (SS.B), EBP/BP the operand size. The final stack
    /// pointer must be writable (#SS or #PF otherwise); nothing changes on a fault.
    /// </summary>
    public static int Enter(Cpu c, ref MicroOp op)
    {
        int size = op.OpSize;
        int level = (int)(op.Imm2 & 31);
        uint oldEsp = c.Esp;
        bool stack32 = c.Stack32;
        uint ebp = c.Ebp;
        if (!c.Push(size == 2 ? ebp & 0xFFFF : ebp, size))
        {
            return Exec.Fault;
        }

        uint frame = stack32 ? c.Esp : (ushort)c.Esp; // FrameTemp: ESP or SP by stack size
        if (level > 0)
        {
            uint bp = stack32 ? ebp : (ushort)ebp;
            for (int i = 1; i < level; i++)
            {
                bp = stack32 ? bp - (uint)size : (ushort)(bp - size);
                if (!c.Read(SegReg.SS, bp, size, out uint v) || !c.Push(v, size))
                {
                    c.Esp = oldEsp;
                    return Exec.Fault;
                }
            }

            if (!c.Push(frame, size))
            {
                c.Esp = oldEsp;
                return Exec.Fault;
            }
        }

        uint top = StackTop(c) - op.Imm;
        if (!stack32)
        {
            top &= 0xFFFF;
        }

        if (!c.PrepareWrite(SegReg.SS, top, size, out _))
        {
            c.Esp = oldEsp;
            return Exec.Fault;
        }

        SetStackTop(c, top);
        if (size == 2)
        {
            c.RegWord(Reg.EBP * 4) = (ushort)frame;
        }
        else
        {
            c.Ebp = frame;
        }

        return Exec.Next;
    }

    /// <summary>LEAVE: ESP (SP with a 16-bit stack) = EBP (BP), then pops EBP (BP by operand size). The pop is read first.</summary>
    public static int Leave(Cpu c, ref MicroOp op)
    {
        int size = op.OpSize;
        uint top = c.Stack32 ? c.Ebp : (ushort)c.Ebp;
        if (!c.Read(SegReg.SS, top, size, out uint v))
        {
            return Exec.Fault;
        }

        SetStackTop(c, top + (uint)size);
        if (size == 2)
        {
            c.RegWord(Reg.EBP * 4) = (ushort)v;
        }
        else
        {
            c.Ebp = v;
        }

        return Exec.Next;
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        switch (ins.Code)
        {
            case Code.Pushaw:
            case Code.Pushad:
                op.OpSize = ins.Code == Code.Pushaw ? (byte)2 : (byte)4;
                op.Fn = &Pusha;
                return true;
            case Code.Popaw:
            case Code.Popad:
                op.OpSize = ins.Code == Code.Popaw ? (byte)2 : (byte)4;
                op.Fn = &Popa;
                return true;
            case Code.Pushfw:
            case Code.Pushfd:
                op.OpSize = ins.Code == Code.Pushfw ? (byte)2 : (byte)4;
                op.Fn = &Pushf;
                return true;
            case Code.Popfw:
            case Code.Popfd:
                op.OpSize = ins.Code == Code.Popfw ? (byte)2 : (byte)4;
                op.Fn = &Popf;
                ends = true;
                return true;
            case Code.Enterw_imm16_imm8:
            case Code.Enterd_imm16_imm8:
                op.OpSize = ins.Code == Code.Enterw_imm16_imm8 ? (byte)2 : (byte)4;
                op.Imm = ins.Immediate16;
                op.Imm2 = ins.Immediate8_2nd;
                op.Fn = &Enter;
                return true;
            case Code.Leavew:
            case Code.Leaved:
                op.OpSize = ins.Code == Code.Leavew ? (byte)2 : (byte)4;
                op.Fn = &Leave;
                return true;
            default:
                return false;
        }
    }
}
