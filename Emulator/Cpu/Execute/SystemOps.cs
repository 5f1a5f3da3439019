using Emulator.Cpu.Decode;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Emulator.Cpu.Execute.Operands;
using IcedRegister = Iced.Intel.Register;

namespace Emulator.Cpu.Execute;

/// <summary>
/// System instructions: segment register loads and stores, far JMP/CALL/RET, INT/INTO/BOUND/IRET,
/// descriptor-table registers, LDTR/TR, LAR/LSL/VERR/VERW/ARPL, control and debug registers,
/// LMSW/SMSW/CLTS, INVLPG/INVD/WBINVD and SYSENTER/SYSEXIT. The architectural work lives in the
/// <see cref="Cpu"/> partial classes (CpuSegments, CpuTasks, CpuSystem); handlers here decode
/// operands and apply the privilege and mode checks of each instruction page.
/// </summary>
public static unsafe class SystemOps
{
    // ---------------------------------------------------------------- helpers

    private static int Gp0(Cpu c)
    {
        c.FaultWithCode(Vectors.GP, 0);
        return Exec.Fault;
    }

    private static int Ud(Cpu c)
    {
        c.Fault(Vectors.UD);
        return Exec.Fault;
    }

    /// <summary>Instructions that only exist in protected mode (LLDT, SLDT, LAR, ARPL...): #UD in real and virtual-8086 mode.</summary>
    private static bool ProtectedOnly(Cpu c) => c.ProtectedMode && !c.V86Mode;

    private static int Transfer(bool ok) => ok ? Exec.Jump : Exec.Fault;

    /// <summary>Reads a 16-bit selector operand from a register (op.Src) or memory (op.Cc = 1).</summary>
    private static bool ReadSelector(Cpu c, ref MicroOp op, out ushort selector)
    {
        if (op.Cc == 0)
        {
            selector = c.RegWord(op.Src);
            return true;
        }

        return c.Read16(op.Seg, Ea(c, ref op), out selector);
    }

    /// <summary>Offset of the second part of a memory operand (selector of a far pointer, base of a pseudo-descriptor).</summary>
    private static uint Next(ref MicroOp op, uint ea, uint by) =>
        (op.Flags & OpFlags.Addr16) != 0 ? (ushort)(ea + by) : ea + by;

    private static void SetZf(Cpu c, bool zf) => c.SetArithFlags(zf ? EFlags.ZF : 0, EFlags.ZF);

    // ---------------------------------------------------------------- segment registers

    /// <summary>MOV Sreg, r16 (op.Dst = segment, op.Src = register offset).</summary>
    public static int MovSregR(Cpu c, ref MicroOp op) => LoadSreg(c, ref op, c.RegWord(op.Src));

    public static int MovSregM(Cpu c, ref MicroOp op)
    {
        if (!c.Read16(op.Seg, Ea(c, ref op), out ushort sel))
        {
            return Exec.Fault;
        }

        return LoadSreg(c, ref op, sel);
    }

    private static int LoadSreg(Cpu c, ref MicroOp op, ushort selector)
    {
        if (!c.LoadSegmentRegister(op.Dst, selector))
        {
            return Exec.Fault;
        }

        if (op.Dst == SegReg.SS)
        {
            // MOV SS inhibits interrupts (and debug traps) until after the next instruction.
            c.InterruptShadow = true;
            c.MovSsShadow = true;
        }

        return Exec.Next;
    }

    /// <summary>MOV r16/r32, Sreg: a 32-bit destination receives the zero-extended selector (P6 and later).</summary>
    public static int MovRSreg(Cpu c, ref MicroOp op)
    {
        ushort sel = c.Seg(op.Src).Selector;
        if (op.OpSize == 4)
        {
            c.RegDword(op.Dst) = sel;
        }
        else
        {
            c.RegWord(op.Dst) = sel;
        }

        return Exec.Next;
    }

    public static int MovMSreg(Cpu c, ref MicroOp op) =>
        c.Write16(op.Seg, Ea(c, ref op), c.Seg(op.Src).Selector) ? Exec.Next : Exec.Fault;

