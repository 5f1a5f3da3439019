using Emulator.Cpu.Segmentation;

namespace Emulator.Cpu;

/// <summary>What started a hardware task switch: it decides the busy bits, NT and the back link (SDM Vol. 3, table 7-2).</summary>
public enum TaskSource : byte
{
    Jump,
    Call,
    Iret,

    /// <summary>An interrupt or exception through a task gate in the IDT (nests like CALL).</summary>
    Interrupt,
}

/// <summary>
/// Hardware task switching (SDM Vol. 3, 7.3), following Bochs's task_switch step by step.
///
/// Everything that can fault before the commit point (the limits, the new TSS image, write
/// probes of the old TSS and the new back link) is done first, so a fault there leaves the old
/// task untouched. After the commit point, the new task's LDTR and segment registers are loaded
/// with their checks; a failure there raises the exception in the new task's context
/// (<see cref="FaultAfterCommit"/>).
/// </summary>
public sealed partial class Cpu
{
    /// <summary>Task switches performed (statistics).</summary>
    public long TaskSwitches;

    /// <summary>
    /// Switches to the task whose TSS descriptor is <paramref name="desc"/> (selector
    /// <paramref name="selector"/>, already checked by the caller for type, privilege and
    /// presence). <paramref name="eipToSave"/> goes in the old TSS; <paramref name="pushError"/>
    /// pushes <paramref name="errorCode"/> on the new task's stack (exceptions through task gates).
    /// </summary>
    internal bool TaskSwitch(ushort selector, ulong desc, TaskSource source, uint eipToSave, bool pushError, uint errorCode, uint ext)
    {
        int newType = Descriptor.Type(desc);
        bool new32 = newType >= 8;
        uint newBase = Descriptor.Base(desc);
        if (Descriptor.Limit(desc) < (new32 ? 0x67u : 0x2Bu))
        {
            return FaultWithCode(Vectors.TS, SelectorError(selector) | ext);
        }

        bool old32 = (Tr.Type & 0x8) != 0;
        uint oldBase = Tr.Base;
        if (Tr.Limit < (old32 ? 0x5Fu : 0x29u))
        {
            return FaultWithCode(Vectors.TS, SelectorError(Tr.Selector) | ext);
        }

        // Read the new TSS whole (supervisor reads) and probe every write before changing anything.
        Span<byte> image = stackalloc byte[0x68];
        int imageLength = new32 ? 0x68 : 0x2C;
        for (int i = 0; i < imageLength; i += 4)
        {
            if (!ReadSystemLinear32(newBase + (uint)i, out uint dword))
            {
                return false;
            }

            image[i] = (byte)dword;
            image[i + 1] = (byte)(dword >> 8);
            image[i + 2] = (byte)(dword >> 16);
            image[i + 3] = (byte)(dword >> 24);
        }

        bool nests = source is TaskSource.Call or TaskSource.Interrupt;
        if (!ProbeSystemWrite(old32 ? oldBase + 0x20 : oldBase + 0x0E, old32 ? 0x40u : 0x1Cu) ||
            (nests && !ProbeSystemWrite(newBase, 2)) ||
            !ProbeSystemWrite(Gdtr.Base + (uint)(selector & 0xFFF8) + 5, 1) ||
            !ProbeSystemWrite(Gdtr.Base + (uint)(Tr.Selector & 0xFFF8) + 5, 1))
        {
            return false;
        }

        // Old task: busy bit (JMP, IRET clear it), saved state (NT cleared in the image for IRET).
        if (source is TaskSource.Jump or TaskSource.Iret)
        {
            SetTssBusy(Tr.Selector, busy: false);
        }

        uint oldFlags = GetEflags();
        if (source == TaskSource.Iret)
        {
            oldFlags &= ~EFlags.NT;
        }

        SaveTaskState(oldBase, old32, eipToSave, oldFlags);
        if (nests)
        {
            WriteSystemLinear(newBase, 2, Tr.Selector);
        }

        // New task state, from the image read above.
        uint newCr3;
        uint newEip;
        uint newFlags;
        ushort es, cs, ss, ds, fs, gs, ldt;
        bool trap = false;
        if (new32)
        {
            newCr3 = Dword(image, 0x1C);
            newEip = Dword(image, 0x20);
            newFlags = Dword(image, 0x24);
            for (int r = 0; r < 8; r++)
            {
                R(r) = Dword(image, 0x28 + (4 * r));
            }

            es = Word(image, 0x48);
            cs = Word(image, 0x4C);
            ss = Word(image, 0x50);
            ds = Word(image, 0x54);
            fs = Word(image, 0x58);
            gs = Word(image, 0x5C);
            ldt = Word(image, 0x60);
            trap = (Word(image, 0x64) & 1) != 0;
        }
        else
        {
            // A 16-bit TSS: upper register halves read as 0xFFFF, FS/GS become null, CR3 is kept.
            newCr3 = Cr3;
            newEip = Word(image, 0x0E);
            newFlags = Word(image, 0x10);
            for (int r = 0; r < 8; r++)
            {
                R(r) = 0xFFFF0000u | Word(image, 0x12 + (2 * r));
            }

            es = Word(image, 0x22);
            cs = Word(image, 0x24);
            ss = Word(image, 0x26);
            ds = Word(image, 0x28);
            fs = 0;
            gs = 0;
            ldt = Word(image, 0x2A);
        }

        if (source != TaskSource.Iret)
        {
            SetTssBusy(selector, busy: true);
        }

        // ---- commit point: from here on, faults belong to the new task.
        TaskSwitches++;
        InterruptShadow = false;
        Tr.LoadDescriptor(selector, desc | Descriptor.BusyBit);
        Cr0 |= Cr0Bits.TS;
        Dr[7] &= ~0x155u;
        UpdateDebugArming();
        if (nests)
        {
            newFlags |= EFlags.NT;
        }

        SetEflags(newFlags);
        Eip = newEip;

        // Selectors are visible at once; the caches become valid only as each load is checked.
        SetSelectorOnly(SegReg.ES, es);
        SetSelectorOnly(SegReg.CS, cs);
        SetSelectorOnly(SegReg.SS, ss);
        SetSelectorOnly(SegReg.DS, ds);
        SetSelectorOnly(SegReg.FS, fs);
        SetSelectorOnly(SegReg.GS, gs);
        Ldtr.LoadNull(ldt);

        if (new32 && PagingEnabled && newCr3 != Cr3)
        {
            Cr3 = newCr3;
            FlushTlb(false);
        }

        if (trap)
        {
            // The T bit: a #DB trap (DR6.BT) before the new task's first instruction.
            _debugTrapBits |= DebugBits.BT;
        }

        if (!LoadTaskSegments(es, cs, ss, ds, fs, gs, ldt, ext) ||
            !CheckTaskEip() ||
            (pushError && !Push(errorCode, new32 ? 4 : 2)))
        {
            FaultAfterCommit = true;
            return false;
        }

        return true;
    }

