using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using K = Emulator.Tests.Cpu.SystemKernel;

namespace Emulator.Tests.Cpu;

public class SystemInstructionTests
{
    private const uint S = K.Scratch;

    [Fact]
    public void SgdtAndSidtStoreWhatWasLoaded()
    {
        using var k = new K(a =>
        {
            a.sgdt(__[S]);
            a.sidt(__[S + 8]);
            a.mov(__word_ptr[S + 16], 0x1FF);
            a.mov(__dword_ptr[S + 18], 0x12345678);
            a.lidt(__[S + 16]);
            a.sidt(__[S + 24]);
            a.hlt();
        });
        k.Run();
        Assert.Equal((uint)(128 * 8) - 1, k.Read32(S) & 0xFFFF);
        Assert.Equal(K.GdtBase, (k.Read32(S) >> 16) | (k.Read32(S + 4) << 16));
        Assert.Equal(0x7FFu, k.Read32(S + 8) & 0xFFFF);
        Assert.Equal(0x12345678u, k.Cpu.Idtr.Base);
        Assert.Equal(0x1FF, k.Cpu.Idtr.Limit);
        Assert.Equal(0x1FFu, k.Read32(S + 24) & 0xFFFF);
        Assert.Equal(0x12345678u, (k.Read32(S + 24) >> 16) | (k.Read32(S + 28) << 16));
    }

    [Fact]
    public void LgdtWithSixteenBitOperandSizeLoadsA24BitBase()
    {
        using var h = CpuHarness.Real16(a =>
        {
            a.lgdt(__[0x800]);
            a.hlt();
        });
        h.Memory.Write(0x800, [0xFF, 0x00, 0x78, 0x56, 0x34, 0x12]);
        h.RunToHalt();
        Assert.Equal(0x345678u, h.Cpu.Gdtr.Base);
        Assert.Equal(0xFF, h.Cpu.Gdtr.Limit);
    }