    /// <summary>PUSH Sreg: with a 32-bit operand ESP drops by 4 but only the low word is written (as recent processors and Bochs do).</summary>
    public static int PushSreg(Cpu c, ref MicroOp op)
    {
        ushort sel = c.Seg(op.Src).Selector;
        if (op.OpSize == 2)
        {
            return c.Push(sel, 2) ? Exec.Next : Exec.Fault;
        }

        bool big = c.Stack32;
        uint esp = big ? c.Esp - 4 : (ushort)(c.Esp - 4);
        if (!c.Write16(SegReg.SS, esp, sel))
        {
            return Exec.Fault;
        }

        c.Esp = big ? esp : (c.Esp & 0xFFFF0000) | esp;
        return Exec.Next;
    }

    /// <summary>POP Sreg: the selector is loaded (with all its checks) before ESP moves, so a fault leaves ESP unchanged.</summary>
    public static int PopSreg(Cpu c, ref MicroOp op)
    {
        bool big = c.Stack32;
        uint esp = c.Esp;
        if (!c.PeekStack(0, op.OpSize, out uint v))
        {
            return Exec.Fault;
        }

        if (!c.LoadSegmentRegister(op.Dst, (ushort)v))
        {
            return Exec.Fault;
        }

        c.Esp = big ? esp + op.OpSize : (esp & 0xFFFF0000) | (ushort)(esp + op.OpSize);
        if (op.Dst == SegReg.SS)
        {
            c.InterruptShadow = true;
            c.MovSsShadow = true;
        }

        return Exec.Next;
    }

    /// <summary>LDS/LES/LFS/LGS/LSS r, m16:16/32 (op.Cc = segment, op.Dst = register, op.OpSize = offset size).</summary>
    public static int LoadFarPointer(Cpu c, ref MicroOp op)
    {
        uint ea = Ea(c, ref op);
        if (!c.Read(op.Seg, ea, op.OpSize, out uint offset) ||
            !c.Read16(op.Seg, Next(ref op, ea, op.OpSize), out ushort sel))
        {
            return Exec.Fault;
        }

        if (!c.LoadSegmentRegister(op.Cc, sel))
        {
            return Exec.Fault;
        }

        if (op.OpSize == 2)
        {
            c.RegWord(op.Dst) = (ushort)offset;
        }
        else
        {
            c.RegDword(op.Dst) = offset;
        }

        return Exec.Next;
    }

    // ---------------------------------------------------------------- far transfers

    /// <summary>JMP ptr16:16/32: op.Imm = offset, op.Imm2 = selector.</summary>
    public static int JmpFarPtr(Cpu c, ref MicroOp op) => Transfer(c.FarJump((ushort)op.Imm2, op.Imm, op.NextEip));

    public static int JmpFarM(Cpu c, ref MicroOp op)
    {
        uint ea = Ea(c, ref op);
        if (!c.Read(op.Seg, ea, op.OpSize, out uint offset) ||
            !c.Read16(op.Seg, Next(ref op, ea, op.OpSize), out ushort sel))
        {
            return Exec.Fault;
        }

        return Transfer(c.FarJump(sel, offset, op.NextEip));
    }

    public static int CallFarPtr(Cpu c, ref MicroOp op) =>
        Transfer(c.FarCall((ushort)op.Imm2, op.Imm, op.OpSize, op.NextEip));

    public static int CallFarM(Cpu c, ref MicroOp op)
    {
        uint ea = Ea(c, ref op);
        if (!c.Read(op.Seg, ea, op.OpSize, out uint offset) ||
            !c.Read16(op.Seg, Next(ref op, ea, op.OpSize), out ushort sel))
        {
            return Exec.Fault;
        }

        return Transfer(c.FarCall(sel, offset, op.OpSize, op.NextEip));
    }

    /// <summary>RETF [imm16]: op.Imm2 = bytes released.</summary>
    public static int RetFar(Cpu c, ref MicroOp op) => Transfer(c.FarReturn(op.OpSize, op.Imm2));