    private static uint Dword(ReadOnlySpan<byte> b, int at) =>
        (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));

    private static ushort Word(ReadOnlySpan<byte> b, int at) => (ushort)(b[at] | (b[at + 1] << 8));

    private bool CheckTaskEip() => Eip <= Seg(SegReg.CS).Limit || FaultWithCode(Vectors.GP, 0);

    private void SetSelectorOnly(int seg, ushort selector)
    {
        ref SegmentCache s = ref Seg(seg);
        s.LoadNull(selector);
    }

    /// <summary>Sets or clears the busy bit of the TSS descriptor <paramref name="selector"/> names in the GDT (probed beforehand).</summary>
    private void SetTssBusy(ushort selector, bool busy)
    {
        uint at = Gdtr.Base + (uint)(selector & 0xFFF8) + 5;
        if (!ReadSystemLinear64(at, out ulong b, 1))
        {
            return;
        }

        byte access = busy ? (byte)(b | 0x02) : (byte)(b & ~0x02u);
        WriteSystemLinear8(at, access);
    }

    private void SaveTaskState(uint oldBase, bool old32, uint eip, uint flags)
    {
        if (old32)
        {
            WriteSystemLinear(oldBase + 0x20, 4, eip);
            WriteSystemLinear(oldBase + 0x24, 4, flags);
            for (int r = 0; r < 8; r++)
            {
                WriteSystemLinear(oldBase + 0x28 + (uint)(4 * r), 4, R(r));
            }

            WriteSystemLinear(oldBase + 0x48, 2, Seg(SegReg.ES).Selector);
            WriteSystemLinear(oldBase + 0x4C, 2, Seg(SegReg.CS).Selector);
            WriteSystemLinear(oldBase + 0x50, 2, Seg(SegReg.SS).Selector);
            WriteSystemLinear(oldBase + 0x54, 2, Seg(SegReg.DS).Selector);
            WriteSystemLinear(oldBase + 0x58, 2, Seg(SegReg.FS).Selector);
            WriteSystemLinear(oldBase + 0x5C, 2, Seg(SegReg.GS).Selector);
        }
        else
        {
            WriteSystemLinear(oldBase + 0x0E, 2, eip);
            WriteSystemLinear(oldBase + 0x10, 2, flags);
            for (int r = 0; r < 8; r++)
            {
                WriteSystemLinear(oldBase + 0x12 + (uint)(2 * r), 2, R(r));
            }

            WriteSystemLinear(oldBase + 0x22, 2, Seg(SegReg.ES).Selector);
            WriteSystemLinear(oldBase + 0x24, 2, Seg(SegReg.CS).Selector);
            WriteSystemLinear(oldBase + 0x26, 2, Seg(SegReg.SS).Selector);
            WriteSystemLinear(oldBase + 0x28, 2, Seg(SegReg.DS).Selector);
        }
    }

    /// <summary>
    /// Loads the new task's LDTR, SS, DS/ES/FS/GS and CS with their checks (#TS for bad
    /// selectors, #SS / #NP for absent segments), the new CPL being the CS selector's RPL.
    /// </summary>
    private bool LoadTaskSegments(ushort es, ushort cs, ushort ss, ushort ds, ushort fs, ushort gs, ushort ldt, uint ext)
    {
        int cpl = cs & 3;

        // As Bochs does, CPL reads 3 until SS is loaded, so an exception raised before that
        // switches to the new TSS's ring-0 stack instead of pushing on an unusable SS.
        SetCpl(3);
        if (V86Mode)
        {
            LoadV86Segment(SegReg.ES, es);
            LoadV86Segment(SegReg.CS, cs);
            LoadV86Segment(SegReg.SS, ss);
            LoadV86Segment(SegReg.DS, ds);
            LoadV86Segment(SegReg.FS, fs);
            LoadV86Segment(SegReg.GS, gs);
        }

        // LDTR: in the GDT, an LDT descriptor, present; else #TS(LDT selector).
        if ((ldt & 4) != 0)
        {
            return FaultWithCode(Vectors.TS, SelectorError(ldt) | ext);
        }

        if ((ldt & 0xFFFC) != 0)
        {
            if (!ReadDescriptor(ldt, out ulong ldtDesc, Vectors.TS, ext))
            {
                return false;
            }

            if (Descriptor.IsCodeOrData(ldtDesc) || Descriptor.Type(ldtDesc) != Descriptor.Ldt || !Descriptor.Present(ldtDesc))
            {
                return FaultWithCode(Vectors.TS, SelectorError(ldt) | ext);
            }

            Ldtr.LoadDescriptor(ldt, ldtDesc);
        }

        if (V86Mode)
        {
            return true;
        }

        if (!CheckStackSegment(ss, cpl, Vectors.TS, ext, out ulong ssDesc) || !CommitSegment(SegReg.SS, ss, ssDesc))
        {
            return false;
        }

        SetCpl(cpl);

        if (!LoadTaskDataSegment(SegReg.DS, ds, cpl, ext) || !LoadTaskDataSegment(SegReg.ES, es, cpl, ext) ||
            !LoadTaskDataSegment(SegReg.FS, fs, cpl, ext) || !LoadTaskDataSegment(SegReg.GS, gs, cpl, ext))
        {
            return false;
        }

        // CS: code; non-conforming DPL = RPL, conforming DPL <= RPL; else #TS; present, else #NP.
        if ((cs & 0xFFFC) == 0)
        {
            return FaultWithCode(Vectors.TS, ext);
        }

        if (!ReadDescriptor(cs, out ulong csDesc, Vectors.TS, ext))
        {
            return false;
        }

        int dpl = Descriptor.Dpl(csDesc);
        if (!Descriptor.IsCode(csDesc) ||
            (Descriptor.IsConformingCode(csDesc) ? dpl > cpl : dpl != cpl))
        {
            return FaultWithCode(Vectors.TS, SelectorError(cs) | ext);
        }

        if (!Descriptor.Present(csDesc))
        {
            return FaultWithCode(Vectors.NP, SelectorError(cs) | ext);
        }

        if (!MarkAccessed(cs, csDesc))
        {
            return false;
        }

        Seg(SegReg.CS).LoadDescriptor(cs, csDesc | Descriptor.AccessedBit);
        return true;
    }

    private bool LoadTaskDataSegment(int seg, ushort selector, int cpl, uint ext)
    {
        if ((selector & 0xFFFC) == 0)
        {
            return true;
        }

        return CheckDataSegment(selector, cpl, Vectors.TS, ext, out ulong desc) && CommitSegment(seg, selector, desc);
    }
}
