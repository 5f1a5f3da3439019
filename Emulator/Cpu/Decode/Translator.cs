using Emulator.Cpu.Execute;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using IcedRegister = Iced.Intel.Register;

namespace Emulator.Cpu.Decode;

/// <summary>
/// Turns one Iced <see cref="Instruction"/> into a <see cref="MicroOp"/>: fills the common fields
/// (length, next EIP, prefixes, the memory operand) and lets the instruction's family pick a
/// specialised handler. Runs once per decoded instruction, never on the hot path.
/// </summary>
public static unsafe class Translator
{
    /// <summary>Fills <paramref name="op"/>; returns true when the instruction must end its block.</summary>
    public static bool Translate(in Instruction ins, ref MicroOp op, Cpu cpu)
    {
        _ = cpu;
        op.Length = (byte)ins.Length;
        op.NextEip = (uint)ins.NextIP;
        op.Code = (ushort)ins.Code;
        op.Base = Reg.Zero;
        op.Index = Reg.Zero;
        op.Seg = SegReg.DS;
        byte flags = 0;
        if (ins.CodeSize == CodeSize.Code16)
        {
            flags |= OpFlags.Code16;
        }

        if (ins.HasRepPrefix || ins.HasRepePrefix)
        {
            flags |= OpFlags.Rep;
        }

        if (ins.HasRepnePrefix)
        {
            flags |= OpFlags.Repne;
        }

        if (ins.HasLockPrefix)
        {
            flags |= OpFlags.Lock;
        }

        if (ins.SegmentPrefix != IcedRegister.None)
        {
            flags |= OpFlags.SegOverride;
            op.Seg = (byte)SegmentNumber(ins.SegmentPrefix);
        }

        // Address size: 16-bit when the memory operand (or the string instruction's implicit one)
        // uses 16-bit registers, which Iced tells through the operand's base/index or the code size.
        bool addr16 = AddressSize16(in ins);
        if (addr16)
        {
            flags |= OpFlags.Addr16;
        }

        op.Flags = flags;

        for (int i = 0; i < ins.OpCount; i++)
        {
            if (ins.GetOpKind(i) == OpKind.Memory)
            {
                FillMemoryOperand(in ins, ref op);

                // XCHG with memory is locked without a prefix (SDM XCHG): the cycle model
                // charges it as a locked operation. No handler reads this bit.
                if (ins.Mnemonic == Mnemonic.Xchg)
                {
                    op.Flags |= OpFlags.Lock;
                }

                break;
            }
        }

        if (ins.Code == Iced.Intel.Code.INVALID || (ins.HasLockPrefix && !LockAllowed(in ins)))
        {
            op.Fn = &Handlers.Undefined;
            return true;
        }

        bool ends = false;
        bool handled = ins.Mnemonic switch
        {
            Mnemonic.Add or Mnemonic.Or or Mnemonic.Adc or Mnemonic.Sbb or Mnemonic.And or Mnemonic.Sub or
            Mnemonic.Xor or Mnemonic.Cmp or Mnemonic.Test or Mnemonic.Inc or Mnemonic.Dec or Mnemonic.Neg or
            Mnemonic.Not => Alu.TryTranslate(in ins, ref op, ref ends),

            Mnemonic.Mov or Mnemonic.Movzx or Mnemonic.Movsx or Mnemonic.Lea or Mnemonic.Xchg or
            Mnemonic.Push or Mnemonic.Pop or Mnemonic.Bswap or Mnemonic.Cbw or Mnemonic.Cwde or Mnemonic.Cwd or
            Mnemonic.Cdq or Mnemonic.Lahf or Mnemonic.Sahf or Mnemonic.Xlatb or Mnemonic.Pusha or
            Mnemonic.Pushad or Mnemonic.Popa or Mnemonic.Popad or Mnemonic.Pushf or Mnemonic.Pushfd or
            Mnemonic.Popf or Mnemonic.Popfd or Mnemonic.Enter or Mnemonic.Leave or
            Mnemonic.Cmovo or Mnemonic.Cmovno or Mnemonic.Cmovb or Mnemonic.Cmovae or Mnemonic.Cmove or
            Mnemonic.Cmovne or Mnemonic.Cmovbe or Mnemonic.Cmova or Mnemonic.Cmovs or Mnemonic.Cmovns or
            Mnemonic.Cmovp or Mnemonic.Cmovnp or Mnemonic.Cmovl or Mnemonic.Cmovge or Mnemonic.Cmovle or
            Mnemonic.Cmovg or
            Mnemonic.Seto or Mnemonic.Setno or Mnemonic.Setb or Mnemonic.Setae or Mnemonic.Sete or
            Mnemonic.Setne or Mnemonic.Setbe or Mnemonic.Seta or Mnemonic.Sets or Mnemonic.Setns or
            Mnemonic.Setp or Mnemonic.Setnp or Mnemonic.Setl or Mnemonic.Setge or Mnemonic.Setle or
            Mnemonic.Setg => DataMove.TryTranslate(in ins, ref op, ref ends),

            Mnemonic.Jo or Mnemonic.Jno or Mnemonic.Jb or Mnemonic.Jae or Mnemonic.Je or Mnemonic.Jne or
            Mnemonic.Jbe or Mnemonic.Ja or Mnemonic.Js or Mnemonic.Jns or Mnemonic.Jp or Mnemonic.Jnp or
            Mnemonic.Jl or Mnemonic.Jge or Mnemonic.Jle or Mnemonic.Jg or Mnemonic.Jmp or Mnemonic.Call or
            Mnemonic.Ret or Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne or Mnemonic.Jcxz or
            Mnemonic.Jecxz => Branch.TryTranslate(in ins, ref op, ref ends),

            Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar or Mnemonic.Rol or Mnemonic.Ror or
            Mnemonic.Rcl or Mnemonic.Rcr or Mnemonic.Shld or Mnemonic.Shrd => Shift.TryTranslate(in ins, ref op, ref ends),

            Mnemonic.Mul or Mnemonic.Imul or Mnemonic.Div or Mnemonic.Idiv => MulDiv.TryTranslate(in ins, ref op, ref ends),

            Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc or Mnemonic.Bsf or
            Mnemonic.Bsr => BitOps.TryTranslate(in ins, ref op, ref ends),

            Mnemonic.Daa or Mnemonic.Das or Mnemonic.Aaa or Mnemonic.Aas or Mnemonic.Aam or
            Mnemonic.Aad => Bcd.TryTranslate(in ins, ref op, ref ends),

            Mnemonic.Cmpxchg or Mnemonic.Cmpxchg8b or Mnemonic.Xadd => Atomic.TryTranslate(in ins, ref op, ref ends),

            Mnemonic.Movsb or Mnemonic.Movsw or Mnemonic.Movsd or Mnemonic.Cmpsb or Mnemonic.Cmpsw or
            Mnemonic.Cmpsd or Mnemonic.Scasb or Mnemonic.Scasw or Mnemonic.Scasd or Mnemonic.Lodsb or
            Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Stosb or Mnemonic.Stosw or Mnemonic.Stosd or
            Mnemonic.Insb or Mnemonic.Insw or Mnemonic.Insd or Mnemonic.Outsb or Mnemonic.Outsw or
            Mnemonic.Outsd => StringOps.TryTranslate(in ins, ref op, ref ends),

            Mnemonic.In or Mnemonic.Out => PortIo.TryTranslate(in ins, ref op, ref ends),

            Mnemonic.Nop or Mnemonic.Clc or Mnemonic.Stc or Mnemonic.Cmc or Mnemonic.Cld or Mnemonic.Std or
            Mnemonic.Cli or Mnemonic.Sti or Mnemonic.Hlt or Mnemonic.Ud0 or Mnemonic.Ud1 or Mnemonic.Ud2 or
            Mnemonic.Cpuid or Mnemonic.Rdtsc or Mnemonic.Rdmsr or Mnemonic.Wrmsr or Mnemonic.Pause or
            Mnemonic.Wait or Mnemonic.Rdpmc or Mnemonic.Endbr32 or Mnemonic.Reservednop or
            Mnemonic.Prefetchnta or Mnemonic.Prefetcht0 or Mnemonic.Prefetcht1 or Mnemonic.Prefetcht2 => Misc.TryTranslate(in ins, ref op, ref ends),

            _ => SystemOps.TryTranslate(in ins, ref op, ref ends),
        };

        if (!handled)
        {
            op.Fn = &Handlers.Unimplemented;
            return true;
        }

        return ends;
    }