    public static int Iret(Cpu c, ref MicroOp op)
    {
        int r = Transfer(c.InterruptReturn(op.OpSize, op.NextEip));
        if (r != Exec.Fault)
        {
            c.NmiBlocked = false; // IRET ends the NMI-blocking window (SDM 6.7.1)
        }

        return r;
    }

    /// <summary>INT n (op.Imm = vector): #GP(0) in virtual-8086 mode with IOPL &lt; 3.</summary>
    public static int IntN(Cpu c, ref MicroOp op)
    {
        if (c.V86Mode && c.Iopl < 3)
        {
            return Gp0(c);
        }

        return Transfer(c.SoftwareInterrupt((int)op.Imm, op.NextEip, Cpu.InterruptKind.Software));
    }

    public static int Int3(Cpu c, ref MicroOp op) =>
        Transfer(c.SoftwareInterrupt(Vectors.BP, op.NextEip, Cpu.InterruptKind.SoftwareException));

    /// <summary>INT1 (ICEBP): a #DB trap delivered like a hardware exception (no gate DPL check).</summary>
    public static int Int1(Cpu c, ref MicroOp op) =>
        Transfer(c.SoftwareInterrupt(Vectors.DB, op.NextEip, Cpu.InterruptKind.Exception));

    public static int Into(Cpu c, ref MicroOp op)
    {
        if (!c.Condition(0))
        {
            c.Eip = op.NextEip;
            return Exec.Jump;
        }

        return Transfer(c.SoftwareInterrupt(Vectors.OF, op.NextEip, Cpu.InterruptKind.SoftwareException));
    }

    /// <summary>BOUND r, m: #BR (a fault, EIP at the BOUND) when the signed index is outside [lower, upper].</summary>
    public static int Bound(Cpu c, ref MicroOp op)
    {
        uint ea = Ea(c, ref op);
        int index;
        int lower;
        int upper;
        if (op.OpSize == 2)
        {
            if (!c.Read16(op.Seg, ea, out ushort lo) || !c.Read16(op.Seg, Next(ref op, ea, 2), out ushort hi))
            {
                return Exec.Fault;
            }

            index = (short)c.RegWord(op.Src);
            lower = (short)lo;
            upper = (short)hi;
        }
        else
        {
            if (!c.Read32(op.Seg, ea, out uint lo) || !c.Read32(op.Seg, Next(ref op, ea, 4), out uint hi))
            {
                return Exec.Fault;
            }

            index = (int)c.RegDword(op.Src);
            lower = (int)lo;
            upper = (int)hi;
        }

        if (index < lower || index > upper)
        {
            c.Fault(Vectors.BR);
            return Exec.Fault;
        }

        return Exec.Next;
    }

    public static int SysEnter(Cpu c, ref MicroOp op) => Transfer(c.SysEnter());

    public static int SysExit(Cpu c, ref MicroOp op) => Transfer(c.SysExit());

    // ---------------------------------------------------------------- descriptor tables

    /// <summary>LGDT (op.Cc = 0) / LIDT (op.Cc = 1): CPL 0; a 16-bit operand size loads a 24-bit base.</summary>
    public static int LoadTableRegister(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0)
        {
            return Gp0(c);
        }

        uint ea = Ea(c, ref op);
        if (!c.Read16(op.Seg, ea, out ushort limit) || !c.Read32(op.Seg, Next(ref op, ea, 2), out uint baseAddress))
        {
            return Exec.Fault;
        }

        if (op.OpSize == 2)
        {
            baseAddress &= 0xFFFFFF;
        }

        if (op.Cc == 0)
        {
            c.Gdtr = new DescriptorTableRegister(baseAddress, limit);
        }
        else
        {
            c.Idtr = new DescriptorTableRegister(baseAddress, limit);
        }

