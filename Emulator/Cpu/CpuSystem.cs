using Emulator.Cpu.Segmentation;

namespace Emulator.Cpu;

/// <summary>
/// System registers: CR0/CR2/CR3/CR4 and DR0-DR7 writes, LDTR and TR loads, the descriptor
/// probes behind LAR/LSL/VERR/VERW, and SYSENTER/SYSEXIT (SDM Vol. 2 and Vol. 3 ch. 2, 5.8.7).
/// </summary>
public sealed partial class Cpu
{
    /// <summary>CR0 bits this core keeps; the others are reserved and ignored on writes (SDM 2.5). ET is hardwired to 1.</summary>
    public const uint Cr0Supported = Cr0Bits.PE | Cr0Bits.MP | Cr0Bits.EM | Cr0Bits.TS | Cr0Bits.ET | Cr0Bits.NE |
        Cr0Bits.WP | Cr0Bits.AM | Cr0Bits.NW | Cr0Bits.CD | Cr0Bits.PG;

    /// <summary>CR4 bits a write may set; any other bit raises #GP(0) (VME/PVI and PAE are not offered).</summary>
    public const uint Cr4Supported = Cr4Bits.TSD | Cr4Bits.DE | Cr4Bits.PSE | Cr4Bits.MCE | Cr4Bits.PGE | Cr4Bits.PCE;