    /// <summary>LOCK is allowed only on the read-modify-write forms with a memory destination (SDM LOCK).</summary>
    private static bool LockAllowed(in Instruction ins)
    {
        if (ins.OpCount == 0 || ins.Op0Kind != OpKind.Memory)
        {
            return false;
        }

        return ins.Mnemonic is Mnemonic.Add or Mnemonic.Adc or Mnemonic.And or Mnemonic.Btc or Mnemonic.Btr or
            Mnemonic.Bts or Mnemonic.Cmpxchg or Mnemonic.Cmpxchg8b or Mnemonic.Dec or Mnemonic.Inc or
            Mnemonic.Neg or Mnemonic.Not or Mnemonic.Or or Mnemonic.Sbb or Mnemonic.Sub or Mnemonic.Xor or
            Mnemonic.Xadd or Mnemonic.Xchg;
    }

    private static bool AddressSize16(in Instruction ins)
    {
        for (int i = 0; i < ins.OpCount; i++)
        {
            switch (ins.GetOpKind(i))
            {
                case OpKind.Memory:
                    var b = ins.MemoryBase;
                    var x = ins.MemoryIndex;
                    if (b != IcedRegister.None)
                    {
                        return b.IsGPR16();
                    }

                    if (x != IcedRegister.None)
                    {
                        return x.IsGPR16();
                    }

                    return ins.MemoryDisplSize == 2;
                case OpKind.MemorySegSI:
                case OpKind.MemorySegDI:
                case OpKind.MemoryESDI:
                    return true;
                case OpKind.MemorySegESI:
                case OpKind.MemorySegEDI:
                case OpKind.MemoryESEDI:
                    return false;
            }
        }

        // No memory operand: LOOP/JCXZ use CX vs ECX by address size; Iced encodes it in the mnemonic/code.
        return ins.Code is Iced.Intel.Code.Loop_rel8_16_CX or Iced.Intel.Code.Loop_rel8_32_CX or
            Iced.Intel.Code.Loope_rel8_16_CX or Iced.Intel.Code.Loope_rel8_32_CX or
            Iced.Intel.Code.Loopne_rel8_16_CX or Iced.Intel.Code.Loopne_rel8_32_CX or
            Iced.Intel.Code.Jcxz_rel8_16 or Iced.Intel.Code.Jcxz_rel8_32 ||
            (ins.CodeSize == CodeSize.Code16 && ins.Mnemonic == Mnemonic.Xlatb && ins.MemoryBase == IcedRegister.BX);
    }

