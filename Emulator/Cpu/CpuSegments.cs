using Emulator.Cpu.Segmentation;

using Emulator.Timing;

namespace Emulator.Cpu;

/// <summary>
/// Segment register loads and far control transfers (SDM Vol. 3 ch. 5 and the MOV, POP, LDS,
/// JMP, CALL, RET and IRET pages of Vol. 2), checked in the order Bochs checks them. Every
/// method either completes, or returns false with the exception recorded and nothing
/// architectural changed (the accessed bit of a descriptor aside, which the hardware may also
/// set before a later check fails). The one exception is a task switch that fails after its
/// commit point: see <see cref="FaultAfterCommit"/>.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>
    /// Set when an instruction or event faulted after it committed to a task switch: EIP (and all
    /// other state) already belong to the new task, and the pending exception is delivered in its
    /// context rather than restarting the instruction.
    /// </summary>
    public bool FaultAfterCommit;

    /// <summary>EFLAGS.VM: virtual-8086 mode (entered only through a task switch or IRET; see the docs for what is supported).</summary>
    public bool V86Mode => (FlagsBase & EFlags.VM) != 0;

    /// <summary>The IOPL field of EFLAGS.</summary>
    public int Iopl => (int)(FlagsBase >> 12) & 3;

    private static uint SelectorError(ushort selector) => (uint)(selector & 0xFFFC);

    // ---------------------------------------------------------------- data and stack segment loads

    /// <summary>
    /// MOV Sreg / POP Sreg / LDS-family load of ES, SS, DS, FS or GS. Real mode: base = selector
    /// * 16, limit and attributes kept (so "unreal" limits survive). Protected mode: the full
    /// SDM checks, the accessed bit written back, and a null selector making DS/ES/FS/GS unusable.
    /// </summary>
    public bool LoadSegmentRegister(int seg, ushort selector)
    {
        if (!ProtectedMode)
        {
            Seg(seg).LoadRealMode(selector);
            return true;
        }

        if (V86Mode)
        {
            LoadV86Segment(seg, selector);
            return true;
        }

        ulong desc;
        if (seg == SegReg.SS)
        {
            if (!CheckStackSegment(selector, Cpl, Vectors.GP, 0, out desc))
            {
                return false;
            }
        }
        else
        {
            if ((selector & 0xFFFC) == 0)
            {
                Seg(seg).LoadNull(selector);
                return true;
            }

            if (!CheckDataSegment(selector, Cpl, Vectors.GP, 0, out desc))
            {
                return false;
            }
        }

        return CommitSegment(seg, selector, desc);
    }

    private bool CommitSegment(int seg, ushort selector, ulong desc)
    {
        if (!MarkAccessed(selector, desc))
        {
            return false;
        }

        Seg(seg).LoadDescriptor(selector, desc | Descriptor.AccessedBit);
        return true;
    }

    /// <summary>
    /// The checks for loading DS/ES/FS/GS with a non-null selector: within the table, data or
    /// readable code, for data and non-conforming code max(<paramref name="cpl"/>, RPL) &lt;= DPL,
    /// present (#NP). <paramref name="vector"/> is #GP for instructions, #TS for task switches.
    /// </summary>
    private bool CheckDataSegment(ushort selector, int cpl, int vector, uint ext, out ulong desc)
    {
        uint err = SelectorError(selector) | ext;
        if (!ReadDescriptor(selector, out desc, vector, ext))
        {
            return false;
        }

        if (!Descriptor.IsData(desc) && !Descriptor.IsReadableCode(desc))
        {
            return FaultWithCode(vector, err);
        }

        if (!Descriptor.IsConformingCode(desc))
        {
            int dpl = Descriptor.Dpl(desc);
            if ((selector & 3) > dpl || cpl > dpl)
            {
                return FaultWithCode(vector, err);
            }
        }

        if (!Descriptor.Present(desc))
        {
            return FaultWithCode(Vectors.NP, err);
        }

        return true;
    }

    /// <summary>
    /// The checks for loading SS for privilege level <paramref name="cpl"/>: not null (error code
    /// 0), within the table, RPL = CPL, a writable data segment with DPL = CPL, present (#SS).
    /// </summary>
    private bool CheckStackSegment(ushort selector, int cpl, int vector, uint ext, out ulong desc)
    {
        desc = 0;
        uint err = SelectorError(selector) | ext;
        if ((selector & 0xFFFC) == 0)
        {
            return FaultWithCode(vector, ext);
        }

        if (!ReadDescriptor(selector, out desc, vector, ext))
        {
            return false;
        }

        if ((selector & 3) != cpl)
        {
            return FaultWithCode(vector, err);
        }

        if (!Descriptor.IsWritableData(desc) || Descriptor.Dpl(desc) != cpl)
        {
            return FaultWithCode(vector, err);
        }

        if (!Descriptor.Present(desc))
        {
            return FaultWithCode(Vectors.SS, err);
        }

        return true;
    }

    /// <summary>A virtual-8086 segment load: base = selector * 16, 64 KiB, DPL 3, read/write.</summary>
    private void LoadV86Segment(int seg, ushort selector)
    {
        ref SegmentCache s = ref Seg(seg);
        s.Selector = selector;
        s.Base = (uint)selector << 4;
        s.Limit = 0xFFFF;
        s.AccessRights = 0xF3;
        s.Flags = 0;
        s.Valid = true;
        s.UpdateAccessBounds();
    }

    /// <summary>
    /// After a return to an outer privilege level: DS, ES, FS and GS holding data or
    /// non-conforming code with DPL &lt; the new CPL are nulled, so the outer level cannot keep
    /// access to inner segments (SDM RET, IRET).
    /// </summary>
    private void ValidateDataSegments()
    {
        ValidateDataSegment(SegReg.ES);
        ValidateDataSegment(SegReg.DS);
        ValidateDataSegment(SegReg.FS);
        ValidateDataSegment(SegReg.GS);
    }

    private void ValidateDataSegment(int seg)
    {
        ref SegmentCache s = ref Seg(seg);
        if (s.Dpl < Cpl && (!s.Valid || !s.IsCode || (s.Type & 0x4) == 0))
        {
            s.LoadNull(0);
        }
    }

    // ---------------------------------------------------------------- code segment loads

    /// <summary>
    /// The code-segment checks of a far JMP/CALL target or a RET/IRET return (Bochs's check_cs):
    /// a code segment; non-conforming: DPL = <paramref name="cpl"/> and <paramref name="rpl"/> &lt;=
    /// <paramref name="cpl"/>; conforming: DPL &lt;= <paramref name="cpl"/>; present (#NP).
    /// </summary>
    private bool CheckCodeSegment(ushort selector, ulong desc, int rpl, int cpl)
    {
        uint err = SelectorError(selector);
        if (!Descriptor.IsCode(desc))
        {
            return FaultWithCode(Vectors.GP, err);
        }

        int dpl = Descriptor.Dpl(desc);
        if (Descriptor.IsConformingCode(desc))
        {
            if (dpl > cpl)
            {
                return FaultWithCode(Vectors.GP, err);
            }
        }
        else if (dpl != cpl || rpl > cpl)
        {
            return FaultWithCode(Vectors.GP, err);
        }

        if (!Descriptor.Present(desc))
        {
            return FaultWithCode(Vectors.NP, err);
        }

        return true;
    }

    /// <summary>Loads CS from a checked descriptor with RPL = <paramref name="cpl"/> and makes that the CPL; EIP must be within the limit (#GP(0)).</summary>
    private bool BranchFar(ushort selector, ulong desc, uint eip, int cpl)
    {
        if (eip > Descriptor.Limit(desc))
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!MarkAccessed(selector, desc))
        {
            return false;
        }

        LoadCodeSegmentCache(selector, desc, cpl);
        Eip = eip;
        return true;
    }

    private void LoadCodeSegmentCache(ushort selector, ulong desc, int cpl)
    {
        Seg(SegReg.CS).LoadDescriptor((ushort)((selector & 0xFFFC) | cpl), desc | Descriptor.AccessedBit);
        SetCpl(cpl);
    }

    /// <summary>A real-mode or virtual-8086 CS load (far JMP/CALL/RET, IRET).</summary>
    private void LoadCsNonProtected(ushort selector)
    {
        if (V86Mode)
        {
            LoadV86Segment(SegReg.CS, selector);
        }
        else
        {
            Seg(SegReg.CS).LoadRealMode(selector);
        }
    }

    // ---------------------------------------------------------------- stack helpers

    private uint StackOffset(uint displacement) => Stack32 ? Esp + displacement : (ushort)(Esp + displacement);

    private void AdjustEsp(uint bytes)
    {
        if (Stack32)
        {
            Esp += bytes;
        }
        else
        {
            Esp = (Esp & 0xFFFF0000) | (ushort)(Esp + bytes);
        }
    }

    /// <summary>
    /// Writes to a stack that is not yet SS (the inner stack of a call gate or interrupt): the
    /// offset is checked against <paramref name="ss"/>'s cache, raising #SS(selector) when it does not fit.
    /// </summary>
    private bool WriteNewStack(ref SegmentCache ss, ref uint esp, int size, uint value)
    {
        uint off = ss.DefaultBig ? esp - (uint)size : (ushort)(esp - (uint)size);
        if ((long)(uint)(off - ss.WriteLo) + (size - 1) > ss.WriteSpan)
        {
            return FaultWithCode(Vectors.SS, SelectorError(ss.Selector));
        }

        if (!WriteLinear(ss.Base + off, size, value))
        {
            return false;
        }

        esp = ss.DefaultBig ? off : (esp & 0xFFFF0000) | off;
        return true;
    }

    // ---------------------------------------------------------------- far JMP

    /// <summary>JMP ptr16:16/32 or m16:16/32. <paramref name="nextEip"/> is saved in the old TSS when the jump switches tasks.</summary>
    public bool FarJump(ushort selector, uint offset, uint nextEip)
    {
        if (!ProtectedMode || V86Mode)
        {
            if (offset > Seg(SegReg.CS).Limit)
            {
                return FaultWithCode(Vectors.GP, 0);
            }

            LoadCsNonProtected(selector);
            Eip = offset;
            return true;
        }

        if ((selector & 0xFFFC) == 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!ReadDescriptor(selector, out ulong desc))
        {
            return false;
        }

        if (Descriptor.IsCodeOrData(desc))
        {
            return CheckCodeSegment(selector, desc, selector & 3, Cpl) && BranchFar(selector, desc, offset, Cpl);
        }

        int type = Descriptor.Type(desc);
        if (!CheckFarSystemTarget(selector, desc, type))
        {
            return false;
        }

        switch (type)
        {
            case Descriptor.CallGate16:
            case Descriptor.CallGate32:
                return JumpThroughCallGate(desc, type);
            case Descriptor.TaskGate:
                return TaskGateTransfer(desc, TaskSource.Jump, nextEip);
            default:
                return TaskSwitch(selector, desc, TaskSource.Jump, nextEip, false, 0, 0);
        }
    }

    /// <summary>
    /// A far JMP/CALL to a system descriptor: only call gates, task gates and available TSSs (in
    /// the GDT) qualify; DPL &gt;= CPL and &gt;= RPL, else #GP(selector); present, else #NP(selector).
    /// </summary>
    private bool CheckFarSystemTarget(ushort selector, ulong desc, int type)
    {
        uint err = SelectorError(selector);
        bool ok = type is Descriptor.CallGate16 or Descriptor.CallGate32 or Descriptor.TaskGate ||
            (Descriptor.IsAvailableTss(type) && (selector & 4) == 0);
        if (!ok)
        {
            return FaultWithCode(Vectors.GP, err);
        }

        int dpl = Descriptor.Dpl(desc);
        if (dpl < Cpl || dpl < (selector & 3))
        {
            return FaultWithCode(Vectors.GP, err);
        }

        if (!Descriptor.Present(desc))
        {
            return FaultWithCode(Vectors.NP, err);
        }

        return true;
    }

    /// <summary>Reads and checks a call gate's target code segment (null #GP(0); code with DPL &lt;= CPL, else #GP(sel); present, else #NP(sel)).</summary>
    private bool ReadCallGateTarget(ulong gate, out ushort target, out ulong cs)
    {
        cs = 0;
        target = Descriptor.GateSelector(gate);
        if ((target & 0xFFFC) == 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!ReadDescriptor(target, out cs))
        {
            return false;
        }

        if (!Descriptor.IsCode(cs) || Descriptor.Dpl(cs) > Cpl)
        {
            return FaultWithCode(Vectors.GP, SelectorError(target));
        }

        if (!Descriptor.Present(cs))
        {
            return FaultWithCode(Vectors.NP, SelectorError(target));
        }

        return true;
    }

    /// <summary>JMP through a call gate: never changes privilege (non-conforming targets need DPL = CPL).</summary>
    private bool JumpThroughCallGate(ulong gate, int type)
    {
        ushort target = Descriptor.GateSelector(gate);
        uint eip = Descriptor.GateOffset(gate);
        if (type == Descriptor.CallGate16)
        {
            eip &= 0xFFFF;
        }

        if ((target & 0xFFFC) == 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!ReadDescriptor(target, out ulong cs))
        {
            return false;
        }

        return CheckCodeSegment(target, cs, 0, Cpl) && BranchFar(target, cs, eip, Cpl);
    }

    // ---------------------------------------------------------------- far CALL

    /// <summary>CALL ptr16:16/32 or m16:16/32 with operand size <paramref name="opSize"/> (2 or 4).</summary>
    public bool FarCall(ushort selector, uint offset, int opSize, uint returnEip)
    {
        uint oldEsp = Esp;
        if (!ProtectedMode || V86Mode)
        {
            if (!Push(Seg(SegReg.CS).Selector, opSize) || !Push(returnEip, opSize))
            {
                Esp = oldEsp;
                return false;
            }

            if (offset > Seg(SegReg.CS).Limit)
            {
                Esp = oldEsp;
                return FaultWithCode(Vectors.GP, 0);
            }

            LoadCsNonProtected(selector);
            Eip = offset;
            return true;
        }

        if ((selector & 0xFFFC) == 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!ReadDescriptor(selector, out ulong desc))
        {
            return false;
        }

        if (Descriptor.IsCodeOrData(desc))
        {
            if (!CheckCodeSegment(selector, desc, selector & 3, Cpl))
            {
                return false;
            }

            if (!Push(Seg(SegReg.CS).Selector, opSize) || !Push(returnEip, opSize) ||
                !BranchFar(selector, desc, offset, Cpl))
            {
                Esp = oldEsp;
                return false;
            }

            return true;
        }

        int type = Descriptor.Type(desc);
        if (!CheckFarSystemTarget(selector, desc, type))
        {
            return false;
        }

        switch (type)
        {
            case Descriptor.CallGate16:
            case Descriptor.CallGate32:
                return CallThroughGate(desc, type, returnEip);
            case Descriptor.TaskGate:
                return TaskGateTransfer(desc, TaskSource.Call, returnEip);
            default:
                return TaskSwitch(selector, desc, TaskSource.Call, returnEip, false, 0, 0);
        }
    }

    /// <summary>
    /// CALL through a call gate (SDM 5.8.5): to a non-conforming segment of higher privilege it
    /// switches to the inner stack from the TSS, copies the gate's parameter count of words or
    /// dwords from the caller's stack, and pushes the caller's SS:ESP and CS:EIP; otherwise it
    /// pushes CS:EIP on the current stack. The push size is the gate's, not the operand size.
    /// </summary>
    private bool CallThroughGate(ulong gate, int type, uint returnEip)
    {
        bool gate32 = type == Descriptor.CallGate32;
        int size = gate32 ? 4 : 2;
        uint newEip = Descriptor.GateOffset(gate);
        if (!gate32)
        {
            newEip &= 0xFFFF;
        }

        if (!ReadCallGateTarget(gate, out ushort target, out ulong cs))
        {
            return false;
        }

        int dpl = Descriptor.Dpl(cs);
        uint oldEsp = Esp;
        if (Descriptor.IsConformingCode(cs) || dpl == Cpl)
        {
            if (!Push(Seg(SegReg.CS).Selector, size) || !Push(returnEip, size) ||
                !BranchFar(target, cs, newEip, Cpl))
            {
                Esp = oldEsp;
                return false;
            }

            return true;
        }

        // More privilege: the stack for ring dpl comes from the TSS.
        if (!ReadTssStack(dpl, out ushort ssSel, out uint innerEsp, 0))
        {
            return false;
        }

        if (!CheckInnerStack(ssSel, dpl, 0, out ulong ssDesc))
        {
            return false;
        }

        var newSs = default(SegmentCache);
        newSs.LoadDescriptor((ushort)((ssSel & 0xFFFC) | dpl), ssDesc | Descriptor.AccessedBit);

        // Parameters are read from the caller's stack at the caller's privilege.
        int count = Descriptor.GateParamCount(gate);
        Span<uint> parameters = stackalloc uint[32];
        for (int i = 0; i < count; i++)
        {
            if (!Read(SegReg.SS, StackOffset((uint)(i * size)), size, out parameters[i]))
            {
                return false;
            }
        }

        uint returnEsp = Stack32 ? Esp : Esp & 0xFFFF;
        ushort returnSs = Seg(SegReg.SS).Selector;
        ushort returnCs = Seg(SegReg.CS).Selector;
        int oldCpl = Cpl;
        SetCpl(dpl);
        uint esp = innerEsp;
        bool ok = WriteNewStack(ref newSs, ref esp, size, returnSs) && WriteNewStack(ref newSs, ref esp, size, returnEsp);
        for (int i = count - 1; ok && i >= 0; i--)
        {
            ok = WriteNewStack(ref newSs, ref esp, size, parameters[i]);
        }

        ok = ok && WriteNewStack(ref newSs, ref esp, size, returnCs) && WriteNewStack(ref newSs, ref esp, size, returnEip);
        SetCpl(oldCpl);
        if (!ok)
        {
            return false;
        }

        if (newEip > Descriptor.Limit(cs))
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!MarkAccessed(ssSel, ssDesc) || !MarkAccessed(target, cs))
        {
            return false;
        }

        Seg(SegReg.SS) = newSs;
        Esp = esp;
        LoadCodeSegmentCache(target, cs, dpl);
        Eip = newEip;
        return true;
    }

    /// <summary>
    /// Checks the inner stack named by the TSS for ring <paramref name="cpl"/> (call gates and
    /// interrupts): null #TS(EXT); in the table, RPL = DPL = <paramref name="cpl"/> and writable
    /// data, else #TS(selector); present, else #SS(selector).
    /// </summary>
    private bool CheckInnerStack(ushort selector, int cpl, uint ext, out ulong desc) =>
        CheckStackSegment(selector, cpl, Vectors.TS, ext, out desc);

    // ---------------------------------------------------------------- far RET

    /// <summary>RETF [imm16] with operand size <paramref name="opSize"/>: same level, or outward with SS:ESP popped.</summary>
    public bool FarReturn(int opSize, uint release)
    {
        uint size = (uint)opSize;
        if (!Read(SegReg.SS, StackOffset(0), opSize, out uint eip) ||
            !Read(SegReg.SS, StackOffset(size), opSize, out uint csRaw))
        {
            return false;
        }

        ushort csSel = (ushort)csRaw;
        if (!ProtectedMode || V86Mode)
        {
            if (eip > Seg(SegReg.CS).Limit)
            {
                return FaultWithCode(Vectors.GP, 0);
            }

            LoadCsNonProtected(csSel);
            Eip = eip;
            AdjustEsp((2 * size) + release);
            return true;
        }

        if (!CheckReturnCs(csSel, out ulong cs))
        {
            return false;
        }

        int rpl = csSel & 3;
        if (rpl == Cpl)
        {
            if (!BranchFar(csSel, cs, eip, Cpl))
            {
                return false;
            }

            AdjustEsp((2 * size) + release);
            return true;
        }

        // Outward: the caller's ESP and SS sit above the released parameters.
        uint above = (2 * size) + release;
        if (!Read(SegReg.SS, StackOffset(above), opSize, out uint newEsp) ||
            !Read(SegReg.SS, StackOffset(above + size), 2, out uint ssRaw))
        {
            return false;
        }

        return ReturnOutward(csSel, cs, eip, (ushort)ssRaw, newEsp + release, 0, 0, opSize);
    }

    /// <summary>The return CS of RETF/IRET: not null (#GP(0)), in the table, RPL &gt;= CPL, and Bochs's check_cs against RPL.</summary>
    private bool CheckReturnCs(ushort csSel, out ulong cs)
    {
        cs = 0;
        if ((csSel & 0xFFFC) == 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!ReadDescriptor(csSel, out cs))
        {
            return false;
        }

        int rpl = csSel & 3;
        if (rpl < Cpl)
        {
            return FaultWithCode(Vectors.GP, SelectorError(csSel));
        }

        return CheckCodeSegment(csSel, cs, 0, rpl);
    }

    /// <summary>
    /// Completes a RETF/IRET to an outer level: checks the return SS against the return CS's RPL,
    /// then loads CS, (for IRET) EFLAGS under <paramref name="flagsMask"/>, SS and ESP, and nulls
    /// data segment registers the outer level may not use.
    /// </summary>
    private bool ReturnOutward(ushort csSel, ulong cs, uint eip, ushort ssSel, uint newEsp, uint flags, uint flagsMask, int opSize)
    {
        _ = opSize;
        int rpl = csSel & 3;
        if (!CheckStackSegment(ssSel, rpl, Vectors.GP, 0, out ulong ss))
        {
            return false;
        }

        if (eip > Descriptor.Limit(cs))
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!MarkAccessed(csSel, cs) || !MarkAccessed(ssSel, ss))
        {
            return false;
        }

        LoadCodeSegmentCache(csSel, cs, rpl);
        Eip = eip;
        if (flagsMask != 0)
        {
            WriteEflagsMasked(flags, flagsMask);
        }

        Seg(SegReg.SS).LoadDescriptor(ssSel, ss | Descriptor.AccessedBit);
        if (Seg(SegReg.SS).DefaultBig)
        {
            Esp = newEsp;
        }
        else
        {
            Esp = (Esp & 0xFFFF0000) | (ushort)newEsp;
        }

        ValidateDataSegments();
        return true;
    }

    /// <summary>Replaces the EFLAGS bits in <paramref name="mask"/> (reserved bits keep their fixed values).</summary>
    public void WriteEflagsMasked(uint value, uint mask)
    {
        uint current = GetEflags();
        SetEflags((current & ~mask) | (value & mask));
    }

    // ---------------------------------------------------------------- IRET

    /// <summary>
    /// IRET/IRETD (<paramref name="opSize"/> 2 or 4). Real mode: pops IP, CS, FLAGS. Protected
    /// mode: with NT set, a return to the task in the TSS back link; otherwise a same-level or
    /// outward return with the EFLAGS privilege rules (IOPL only at CPL 0, IF only when CPL &lt;= IOPL).
    /// </summary>
    public bool InterruptReturn(int opSize, uint nextEip)
    {
        uint size = (uint)opSize;
        if (!ProtectedMode)
        {
            return RealModeIret(opSize);
        }

        if (V86Mode)
        {
            // Virtual-8086 mode is not modelled beyond task-switch loads: IRET there is #GP(0),
            // which is what IOPL < 3 gives on hardware.
            return FaultWithCode(Vectors.GP, 0);
        }

        if ((FlagsBase & EFlags.NT) != 0)
        {
            return NestedTaskReturn(nextEip);
        }

        if (!Read(SegReg.SS, StackOffset(0), opSize, out uint eip) ||
            !Read(SegReg.SS, StackOffset(size), opSize, out uint csRaw) ||
            !Read(SegReg.SS, StackOffset(2 * size), opSize, out uint flags))
        {
            return false;
        }

        if (opSize == 4 && (flags & EFlags.VM) != 0 && Cpl == 0)
        {
            // A return to virtual-8086 mode: not supported (documented).
            return FaultWithCode(Vectors.GP, 0);
        }

        ushort csSel = (ushort)csRaw;
        if (!CheckReturnCs(csSel, out ulong cs))
        {
            return false;
        }

        uint mask = EFlags.Arith | EFlags.TF | EFlags.DF | EFlags.NT | EFlags.RF | EFlags.AC | EFlags.ID;
        if (Cpl <= Iopl)
        {
            mask |= EFlags.IF;
        }

        if (Cpl == 0)
        {
            mask |= EFlags.VIP | EFlags.VIF | EFlags.IOPL;
        }

        if (opSize == 2)
        {
            mask &= 0xFFFF;
        }

        int rpl = csSel & 3;
        if (rpl == Cpl)
        {
            if (!BranchFar(csSel, cs, eip, Cpl))
            {
                return false;
            }

            WriteEflagsMasked(flags, mask);
            AdjustEsp(3 * size);
            return true;
        }

        if (!Read(SegReg.SS, StackOffset(3 * size), opSize, out uint newEsp) ||
            !Read(SegReg.SS, StackOffset(4 * size), 2, out uint ssRaw))
        {
            return false;
        }

        return ReturnOutward(csSel, cs, eip, (ushort)ssRaw, newEsp, flags, mask, opSize);
    }

    private bool RealModeIret(int opSize)
    {
        uint size = (uint)opSize;
        if (!Read(SegReg.SS, StackOffset(0), opSize, out uint eip) ||
            !Read(SegReg.SS, StackOffset(size), opSize, out uint cs) ||
            !Read(SegReg.SS, StackOffset(2 * size), opSize, out uint flags))
        {
            return false;
        }

        if (eip > Seg(SegReg.CS).Limit)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        Seg(SegReg.CS).LoadRealMode((ushort)cs);
        Eip = eip;
        AdjustEsp(3 * size);

        // Real mode: every FLAGS bit may change; IRETD keeps VM, VIF and VIP.
        WriteEflagsMasked(flags, opSize == 2 ? 0xFFFFu : 0x257FD5u);
        return true;
    }

    /// <summary>IRET with NT = 1: switch (without nesting) to the busy task named by the current TSS's back link.</summary>
    private bool NestedTaskReturn(uint nextEip)
    {
        if (!ReadSystemLinear16(Tr.Base, out ushort link))
        {
            return false;
        }

        if ((link & 4) != 0)
        {
            return FaultWithCode(Vectors.TS, SelectorError(link));
        }

        if (!ReadDescriptor(link, out ulong desc, Vectors.TS))
        {
            return false;
        }

        if (Descriptor.IsCodeOrData(desc) || !Descriptor.IsBusyTss(Descriptor.Type(desc)))
        {
            return FaultWithCode(Vectors.TS, SelectorError(link));
        }

        if (!Descriptor.Present(desc))
        {
            return FaultWithCode(Vectors.NP, SelectorError(link));
        }

        return TaskSwitch(link, desc, TaskSource.Iret, nextEip, false, 0, 0);
    }

    /// <summary>JMP/CALL through a task gate: the TSS must be in the GDT (#GP), an available TSS (#GP) and present (#NP).</summary>
    private bool TaskGateTransfer(ulong gate, TaskSource source, uint nextEip)
    {
        ushort tss = Descriptor.GateSelector(gate);
        if ((tss & 4) != 0)
        {
            return FaultWithCode(Vectors.GP, SelectorError(tss));
        }

        if (!ReadDescriptor(tss, out ulong desc))
        {
            return false;
        }

        if (Descriptor.IsCodeOrData(desc) || !Descriptor.IsAvailableTss(Descriptor.Type(desc)))
        {
            return FaultWithCode(Vectors.GP, SelectorError(tss));
        }

        if (!Descriptor.Present(desc))
        {
            return FaultWithCode(Vectors.NP, SelectorError(tss));
        }

        return TaskSwitch(tss, desc, source, nextEip, false, 0, 0);
    }

    // ---------------------------------------------------------------- system-space accesses

    public bool ReadSystemLinear16(uint linear, out ushort value)
    {
        value = 0;
        for (int i = 0; i < 2; i++)
        {
            if (!Translate(linear + (uint)i, AccessKind.Read, user: false, fill: false, out uint phys))
            {
                return false;
            }

            value |= (ushort)(Bus.Read(Id, phys, 1) << (8 * i));
            ChargePhysical(phys, 1, CacheAccessKind.Read);
        }

        return true;
    }

    public bool ReadSystemLinear32(uint linear, out uint value)
    {
        value = 0;
        if (!ReadSystemLinear64(linear, out ulong v, 4))
        {
            return false;
        }

        value = (uint)v;
        return true;
    }

    public bool WriteSystemLinear(uint linear, int size, uint value)
    {
        for (int i = 0; i < size; i++)
        {
            if (!WriteSystemLinear8(linear + (uint)i, (byte)(value >> (8 * i))))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Checks (without writing) that a supervisor write of <paramref name="length"/> bytes would not page-fault.</summary>
    public bool ProbeSystemWrite(uint linear, uint length)
    {
        uint last = linear + length - 1;
        for (uint page = linear & ~0xFFFu; ; page += 0x1000)
        {
            uint at = page < linear ? linear : page;
            if (!Translate(at, AccessKind.Write, user: false, fill: false, out _))
            {
                return false;
            }

            if (page == (last & ~0xFFFu))
            {
                return true;
            }
        }
    }
}