        return Exec.Next;
    }

    /// <summary>SGDT (op.Cc = 0) / SIDT (op.Cc = 1): stores the limit and the full 32-bit base; not privileged.</summary>
    public static int StoreTableRegister(Cpu c, ref MicroOp op)
    {
        var t = op.Cc == 0 ? c.Gdtr : c.Idtr;
        uint ea = Ea(c, ref op);
        if (!c.PrepareWrite(op.Seg, ea, 2, out _) || !c.PrepareWrite(op.Seg, Next(ref op, ea, 2), 4, out _))
        {
            return Exec.Fault;
        }

        return c.Write16(op.Seg, ea, t.Limit) && c.Write32(op.Seg, Next(ref op, ea, 2), t.Base) ? Exec.Next : Exec.Fault;
    }

    /// <summary>LLDT (op.Imm2 = 0) / LTR (op.Imm2 = 1): protected mode only, CPL 0.</summary>
    public static int LoadSystemSelector(Cpu c, ref MicroOp op)
    {
        if (!ProtectedOnly(c))
        {
            return Ud(c);
        }

        if (c.Cpl != 0)
        {
            return Gp0(c);
        }

        if (!ReadSelector(c, ref op, out ushort sel))
        {
            return Exec.Fault;
        }

        bool ok = op.Imm2 == 0 ? c.LoadLdtr(sel) : c.LoadTr(sel);
        return ok ? Exec.Next : Exec.Fault;
    }

    /// <summary>SLDT (op.Imm2 = 0) / STR (op.Imm2 = 1): protected mode only; r32 gets the zero-extended selector.</summary>
    public static int StoreSystemSelector(Cpu c, ref MicroOp op)
    {
        if (!ProtectedOnly(c))
        {
            return Ud(c);
        }

        ushort sel = op.Imm2 == 0 ? c.Ldtr.Selector : c.Tr.Selector;
        if (op.Cc == 0)
        {
            if (op.OpSize == 4)
            {
                c.RegDword(op.Dst) = sel;
            }
            else
            {
                c.RegWord(op.Dst) = sel;
            }

            return Exec.Next;
        }

        return c.Write16(op.Seg, Ea(c, ref op), sel) ? Exec.Next : Exec.Fault;
    }

    /// <summary>LAR (op.Imm2 = 0) / LSL (op.Imm2 = 1) r, r/m16: ZF = 1 and the destination written when the selector is valid and visible, else ZF = 0.</summary>
    public static int LoadAccessOrLimit(Cpu c, ref MicroOp op)
    {
        if (!ProtectedOnly(c))
        {
            return Ud(c);
        }

        if (!ReadSelector(c, ref op, out ushort sel))
        {
            return Exec.Fault;
        }

        uint value;
        bool valid;
        bool ok = op.Imm2 == 0 ? c.LoadAccessRights(sel, out value, out valid) : c.LoadSegmentLimit(sel, out value, out valid);
        if (!ok)
        {
            return Exec.Fault;
        }

        if (valid)
        {
            if (op.OpSize == 4)
            {
                c.RegDword(op.Dst) = value;
            }
            else
            {
                c.RegWord(op.Dst) = (ushort)value;
            }
        }

        SetZf(c, valid);
        return Exec.Next;
    }

    /// <summary>VERR (op.Imm2 = 0) / VERW (op.Imm2 = 1): ZF tells whether the segment is readable / writable at CPL.</summary>
    public static int Verify(Cpu c, ref MicroOp op)
    {
        if (!ProtectedOnly(c))
        {
            return Ud(c);
        }

        if (!ReadSelector(c, ref op, out ushort sel) || !c.VerifySegment(sel, op.Imm2 != 0, out bool ok))
        {
            return Exec.Fault;
        }

        SetZf(c, ok);
        return Exec.Next;
    }

    /// <summary>ARPL r/m16, r16: raises the destination's RPL to the source's (ZF = 1), else ZF = 0. #UD outside protected mode.</summary>
    public static int Arpl(Cpu c, ref MicroOp op)
    {
        if (!ProtectedOnly(c))
        {
            return Ud(c);
        }

        ushort src = c.RegWord(op.Src);
        if (op.Cc == 0)
        {
            ushort dst = c.RegWord(op.Dst);
            bool raise = (dst & 3) < (src & 3);
            if (raise)
            {
                c.RegWord(op.Dst) = (ushort)((dst & ~3) | (src & 3));
            }

            SetZf(c, raise);
            return Exec.Next;
        }

        if (!BeginRmw<W16>(c, op.Seg, Ea(c, ref op), out uint lin, out byte* host))
        {
            return Exec.Fault;
        }

        uint m = RmwRead<W16>(c, lin, host);
        bool up = (m & 3) < (uint)(src & 3);
        if (up)
        {
            RmwWrite<W16>(c, lin, host, (m & ~3u) | (uint)(src & 3));
        }

        SetZf(c, up);
        return Exec.Next;
    }

    // ---------------------------------------------------------------- control and debug registers

    /// <summary>MOV CRn, r32 (op.Dst = n, op.Src = register offset): CPL 0.</summary>
    public static int MovCrR(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0)
        {
            return Gp0(c);
        }

        uint v = c.RegDword(op.Src);
        switch (op.Dst)
        {
            case 0:
                if (!c.WriteCr0(v))
                {
                    return Exec.Fault;
                }

                break;
            case 2:
                c.Cr2 = v;
                break;
            case 3:
                c.WriteCr3(v);
                break;
            default:
                if (!c.WriteCr4(v))
                {
                    return Exec.Fault;
                }

                break;
        }

        c.Eip = op.NextEip;
        return Exec.Jump;
    }

    /// <summary>MOV r32, CRn: CPL 0.</summary>
    public static int MovRCr(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0)
        {
            return Gp0(c);
        }

        c.RegDword(op.Dst) = op.Src switch
        {
            0 => c.Cr0,
            2 => c.Cr2,
            3 => c.Cr3,
            _ => c.Cr4,
        };
        return Exec.Next;
    }

    /// <summary>MOV DRn, r32 (op.Dst = n): CPL 0; DR4/DR5 alias DR6/DR7 unless CR4.DE (#UD); DR7.GD makes it a #DB fault.</summary>
    public static int MovDrR(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0)
        {
            return Gp0(c);
        }

        int index = c.DebugRegisterIndex(op.Dst);
        if (index < 0 || !c.CheckGeneralDetect())
        {
            return Exec.Fault;
        }

        c.WriteDebugRegister(index, c.RegDword(op.Src));
        return Exec.Next;
    }

    public static int MovRDr(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0)
        {
            return Gp0(c);
        }

        int index = c.DebugRegisterIndex(op.Src);
        if (index < 0 || !c.CheckGeneralDetect())
        {
            return Exec.Fault;
        }

        c.RegDword(op.Dst) = c.Dr[index];
        return Exec.Next;
    }

    /// <summary>LMSW r/m16: CPL 0; loads PE, MP, EM, TS from the operand but cannot clear PE.</summary>
    public static int Lmsw(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0)
        {
            return Gp0(c);
        }

        if (!ReadSelector(c, ref op, out ushort msw))
        {
            return Exec.Fault;
        }

        uint cr0 = (c.Cr0 & ~0xEu) | (msw & 0xFu) | (c.Cr0 & Cr0Bits.PE);
        c.WriteCr0(cr0);
        c.Eip = op.NextEip;
        return Exec.Jump;
    }

    /// <summary>SMSW: the low word of CR0 (a 32-bit register gets all of CR0, as P6 processors do); not privileged.</summary>
    public static int Smsw(Cpu c, ref MicroOp op)
    {
        if (op.Cc == 0)
        {
            if (op.OpSize == 4)
            {
                c.RegDword(op.Dst) = c.Cr0;
            }
            else
            {
                c.RegWord(op.Dst) = (ushort)c.Cr0;
            }

            return Exec.Next;
        }

        return c.Write16(op.Seg, Ea(c, ref op), (ushort)c.Cr0) ? Exec.Next : Exec.Fault;
    }

    public static int Clts(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0)
        {
            return Gp0(c);
        }

        c.Cr0 &= ~Cr0Bits.TS;
        return Exec.Next;
    }

    /// <summary>INVLPG m: CPL 0; drops the TLB entries of the page holding segment base + EA (no segment checks, as on hardware).</summary>
    public static int Invlpg(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0)
        {
            return Gp0(c);
        }

        c.FlushTlbPage(c.Seg(op.Seg).Base + Ea(c, ref op));
        c.Eip = op.NextEip;
        return Exec.Jump;
    }

    /// <summary>INVD / WBINVD: CPL 0; no caches are modelled.</summary>
    public static int CacheControl(Cpu c, ref MicroOp op) => c.Cpl != 0 ? Gp0(c) : Exec.Next;

    // ---------------------------------------------------------------- translation

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        switch (ins.Mnemonic)
        {
            case Mnemonic.Mov:
                return TranslateMov(in ins, ref op, ref ends);
            case Mnemonic.Push:
            case Mnemonic.Pop:
                if (ins.OpCount != 1 || ins.Op0Kind != OpKind.Register || !ins.Op0Register.IsSegmentRegister())
                {
                    return false;
                }

                op.OpSize = (byte)Math.Abs(ins.StackPointerIncrement);
                if (ins.Mnemonic == Mnemonic.Push)
                {
                    op.Src = (byte)Translator.SegmentNumber(ins.Op0Register);
                    op.Fn = &PushSreg;
                    return true;
                }

                op.Dst = (byte)Translator.SegmentNumber(ins.Op0Register);
                if (op.Dst == SegReg.CS)
                {
                    op.Fn = &Handlers.Undefined;
                    ends = true;
                    return true;
                }

                op.Fn = &PopSreg;
                ends = op.Dst == SegReg.SS;
                return true;
            case Mnemonic.Lds:
            case Mnemonic.Les:
            case Mnemonic.Lfs:
            case Mnemonic.Lgs:
            case Mnemonic.Lss:
                if (ins.Op1Kind != OpKind.Memory)
                {
                    return false;
                }

                op.Dst = Translator.RegOffset(ins.Op0Register);
                op.OpSize = (byte)ins.Op0Register.GetSize();
                op.Cc = (byte)(ins.Mnemonic switch
                {
                    Mnemonic.Lds => SegReg.DS,
                    Mnemonic.Les => SegReg.ES,
                    Mnemonic.Lfs => SegReg.FS,
                    Mnemonic.Lgs => SegReg.GS,
                    _ => SegReg.SS,
                });
                op.Fn = &LoadFarPointer;
                return true;
            case Mnemonic.Jmp:
            case Mnemonic.Call:
                return TranslateFar(in ins, ref op, ref ends);
            case Mnemonic.Retf:
                op.OpSize = ins.Code is Code.Retfw or Code.Retfw_imm16 ? (byte)2 : (byte)4;
                op.Imm2 = ins.OpCount > 0 ? ins.Immediate16 : 0u;
                op.Fn = &RetFar;
                ends = true;
                return true;
            case Mnemonic.Iret:
            case Mnemonic.Iretd:
                op.OpSize = ins.Code == Code.Iretw ? (byte)2 : (byte)4;
                op.Fn = &Iret;
                ends = true;
                return true;
            case Mnemonic.Int:
                op.Imm = ins.Immediate8;
                op.Fn = &IntN;
                ends = true;
                return true;
            case Mnemonic.Int3:
                op.Fn = &Int3;
                ends = true;
                return true;
            case Mnemonic.Int1:
                op.Fn = &Int1;
                ends = true;
                return true;
            case Mnemonic.Into:
                op.Fn = &Into;
                ends = true;
                return true;
            case Mnemonic.Bound:
                if (ins.Op1Kind != OpKind.Memory)
                {
                    return false;
                }

                op.Src = Translator.RegOffset(ins.Op0Register);
                op.OpSize = (byte)ins.Op0Register.GetSize();
                op.Fn = &Bound;
                return true;
            case Mnemonic.Lgdt:
            case Mnemonic.Lidt:
            case Mnemonic.Sgdt:
            case Mnemonic.Sidt:
                if (ins.Op0Kind != OpKind.Memory)
                {
                    return false;
                }

                op.OpSize = ins.Code is Code.Lgdt_m1632_16 or Code.Lidt_m1632_16 or Code.Sgdt_m1632_16 or Code.Sidt_m1632_16 ? (byte)2 : (byte)4;
                op.Cc = ins.Mnemonic is Mnemonic.Lidt or Mnemonic.Sidt ? (byte)1 : (byte)0;
                op.Fn = ins.Mnemonic is Mnemonic.Lgdt or Mnemonic.Lidt ? &LoadTableRegister : &StoreTableRegister;
                return true;
            case Mnemonic.Lldt:
            case Mnemonic.Ltr:
                SelectorSource(in ins, ref op, 0);
                op.Imm2 = ins.Mnemonic == Mnemonic.Ltr ? 1u : 0u;
                op.Fn = &LoadSystemSelector;
                return true;
            case Mnemonic.Sldt:
            case Mnemonic.Str:
                SelectorDestination(in ins, ref op);
                op.Imm2 = ins.Mnemonic == Mnemonic.Str ? 1u : 0u;
                op.Fn = &StoreSystemSelector;
                return true;
            case Mnemonic.Lar:
            case Mnemonic.Lsl:
                op.Dst = Translator.RegOffset(ins.Op0Register);
                op.OpSize = (byte)ins.Op0Register.GetSize();
                SelectorSource(in ins, ref op, 1);
                op.Imm2 = ins.Mnemonic == Mnemonic.Lsl ? 1u : 0u;
                op.Fn = &LoadAccessOrLimit;
                return true;
            case Mnemonic.Verr:
            case Mnemonic.Verw:
                SelectorSource(in ins, ref op, 0);
                op.Imm2 = ins.Mnemonic == Mnemonic.Verw ? 1u : 0u;
                op.Fn = &Verify;
                return true;
            case Mnemonic.Arpl:
                op.Src = Translator.RegOffset(ins.Op1Register);
                if (ins.Op0Kind == OpKind.Register)
                {
                    op.Dst = Translator.RegOffset(ins.Op0Register);
                    op.Cc = 0;
                }
                else
                {
                    op.Cc = 1;
                }

                op.Fn = &Arpl;
                return true;
            case Mnemonic.Lmsw:
                SelectorSource(in ins, ref op, 0);
                op.Fn = &Lmsw;
                ends = true;
                return true;
            case Mnemonic.Smsw:
                SelectorDestination(in ins, ref op);
                op.Fn = &Smsw;
                return true;
            case Mnemonic.Clts:
                op.Fn = &Clts;
                return true;
            case Mnemonic.Invlpg:
                if (ins.Op0Kind != OpKind.Memory)
                {
                    return false;
                }

                op.Fn = &Invlpg;
                ends = true;
                return true;
            case Mnemonic.Invd:
            case Mnemonic.Wbinvd:
                op.Fn = &CacheControl;
                return true;
            case Mnemonic.Sysenter:
                op.Fn = &SysEnter;
                ends = true;
                return true;
            case Mnemonic.Sysexit:
                if (ins.Code != Code.Sysexitd)
                {
                    return false;
                }

                op.Fn = &SysExit;
                ends = true;
                return true;
            default:
                return false;
        }
    }

    /// <summary>A 16-bit selector operand at position <paramref name="i"/>: register (op.Src, op.Cc = 0) or memory (op.Cc = 1).</summary>
    private static void SelectorSource(in Instruction ins, ref MicroOp op, int i)
    {
        if (ins.GetOpKind(i) == OpKind.Register)
        {
            op.Src = Translator.RegOffset(ins.GetOpRegister(i));
            op.Cc = 0;
        }
        else
        {
            op.Cc = 1;
        }
    }

    /// <summary>A 16-bit store destination (SLDT, STR, SMSW): register with its size (op.Dst, op.OpSize) or memory (op.Cc = 1).</summary>
    private static void SelectorDestination(in Instruction ins, ref MicroOp op)
    {
        if (ins.Op0Kind == OpKind.Register)
        {
            op.Dst = Translator.RegOffset(ins.Op0Register);
            op.OpSize = (byte)ins.Op0Register.GetSize();
            op.Cc = 0;
        }
        else
        {
            op.OpSize = 2;
            op.Cc = 1;
        }
    }

    private static bool TranslateMov(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        var k0 = ins.Op0Kind;
        var k1 = ins.Op1Kind;
        IcedRegister r0 = k0 == OpKind.Register ? ins.Op0Register : IcedRegister.None;
        IcedRegister r1 = k1 == OpKind.Register ? ins.Op1Register : IcedRegister.None;

        if (r0.IsSegmentRegister())
        {
            op.Dst = (byte)Translator.SegmentNumber(r0);
            if (op.Dst == SegReg.CS)
            {
                op.Fn = &Handlers.Undefined;
                ends = true;
                return true;
            }

            if (k1 == OpKind.Register)
            {
                op.Src = Translator.RegOffset(r1);
                op.Fn = &MovSregR;
            }
            else
            {
                op.Fn = &MovSregM;
            }

            ends = op.Dst == SegReg.SS;
            return true;
        }

        if (r1.IsSegmentRegister())
        {
            op.Src = (byte)Translator.SegmentNumber(r1);
            if (k0 == OpKind.Register)
            {
                op.Dst = Translator.RegOffset(r0);
                op.OpSize = (byte)r0.GetSize();
                op.Fn = &MovRSreg;
            }
            else
            {
                op.Fn = &MovMSreg;
            }

            return true;
        }

        if (r0.IsCR() || r1.IsCR())
        {
            int n = r0.IsCR() ? r0 - IcedRegister.CR0 : r1 - IcedRegister.CR0;
            if (n is not (0 or 2 or 3 or 4))
            {
                op.Fn = &Handlers.Undefined;
                ends = true;
                return true;
            }

            if (r0.IsCR())
            {
                op.Dst = (byte)n;
                op.Src = Translator.RegOffset(r1);
                op.Fn = &MovCrR;
                ends = true;
            }
            else
            {
                op.Src = (byte)n;
                op.Dst = Translator.RegOffset(r0);
                op.Fn = &MovRCr;
            }

            return true;
        }

        if (r0.IsDR() || r1.IsDR())
        {
            int n = r0.IsDR() ? r0 - IcedRegister.DR0 : r1 - IcedRegister.DR0;
            if (n > 7)
            {
                op.Fn = &Handlers.Undefined;
                ends = true;
                return true;
            }

            if (r0.IsDR())
            {
                op.Dst = (byte)n;
                op.Src = Translator.RegOffset(r1);
                op.Fn = &MovDrR;
            }
            else
            {
                op.Src = (byte)n;
                op.Dst = Translator.RegOffset(r0);
                op.Fn = &MovRDr;
            }

            return true;
        }

        // MOV to/from the 386/486 test registers: #UD on P6.
        if (r0.IsTR() || r1.IsTR())
        {
            op.Fn = &Handlers.Undefined;
            ends = true;
            return true;
        }

        return false;
    }

    private static bool TranslateFar(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        bool call = ins.Mnemonic == Mnemonic.Call;
        ends = true;
        if (ins.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32)
        {
            op.OpSize = ins.Op0Kind == OpKind.FarBranch32 ? (byte)4 : (byte)2;
            op.Imm = ins.Op0Kind == OpKind.FarBranch32 ? ins.FarBranch32 : ins.FarBranch16;
            op.Imm2 = ins.FarBranchSelector;
            op.Fn = call ? &CallFarPtr : &JmpFarPtr;
            return true;
        }

        if (ins.Op0Kind == OpKind.Memory && ins.Code is Code.Jmp_m1616 or Code.Jmp_m1632 or Code.Call_m1616 or Code.Call_m1632)
        {
            op.OpSize = ins.Code is Code.Jmp_m1632 or Code.Call_m1632 ? (byte)4 : (byte)2;
            op.Fn = call ? &CallFarM : &JmpFarM;
            return true;
        }

        return false;
    }
}