    /// <summary>MOV CR0: PG without PE, or NW without CD, is #GP(0); a change of PG, PE or WP flushes the TLB.</summary>
    public bool WriteCr0(uint value)
    {
        value = (value & Cr0Supported) | Cr0Bits.ET;
        if ((value & Cr0Bits.PG) != 0 && (value & Cr0Bits.PE) == 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if ((value & Cr0Bits.NW) != 0 && (value & Cr0Bits.CD) == 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        uint old = Cr0;
        Cr0 = value;
        if (((old ^ value) & (Cr0Bits.PG | Cr0Bits.PE | Cr0Bits.WP)) != 0)
        {
            FlushTlb(true);
        }

        return true;
    }

    /// <summary>MOV CR3: loads the page-directory base and flushes the non-global TLB entries.</summary>
    public void WriteCr3(uint value)
    {
        Cr3 = value;
        FlushTlb(false);
    }

    /// <summary>MOV CR4: reserved bits are #GP(0); a change of PSE, PGE or PAE flushes the whole TLB.</summary>
    public bool WriteCr4(uint value)
    {
        if ((value & ~Cr4Supported) != 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        uint old = Cr4;
        Cr4 = value;
        if (((old ^ value) & (Cr4Bits.PSE | Cr4Bits.PGE | Cr4Bits.PAE)) != 0)
        {
            FlushTlb(true);
        }

        if (((old ^ value) & Cr4Bits.DE) != 0)
        {
            UpdateDebugArming(); // R/W = 10 means an I/O breakpoint only with CR4.DE set
        }

        return true;
    }

    /// <summary>
    /// Maps a debug register number for MOV DRn: DR4/DR5 alias DR6/DR7 when CR4.DE is clear and
    /// raise #UD when it is set. Returns -1 with #UD pending.
    /// </summary>
    public int DebugRegisterIndex(int n)
    {
        if (n is 4 or 5)
        {
            if ((Cr4 & Cr4Bits.DE) != 0)
            {
                Fault(Vectors.UD);
                return -1;
            }

            return n + 2;
        }

        return n;
    }

    /// <summary>MOV DRn, r32: DR6 and DR7 keep their fixed bits; a DR0-DR3 or DR7 change re-arms the breakpoints.</summary>
    public void WriteDebugRegister(int index, uint value)
    {
        Dr[index] = index switch
        {
            6 => (Dr[6] & 0xFFFF0FF0) | (value & 0x0000E00F),
            7 => (value & 0xFFFF2FFF) | 0x400,
            _ => value,
        };
        if (index != 6)
        {
            UpdateDebugArming();
        }
    }

    /// <summary>LLDT: a null selector leaves LDTR unusable; otherwise a present LDT descriptor in the GDT.</summary>
    public bool LoadLdtr(ushort selector)
    {
        uint err = SelectorError(selector);
        if ((selector & 0xFFFC) == 0)
        {
            Ldtr.LoadNull(selector);
            return true;
        }

        if ((selector & 4) != 0)
        {
            return FaultWithCode(Vectors.GP, err);
        }

        if (!ReadDescriptor(selector, out ulong desc))
        {
            return false;
        }

        if (Descriptor.IsCodeOrData(desc) || Descriptor.Type(desc) != Descriptor.Ldt)
        {
            return FaultWithCode(Vectors.GP, err);
        }

        if (!Descriptor.Present(desc))
        {
            return FaultWithCode(Vectors.NP, err);
        }

        Ldtr.LoadDescriptor(selector, desc);
        return true;
    }

    /// <summary>LTR: not null (#GP(0)), in the GDT, an available TSS (#GP(sel)), present (#NP); marks the descriptor busy.</summary>
    public bool LoadTr(ushort selector)
    {
        uint err = SelectorError(selector);
        if ((selector & 0xFFFC) == 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if ((selector & 4) != 0)
        {
            return FaultWithCode(Vectors.GP, err);
        }

        if (!ReadDescriptor(selector, out ulong desc))
        {
            return false;
        }

        if (Descriptor.IsCodeOrData(desc) || !Descriptor.IsAvailableTss(Descriptor.Type(desc)))
        {
            return FaultWithCode(Vectors.GP, err);
        }

        if (!Descriptor.Present(desc))
        {
            return FaultWithCode(Vectors.NP, err);
        }

        if (!WriteSystemLinear8(Gdtr.Base + (uint)(selector & 0xFFF8) + 5, (byte)((desc | Descriptor.BusyBit) >> 40)))
        {
            return false;
        }

        Tr.LoadDescriptor(selector, desc | Descriptor.BusyBit);
        return true;
    }

    /// <summary>
    /// Reads the descriptor a selector names for LAR/LSL/VERR/VERW, which never fault on a bad
    /// selector: <paramref name="found"/> is false for a null selector or one beyond its table.
    /// Returns false only when the table read itself faults (#PF).
    /// </summary>
    private bool ProbeDescriptor(ushort selector, out ulong desc, out bool found)
    {
        desc = 0;
        found = false;
        if ((selector & 0xFFFC) == 0)
        {
            return true;
        }

        uint index = (uint)(selector & 0xFFF8);
        uint tableBase;
        uint limit;
        if ((selector & 4) != 0)
        {
            if (!Ldtr.Valid)
            {
                return true;
            }

            tableBase = Ldtr.Base;
            limit = Ldtr.Limit;
        }
        else
        {
            tableBase = Gdtr.Base;
            limit = Gdtr.Limit;
        }

        if (index + 7 > limit)
        {
            return true;
        }

        if (!ReadSystemLinear64(tableBase + index, out desc))
        {
            return false;
        }

        found = true;
        return true;
    }

    /// <summary>The LAR/LSL/VERR privilege rule: unless conforming code, DPL must be &gt;= CPL and &gt;= RPL.</summary>
    private bool VisibleAtCpl(ushort selector, ulong desc)
    {
        if (Descriptor.IsConformingCode(desc))
        {
            return true;
        }

        int dpl = Descriptor.Dpl(desc);
        return dpl >= Cpl && dpl >= (selector & 3);
    }

    /// <summary>LAR: the access-rights dword (descriptor bits 40-55, as Bochs: high dword &amp; 0x00FFFF00) when visible.</summary>
    public bool LoadAccessRights(ushort selector, out uint rights, out bool valid)
    {
        rights = 0;
        valid = false;
        if (!ProbeDescriptor(selector, out ulong desc, out bool found))
        {
            return false;
        }

        if (!found)
        {
            return true;
        }

        if (!Descriptor.IsCodeOrData(desc))
        {
            int type = Descriptor.Type(desc);
            if (type is not (1 or 2 or 3 or 4 or 5 or 9 or 11 or 12))
            {
                return true;
            }
        }

        if (!VisibleAtCpl(selector, desc))
        {
            return true;
        }

        rights = (uint)(desc >> 32) & 0x00FFFF00;
        valid = true;
        return true;
    }

    /// <summary>LSL: the byte-granular limit when the selector names a visible segment, LDT or TSS.</summary>
    public bool LoadSegmentLimit(ushort selector, out uint limit, out bool valid)
    {
        limit = 0;
        valid = false;
        if (!ProbeDescriptor(selector, out ulong desc, out bool found))
        {
            return false;
        }

        if (!found)
        {
            return true;
        }

        if (!Descriptor.IsCodeOrData(desc))
        {
            int type = Descriptor.Type(desc);
            if (type is not (1 or 2 or 3 or 9 or 11))
            {
                return true;
            }
        }

        if (!VisibleAtCpl(selector, desc))
        {
            return true;
        }

        limit = Descriptor.Limit(desc);
        valid = true;
        return true;
    }

    /// <summary>VERR (<paramref name="write"/> false) / VERW: whether the segment could be read / written at the current CPL.</summary>
    public bool VerifySegment(ushort selector, bool write, out bool ok)
    {
        ok = false;
        if (!ProbeDescriptor(selector, out ulong desc, out bool found))
        {
            return false;
        }

        if (!found || !Descriptor.IsCodeOrData(desc))
        {
            return true;
        }

        if (write)
        {
            int dpl = Descriptor.Dpl(desc);
            ok = Descriptor.IsWritableData(desc) && dpl >= Cpl && dpl >= (selector & 3);
        }
        else
        {
            ok = (Descriptor.IsData(desc) || Descriptor.IsReadableCode(desc)) && VisibleAtCpl(selector, desc);
        }

        return true;
    }

    private ulong MsrOrZero(uint msr) => Msrs.TryGetValue(msr, out ulong v) ? v : 0;

    /// <summary>
    /// SYSENTER (SDM Vol. 2): #GP(0) in real mode or with IA32_SYSENTER_CS null; otherwise flat
    /// ring-0 CS = SYSENTER_CS and SS = SYSENTER_CS + 8 (descriptors are not read), ESP and EIP
    /// from the MSRs, VM, IF and RF cleared.
    /// </summary>
    public bool SysEnter()
    {
        ushort cs = (ushort)(MsrOrZero(MsrSysenterCs) & 0xFFFC);
        if (!ProtectedMode || cs == 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        FlagsBase &= ~(EFlags.VM | EFlags.IF | EFlags.RF);
        LoadFlat(SegReg.CS, cs, 0x9B);
        LoadFlat(SegReg.SS, (ushort)(cs + 8), 0x93);
        SetCpl(0);
        Esp = (uint)MsrOrZero(MsrSysenterEsp);
        Eip = (uint)MsrOrZero(MsrSysenterEip);
        return true;
    }

    /// <summary>SYSEXIT: #GP(0) unless protected mode, CPL 0 and SYSENTER_CS non-null; flat ring-3 CS = +16, SS = +24, ESP = ECX, EIP = EDX.</summary>
    public bool SysExit()
    {
        ushort cs = (ushort)(MsrOrZero(MsrSysenterCs) & 0xFFFC);
        if (!ProtectedMode || V86Mode || Cpl != 0 || cs == 0)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        LoadFlat(SegReg.CS, (ushort)((cs + 16) | 3), 0xFB);
        LoadFlat(SegReg.SS, (ushort)((cs + 24) | 3), 0xF3);
        SetCpl(3);
        Esp = Ecx;
        Eip = Edx;
        return true;
    }

    private void LoadFlat(int seg, ushort selector, byte access)
    {
        ref SegmentCache s = ref Seg(seg);
        s.Selector = selector;
        s.Base = 0;
        s.Limit = 0xFFFFFFFF;
        s.AccessRights = access;
        s.Flags = 0xC;
        s.Valid = true;
        s.UpdateAccessBounds();
    }
}