    private static void FillMemoryOperand(in Instruction ins, ref MicroOp op)
    {
        op.Base = ins.MemoryBase == IcedRegister.None ? (byte)Reg.Zero : (byte)GprNumber(ins.MemoryBase);
        op.Index = ins.MemoryIndex == IcedRegister.None ? (byte)Reg.Zero : (byte)GprNumber(ins.MemoryIndex);
        op.Scale = ins.MemoryIndexScale switch { 2 => 1, 4 => 2, 8 => 3, _ => 0 };
        op.Disp = ins.MemoryDisplacement32;
        op.Seg = (byte)SegmentNumber(ins.MemorySegment);
    }

    /// <summary>Register number 0-7 of a 32-, 16- or 8-bit (AL..BL only) general register.</summary>
    public static int GprNumber(IcedRegister r)
    {
        if (r >= IcedRegister.EAX && r <= IcedRegister.EDI)
        {
            return r - IcedRegister.EAX;
        }

        if (r >= IcedRegister.AX && r <= IcedRegister.DI)
        {
            return r - IcedRegister.AX;
        }

        if (r >= IcedRegister.AL && r <= IcedRegister.BH)
        {
            return (r - IcedRegister.AL) & 3;
        }

        throw new ArgumentException($"not a general register: {r}");
    }

    /// <summary>Byte offset in the register file of a general register of any size (AH = 1, BH = 13).</summary>
    public static byte RegOffset(IcedRegister r)
    {
        if (r >= IcedRegister.AL && r <= IcedRegister.BH)
        {
            int i = r - IcedRegister.AL;
            return (byte)(i < 4 ? i * 4 : ((i - 4) * 4) + 1);
        }

        return (byte)(GprNumber(r) * 4);
    }

    public static int SegmentNumber(IcedRegister r) => r switch
    {
        IcedRegister.ES => SegReg.ES,
        IcedRegister.CS => SegReg.CS,
        IcedRegister.SS => SegReg.SS,
        IcedRegister.DS => SegReg.DS,
        IcedRegister.FS => SegReg.FS,
        IcedRegister.GS => SegReg.GS,
        _ => SegReg.DS,
    };

    /// <summary>Operand size in bytes of operand 0 (register or memory).</summary>
    public static int OperandSize(in Instruction ins, int operand = 0)
    {
        return ins.GetOpKind(operand) switch
        {
            OpKind.Register => ins.GetOpRegister(operand).GetSize(),
            OpKind.Memory => ins.MemorySize.GetSize(),
            _ => 0,
        };
    }
}