    [Fact]
    public void LldtLoadsTheLdtAndLdtSelectorsUseIt()
    {
        using var k = new K(a =>
        {
            a.mov(ax, K.LdtSel);
            a.lldt(ax);
            a.sldt(ebx);
            a.mov(ax, 0x0C);                       // LDT index 1, RPL 0
            a.mov(ds, ax);
            a.mov(ecx, __dword_ptr[0]);
            a.mov(ax, 0x10);
            a.mov(ds, ax);
            a.xor(eax, eax);
            a.lldt(ax);                            // null: LDTR unusable
            a.mov(ax, 0x0C);
            a.mov(es, ax);                         // #GP(0x0C)
            a.hlt();
        });
        k.SetLdt(1, Descriptor.Build(K.DataBase, 0xFFF, 0x93, 0x4));
        k.Write32(K.DataBase, 0x1DA7A);
        k.Run();
        var c = k.Cpu;
        Assert.Equal((uint)K.LdtSel, c.Ebx);
        Assert.Equal(0x1DA7Au, c.Ecx);
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0x0Cu, k.ErrorCode);
        Assert.False(c.Ldtr.Valid);
        Assert.Equal(0x93, (byte)(k.Read64(K.LdtBase + 8) >> 40)); // accessed bit written in the LDT
    }

    [Theory]
    [InlineData(K.TssSel, 13, K.TssSel)]       // already busy
    [InlineData(K.KernelData, 13, K.KernelData)] // not a TSS
    [InlineData(0x0003, 13, 0)]                  // null
    [InlineData(K.LdtSel, 13, K.LdtSel)]         // an LDT
    public void LtrRejectsAnythingButAnAvailableTss(ushort selector, int vector, int error)
    {
        using var k = new K(a =>
        {
            a.mov(ax, selector);
            a.ltr(ax);
            a.hlt();
        });
        k.Run();
        Assert.Equal((uint)vector, k.Vector);
        Assert.Equal((uint)error, k.ErrorCode);
    }

    [Fact]
    public void LtrMarksTheTssBusyAndStrReadsIt()
    {
        using var k = new K(a =>
        {
            a.mov(ax, K.DfTssSel);
            a.ltr(ax);
            a.str(__word_ptr[S]);
            a.str(ecx);
            a.hlt();
        });
        k.Run();
        Assert.Equal(0u, k.Count);
        Assert.Equal((uint)K.DfTssSel, k.Read32(S) & 0xFFFF);
        Assert.Equal((uint)K.DfTssSel, k.Cpu.Ecx);
        Assert.Equal(0x8B, (byte)(k.GetGdt(6) >> 40));
        Assert.Equal(K.DfTssBase, k.Cpu.Tr.Base);
    }

    [Fact]
    public void LarLslVerrVerwReportThroughZf()
    {
        using var k = new K(a =>
        {
            void Probe(ushort selector, int slot)
            {
                a.mov(edx, 0xEEEEEEEE);
                a.mov(ax, selector);
                a.lar(edx, eax);
                a.sete(__byte_ptr[S + (uint)(slot * 16)]);
                a.mov(__dword_ptr[S + (uint)(slot * 16) + 4], edx);
                a.mov(edx, 0xEEEEEEEE);
                a.lsl(edx, eax);
                a.sete(__byte_ptr[S + (uint)(slot * 16) + 1]);
                a.mov(__dword_ptr[S + (uint)(slot * 16) + 8], edx);
                a.verr(ax);
                a.sete(__byte_ptr[S + (uint)(slot * 16) + 2]);
                a.verw(ax);
                a.sete(__byte_ptr[S + (uint)(slot * 16) + 3]);
            }

            Probe(K.KernelData, 0);
            Probe(K.KernelCode, 1);
            Probe(0, 2);
            Probe(0x78, 3);         // an all-zero descriptor (reserved system type 0)
            Probe(0x800, 4);        // beyond the GDT limit
            Probe(K.TssSel, 5);
            Probe(K.CallGateSel, 6);
            Probe(0x13, 7);         // DPL 0 data with RPL 3: not visible
            a.hlt();
        });
        k.Run();
        Assert.Equal(0u, k.Count);

        (bool Lar, uint Rights, bool Lsl, uint Limit, bool Verr, bool Verw) Row(int slot)
        {
            uint at = S + (uint)(slot * 16);
            uint flags = k.Read32(at);
            return ((flags & 0xFF) != 0, k.Read32(at + 4), ((flags >> 8) & 0xFF) != 0, k.Read32(at + 8),
                ((flags >> 16) & 0xFF) != 0, ((flags >> 24) & 0xFF) != 0);
        }

        Assert.Equal((true, 0x00CF9300u, true, 0xFFFFFFFFu, true, true), Row(0));
        Assert.Equal((true, 0x00CF9B00u, true, 0xFFFFFFFFu, true, false), Row(1));
        Assert.Equal((false, 0xEEEEEEEEu, false, 0xEEEEEEEEu, false, false), Row(2));
        Assert.Equal((false, 0xEEEEEEEEu, false, 0xEEEEEEEEu, false, false), Row(3));
        Assert.Equal((false, 0xEEEEEEEEu, false, 0xEEEEEEEEu, false, false), Row(4));
        Assert.Equal((true, 0x00008B00u, true, 0x67u, false, false), Row(5));
        Assert.Equal((true, 0x0000EC00u, false, 0xEEEEEEEEu, false, false), Row(6));
        Assert.Equal((false, 0xEEEEEEEEu, false, 0xEEEEEEEEu, false, false), Row(7));
    }

    [Fact]
    public void ArplRaisesRplAndSetsZf()
    {
        using var k = new K(a =>
        {
            a.mov(ax, 0x10);
            a.mov(bx, 0x1B);
            a.arpl(ax, bx);
            a.sete(cl);
            a.arpl(ax, bx);
            a.sete(ch);
            a.mov(__word_ptr[S], 0x22);
            a.arpl(__word_ptr[S], bx);
            a.sete(dl);
            a.hlt();
        });
        k.Run();
        var c = k.Cpu;
        Assert.Equal(0x13u, c.Eax & 0xFFFF);
        Assert.Equal(1u, c.Ecx & 0xFF);
        Assert.Equal(0u, (c.Ecx >> 8) & 0xFF);
        Assert.Equal(0x23u, k.Read32(S) & 0xFFFF);
        Assert.Equal(1u, c.Edx & 0xFF);
    }

    [Fact]
    public void ArplIsUndefinedInRealMode()
    {
        using var h = CpuHarness.Real16(a =>
        {
            a.arpl(ax, bx);
            a.hlt();
        });
        h.Memory.Write32(Vectors.UD * 4, 0x0000_0500);
        h.Memory.Write(0x500, [0xF4]);
        h.RunToHalt(100);
        Assert.Equal(0x501u, h.Cpu.Eip);
        Assert.Equal(1, h.Cpu.ExceptionCounts[Vectors.UD]);
    }

    [Theory]
    [InlineData(0x80000000u, 0u, 13)]     // CR0.PG without PE
    [InlineData(0x20000001u, 0u, 13)]     // NW without CD
    [InlineData(0u, Cr4Bits.VME, 13)]     // a reserved CR4 bit (VME is not offered)
    [InlineData(0u, Cr4Bits.PAE, 13)]     // PAE is not offered
    public void ControlRegisterWritesRejectInvalidValues(uint cr0Bits, uint cr4Bits, int vector)
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            if (cr4Bits == 0)
            {
                a.mov(eax, cr0);
                a.and(eax, 0x9FFFFFFE);            // clear PE, CD, NW
                a.or(eax, cr0Bits);
                a.Label(ref bad);
                a.mov(cr0, eax);
            }
            else
            {
                a.mov(eax, cr4);
                a.or(eax, cr4Bits);
                a.Label(ref bad);
                a.mov(cr4, eax);
            }

            a.hlt();
        });
        k.Run();
        Assert.Equal((uint)vector, k.Vector);
        Assert.Equal(0u, k.ErrorCode);
        Assert.Equal(k.Addr(bad), k.FaultEip);
        Assert.True(k.Cpu.ProtectedMode);
    }

    [Fact]
    public void Cr0ReservedBitsAreIgnoredAndEtIsHardwired()
    {
        using var k = new K(a =>
        {
            a.mov(eax, cr0);
            a.or(eax, 0x0000FFC0);
            a.and(eax, ~Cr0Bits.ET);
            a.mov(cr0, eax);
            a.mov(ebx, cr0);
            a.mov(ecx, 0x1234);
            a.mov(cr2, ecx);
            a.mov(edx, cr2);
            a.hlt();
        });
        k.Run();
        Assert.Equal(0u, k.Count);
        Assert.Equal(0u, k.Cpu.Ebx & 0xFFC0);
        Assert.Equal(Cr0Bits.ET, k.Cpu.Ebx & Cr0Bits.ET);
        Assert.Equal(0x1234u, k.Cpu.Edx);
    }

    [Fact]
    public void MovToCr1IsUndefined()
    {
        using var k = new K(a =>
        {
            a.db(0x0F, 0x22, 0xC8); // mov cr1, eax
            a.hlt();
        });
        k.Run();
        Assert.Equal(6u, k.Vector);
    }

    [Fact]
    public void DebugRegistersStoreAndDr4Dr5AliasUnlessCr4De()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.mov(eax, 0x12345678);
            a.mov(dr0, eax);
            a.mov(ebx, dr0);
            a.mov(eax, 0xFFFFDFFF);   // every bit but GD (GD would make the next MOV DR a #DB)
            a.mov(dr7, eax);
            a.mov(ecx, dr7);
            a.db(0x0F, 0x21, 0xE2);   // mov edx, dr4 (= DR6)
            a.mov(esi, dr6);
            a.mov(eax, cr4);
            a.or(eax, Cr4Bits.DE);
            a.mov(cr4, eax);
            a.Label(ref bad);
            a.db(0x0F, 0x21, 0xE2);   // mov edx, dr4: #UD with CR4.DE
            a.hlt();
        });
        k.Run();
        var c = k.Cpu;
        Assert.Equal(0x12345678u, c.Ebx);
        Assert.Equal(0xFFFF0FFFu, c.Ecx);
        Assert.Equal(0xFFFF0FF0u, c.Esi);
        Assert.Equal(c.Esi, c.Edx);
        Assert.Equal(6u, k.Vector);
        Assert.Equal(k.Addr(bad), k.FaultEip);
    }

    [Fact]
    public void LmswCannotClearPeAndSmswCltsWork()
    {
        using var k = new K(a =>
        {
            a.mov(eax, cr0);
            a.or(eax, Cr0Bits.TS);
            a.mov(cr0, eax);
            a.smsw(bx);
            a.clts();
            a.mov(ecx, cr0);
            a.mov(ax, (ushort)Cr0Bits.MP);       // PE clear in the operand
            a.lmsw(ax);
            a.mov(edx, cr0);
            a.smsw(esi);
            a.hlt();
        });
        k.Run();
        var c = k.Cpu;
        Assert.Equal(Cr0Bits.TS, c.Ebx & Cr0Bits.TS);
        Assert.Equal(0u, c.Ecx & Cr0Bits.TS);
        Assert.Equal(Cr0Bits.PE | Cr0Bits.MP, c.Edx & 0xF);
        Assert.Equal(c.Cr0, c.Esi);
        Assert.True(c.ProtectedMode);
        Assert.Equal(0u, k.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    public void PrivilegedInstructionsAtCpl3AreGp0(int which)
    {
        Label user = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            K.EnterRing3(a, 0);
            a.Label(ref user);
            switch (which)
            {
                case 0: a.lgdt(__[S]); break;
                case 1: a.lidt(__[S]); break;
                case 2: a.mov(eax, cr0); break;
                case 3: a.mov(cr3, eax); break;
                case 4: a.ltr(ax); break;
                case 5: a.lldt(ax); break;
                case 6: a.clts(); break;
                case 7: a.invlpg(__[S]); break;
                case 8: a.mov(eax, dr7); break;
                case 9: a.lmsw(ax); break;
                default: a.wbinvd(); break;
            }

            a.nop();
        });
        k.SetSymbol(0, user);
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0u, k.ErrorCode);
        Assert.Equal(k.Addr(user), k.FaultEip);
        Assert.Equal((uint)K.UserCode, k.FaultCs);
    }

    [Fact]
    public void SysenterAndSysexitRoundTrip()
    {
        Label user = default;
        Label kernel = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            kernel = a.CreateLabel();
            a.xor(edx, edx);
            a.mov(eax, K.KernelCode);
            a.mov(ecx, Emulator.Cpu.Cpu.MsrSysenterCs);
            a.wrmsr();
            a.mov(eax, K.Ring0StackTop - 0x100);
            a.mov(ecx, Emulator.Cpu.Cpu.MsrSysenterEsp);
            a.wrmsr();
            a.mov(eax, __dword_ptr[K.Symbol(1)]);
            a.mov(ecx, Emulator.Cpu.Cpu.MsrSysenterEip);
            a.wrmsr();
            a.mov(ecx, K.Ring3StackTop - 0x10);
            a.mov(edx, __dword_ptr[K.Symbol(0)]);
            a.sti();
            a.sysexit();

            a.Label(ref user);
            a.mov(ebp, esp);
            a.mov(edi, cs);
            a.mov(esi, ss);
            a.sysenter();

            a.Label(ref kernel);
            a.mov(ebx, cs);
            a.mov(ecx, ss);
            a.mov(edx, esp);
            a.hlt();
        });
        k.SetSymbol(0, user);
        k.SetSymbol(1, kernel);
        k.Run();
        var c = k.Cpu;
        Assert.Equal(K.Ring3StackTop - 0x10, c.Ebp);
        Assert.Equal((uint)K.UserCode, c.Edi);
        Assert.Equal((uint)K.UserData, c.Esi);
        Assert.Equal((uint)K.KernelCode, c.Ebx);
        Assert.Equal((uint)K.KernelData, c.Ecx);
        Assert.Equal(K.Ring0StackTop - 0x100, c.Edx);
        Assert.Equal(0, c.Cpl);
        Assert.Equal(0u, c.GetEflags() & EFlags.IF);
        Assert.Equal(0u, k.Count);
    }

    [Fact]
    public void SysenterWithNullCsIsGp0()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.Label(ref bad);
            a.sysenter();
            a.hlt();
        });
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(k.Addr(bad), k.FaultEip);
    }

    [Fact]
    public void IoBitmapInTheBusyTssGrantsPortsAtCpl3()
    {
        Label user = default;
        Label denied = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            denied = a.CreateLabel();
            K.EnterRing3(a, 0);
            a.Label(ref user);
            a.mov(al, 1);
            a.@out(0x80, al);                  // allowed by the bitmap
            a.Label(ref denied);
            a.@out(0x81, al);                  // denied: #GP(0)
            a.hlt();
        });
        k.SetGdt(5, Descriptor.Build(K.TssBase, 0x68 + 0x20, 0x89, 0));
        var bitmap = new byte[0x20];
        Array.Fill(bitmap, (byte)0xFF);
        bitmap[0x10] = 0xFE;
        k.H.Memory.Write(K.TssBase + 0x68, bitmap);
        k.SetSymbol(0, user);
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0u, k.ErrorCode);
        Assert.Equal(k.Addr(denied), k.FaultEip);
        Assert.Equal(1, k.H.Io.UnclaimedAccesses[0x80]);
        Assert.False(k.H.Io.UnclaimedAccesses.ContainsKey(0x81));
    }

    [Fact]
    public void InvdAndWbinvdRunAtCpl0()
    {
        using var k = new K(a =>
        {
            a.invd();
            a.wbinvd();
            a.hlt();
        });
        k.Run();
        Assert.Equal(0u, k.Count);
    }
}
