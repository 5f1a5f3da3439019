using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using K = Emulator.Tests.Cpu.SystemKernel;

namespace Emulator.Tests.Cpu;

public class SegmentationTests
{
    private const uint Data = K.DataBase;

    [Fact]
    public void PrologueLoadsTablesSegmentsAndTaskRegister()
    {
        using var k = new K(a => a.hlt());
        k.Run();
        var c = k.Cpu;
        Assert.Equal(K.GdtBase, c.Gdtr.Base);
        Assert.Equal(K.IdtBase, c.Idtr.Base);
        Assert.Equal(K.KernelCode, c.Seg(SegReg.CS).Selector);
        Assert.Equal(K.KernelData, c.Seg(SegReg.SS).Selector);
        Assert.Equal(K.TssSel, c.Tr.Selector);
        Assert.Equal(0x0Bu, (uint)c.Tr.Type);
        Assert.Equal(0x8Bu, (uint)(k.GetGdt(5) >> 40) & 0xFF); // LTR marked the descriptor busy
        Assert.Equal(0x93u, (uint)(k.GetGdt(2) >> 40) & 0xFF); // accessed bit written back
        Assert.Equal(0u, k.Count);
    }

    [Fact]
    public void StaleFsCacheSurvivesGdtRewriteUntilReload()
    {
        // Linux's per-CPU data: %fs base = __per_cpu_offset[cpu]. The descriptor cache is what
        // accesses use, so rewriting the GDT entry changes nothing until %fs is reloaded.
        using var k = new K(a =>
        {
            a.mov(ax, K.PerCpuSel);
            a.mov(fs, ax);
            a.mov(ebx, __dword_ptr.fs[0]);              // old base: reads 0x1111
            a.mov(__dword_ptr[K.GdtBase + (9 * 8) + 2], 0x00022000 & 0xFFFFFF | 0x93000000u); // base[23:0] + access
            a.mov(ecx, __dword_ptr.fs[0]);              // still the old base
            a.mov(ax, K.PerCpuSel);
            a.mov(fs, ax);                              // reload picks the new descriptor
            a.mov(edx, __dword_ptr.fs[0]);              // reads 0x2222
            a.hlt();
        });
        k.Write32(K.PerCpuBase, 0x1111);
        k.Write32(0x22000, 0x2222);
        k.Run();
        Assert.Equal(0x1111u, k.Cpu.Ebx);
        Assert.Equal(0x1111u, k.Cpu.Ecx);
        Assert.Equal(0x2222u, k.Cpu.Edx);
        Assert.Equal(0x22000u, k.Cpu.Seg(SegReg.FS).Base);
        Assert.Equal(0u, k.Count);
    }

    [Fact]
    public void NullDataSelectorLoadsButAccessRaisesGp0()
    {
        Label access = default;
        using var k = new K(a =>
        {
            access = a.CreateLabel();
            a.mov(eax, 3);
            a.mov(es, ax);                              // null selector with RPL 3: allowed
            a.Label(ref access);
            a.mov(__dword_ptr.es[Data], eax);
            a.hlt();
        });
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0u, k.ErrorCode);
        Assert.Equal(k.Addr(access), k.FaultEip);
        Assert.Equal(3, k.Cpu.Seg(SegReg.ES).Selector);
        Assert.False(k.Cpu.Seg(SegReg.ES).Valid);
    }

    [Theory]
    [InlineData(0x0000, 13, 0x0000)] // null SS: #GP(0)
    [InlineData(0x0003, 13, 0x0000)] // null SS with RPL 3: #GP(0)
    [InlineData(0x0013, 13, 0x0010)] // RPL != CPL
    [InlineData(0x0023, 13, 0x0020)] // RPL 3 at CPL 0
    [InlineData(0x0008, 13, 0x0008)] // code segment
    [InlineData(0x0050, 13, 0x0050)] // read-only data
    [InlineData(0x0058, 12, 0x0058)] // not present: #SS(sel)
    [InlineData(0x0060, 13, 0x0060)] // DPL 3 data at CPL 0
    [InlineData(0x0800, 13, 0x0800)] // beyond the GDT limit
    [InlineData(0x0004, 13, 0x0004)] // LDT selector, index 0 (LDT not loaded)
    public void MovSsChecks(int selector, int vector, int error)
    {
        Label load = default;
        using var k = new K(a =>
        {
            load = a.CreateLabel();
            a.mov(eax, (uint)selector);
            a.Label(ref load);
            a.mov(ss, ax);
            a.hlt();
        });
        k.SetGdt(10, Descriptor.Build(0, 0xFFFFF, 0x91, 0xC));  // 0x50: read-only data
        k.SetGdt(11, Descriptor.Build(0, 0xFFFFF, 0x13, 0xC));  // 0x58: writable, not present
        k.SetGdt(12, Descriptor.Build(0, 0xFFFFF, 0xF3, 0xC));  // 0x60: DPL 3
        k.Write16(K.Records + 0x100, 0x7FF);                    // shrink the GDT to 256 entries
        k.Run();
        Assert.Equal((uint)vector, k.Vector);
        Assert.Equal((uint)error, k.ErrorCode);
        Assert.Equal(k.Addr(load), k.FaultEip);
        Assert.Equal(K.KernelData, k.Cpu.Seg(SegReg.SS).Selector);
    }

    [Theory]
    [InlineData(0x0050, 0, 0)]       // read-only data: fine for DS
    [InlineData(0x0068, 0, 0)]       // readable code: fine
    [InlineData(0x0070, 13, 0x0070)] // execute-only code
    [InlineData(0x0058, 11, 0x0058)] // not present: #NP(sel)
    [InlineData(0x0013, 13, 0x0010)] // RPL 3 > DPL 0
    [InlineData(0x0078, 0, 0)]       // conforming readable code, DPL 0 < RPL: no privilege check
    [InlineData(0x0028, 13, 0x0028)] // a TSS
    [InlineData(0x0040, 13, 0x0040)] // a call gate
    public void MovDsChecks(int selector, int vector, int error)
    {
        using var k = new K(a =>
        {
            a.mov(eax, (uint)selector);
            a.mov(ds, ax);
            a.hlt();
        });
        k.SetGdt(10, Descriptor.Build(0, 0xFFFFF, 0x91, 0xC));
        k.SetGdt(11, Descriptor.Build(0, 0xFFFFF, 0x13, 0xC));
        k.SetGdt(13, Descriptor.Build(0, 0xFFFFF, 0x9A, 0xC));
        k.SetGdt(14, Descriptor.Build(0, 0xFFFFF, 0x98, 0xC));
        k.SetGdt(15, Descriptor.Build(0, 0xFFFFF, 0x9E, 0xC));
        k.Run();
        if (vector == 0)
        {
            Assert.Equal(0u, k.Count);
            Assert.Equal(selector & 0xFFFF, k.Cpu.Seg(SegReg.DS).Selector);
        }
        else
        {
            Assert.Equal((uint)vector, k.Vector);
            Assert.Equal((uint)error, k.ErrorCode);
        }
    }

    [Fact]
    public void LoadWritesAccessedBitBack()
    {
        using var k = new K(a =>
        {
            a.mov(ax, 0x50);
            a.mov(gs, ax);
            a.hlt();
        });
        k.SetGdt(10, Descriptor.Build(0x1234, 0xFF, 0x92, 0x4));
        k.Run();
        Assert.Equal(0x93u, (uint)(k.GetGdt(10) >> 40) & 0xFF);
        Assert.Equal(0x93, k.Cpu.Seg(SegReg.GS).AccessRights);
        Assert.Equal(0x1234u, k.Cpu.Seg(SegReg.GS).Base);
        Assert.Equal(0xFFu, k.Cpu.Seg(SegReg.GS).Limit);
    }

    [Fact]
    public void LimitViolationIsGp0AndStackLimitViolationIsSs0()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.mov(ax, 0x50);
            a.mov(ds, ax);
            a.mov(eax, __dword_ptr[0xFFC]);       // last dword inside the limit
            a.Label(ref bad);
            a.mov(eax, __dword_ptr[0xFFD]);       // straddles the limit
            a.hlt();
        });
        k.SetGdt(10, Descriptor.Build(Data, 0xFFF, 0x93, 0x4));
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0u, k.ErrorCode);
        Assert.Equal(k.Addr(bad), k.FaultEip);
    }

    [Fact]
    public void ExpandDownStackFaultsBelowItsLimit()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.mov(ax, 0x50);
            a.mov(ss, ax);                          // expand-down, valid offsets 0x70000..0xFFFFFFFF
            a.mov(esp, 0x7F000);
            a.push(0x1234);                         // fine: above the limit
            a.mov(eax, __dword_ptr[esp + 0x1000 - 4]);
            a.mov(ebx, __dword_ptr.ss[0x70000]);    // lowest valid offset
            a.Label(ref bad);
            a.mov(ecx, __dword_ptr.ss[0x6FFFF]);    // at the limit: #SS(0)
            a.hlt();
        });
        k.SetGdt(10, Descriptor.Build(0, 0x6FFFF, 0x97, 0x4)); // expand-down writable, B = 1, byte granular
        k.Run();
        Assert.Equal(12u, k.Vector);
        Assert.Equal(0u, k.ErrorCode);
        Assert.Equal(k.Addr(bad), k.FaultEip);
        Assert.True(k.Cpu.Seg(SegReg.SS).IsExpandDown);
        Assert.Equal(0x7EFFCu, k.Cpu.Esp + 16 + 8); // the stub pushed DS and EAX on top of the error code and a 3-dword frame
    }

    [Fact]
    public void LoadFarPointersPushAndPopSegmentRegisters()
    {
        using var k = new K(a =>
        {
            a.mov(__dword_ptr[Data], 0xCAFE);
            a.mov(__word_ptr[Data + 4], K.PerCpuSel);
            a.lgs(ebx, __[Data]);
            a.lfs(ecx, __[Data]);
            a.push(gs);
            a.pop(es);
            a.mov(edx, esp);
            a.push(fs);                 // 32-bit push of a selector: ESP drops by 4
            a.sub(edx, esp);
            a.pop(eax);
            a.mov(esi, es);             // zero-extended into a 32-bit register
            a.hlt();
        });
        k.Write32(K.Ring0StackTop - 4, 0xFFFFFFFF);
        k.Run();
        var c = k.Cpu;
        Assert.Equal(0xCAFEu, c.Ebx);
        Assert.Equal(0xCAFEu, c.Ecx);
        Assert.Equal(K.PerCpuSel, c.Seg(SegReg.GS).Selector);
        Assert.Equal(K.PerCpuSel, c.Seg(SegReg.ES).Selector);
        Assert.Equal(K.PerCpuBase, c.Seg(SegReg.ES).Base);
        Assert.Equal(4u, c.Edx);
        Assert.Equal(K.PerCpuSel, c.Esi);
        Assert.Equal(0xFFFF0000u | K.PerCpuSel, c.Eax); // only the low word of the slot was written
        Assert.Equal(K.Ring0StackTop, c.Esp);
        Assert.Equal(0u, k.Count);
    }

    [Fact]
    public void PopSsFaultLeavesEspUnchanged()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.push(0x23);
            a.mov(ebx, esp);
            a.Label(ref bad);
            a.pop(ss);                  // RPL 3 at CPL 0: #GP(0x20)
            a.hlt();
        });
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0x20u, k.ErrorCode);
        Assert.Equal(k.Addr(bad), k.FaultEip);
        Assert.Equal(K.Ring0StackTop - 4, k.Cpu.Ebx);
        Assert.Equal(K.KernelData, k.Cpu.Seg(SegReg.SS).Selector);
    }

    [Fact]
    public void MovCsIsUndefined()
    {
        using var k = new K(a =>
        {
            a.db(0x8E, 0xC8); // mov cs, ax
            a.hlt();
        });
        k.Run();
        Assert.Equal(6u, k.Vector);
    }

    [Fact]
    public void MovSsInhibitsInterruptsForOneInstruction()
    {
        Label afterSs = default;
        Label afterEsp = default;
        using var k = new K(a =>
        {
            afterSs = a.CreateLabel();
            afterEsp = a.CreateLabel();
            a.mov(ax, K.KernelData);
            a.sti();
            a.nop();
            a.mov(ss, ax);
            a.Label(ref afterSs);
            a.mov(esp, K.Ring0StackTop - 0x100);
            a.Label(ref afterEsp);
            a.nop();
            a.hlt();
        });
        var source = new OneShotInterrupt(0x40);
        k.Cpu.Interrupts = source;
        k.Cpu.AfterInstruction = c => source.Armed |= c.Eip == k.Addr(afterSs);
        k.Run();
        Assert.Equal(0x40u, k.Vector);
        Assert.Equal(k.Addr(afterEsp), k.FaultEip);
    }

    [Fact]
    public void RealModeLoadKeepsLimitSoUnrealModeWorks()
    {
        using var h = CpuHarness.Real16(a =>
        {
            a.lgdt(__[0x800]);
            a.mov(eax, cr0);
            a.or(al, 1);
            a.mov(cr0, eax);
            a.mov(bx, 0x10);
            a.mov(ds, bx);              // flat 4 GiB data
            a.and(al, 0xFE);
            a.mov(cr0, eax);
            a.xor(bx, bx);
            a.mov(ds, bx);              // real-mode load: base 0, the 4 GiB limit stays
            a.mov(ebx, 0x200000);
            a.mov(__dword_ptr[ebx], 0x600DF00D);
            a.mov(ecx, __dword_ptr[ebx]);
            a.hlt();
        });
        h.Memory.Write(0x800, [0x17, 0x00, 0x00, 0x09, 0x00, 0x00]);
        h.Memory.Write32(0x910, (uint)Descriptor.Build(0, 0xFFFFF, 0x93, 0xC));
        h.Memory.Write32(0x914, (uint)(Descriptor.Build(0, 0xFFFFF, 0x93, 0xC) >> 32));
        h.RunToHalt();
        Assert.Equal(0x600DF00Du, h.Cpu.Ecx);
        Assert.Equal(0x600DF00Du, h.Memory.Read32(0x200000));
        Assert.Equal(0u, h.Cpu.Seg(SegReg.DS).Base);
        Assert.Equal(0xFFFFFFFFu, h.Cpu.Seg(SegReg.DS).Limit);
    }

    [Fact]
    public void RealModeCsLoadAllowsWritesThroughCs()
    {
        using var h = CpuHarness.Real16(a =>
        {
            a.lgdt(__[0x800]);
            a.mov(eax, cr0);
            a.or(al, 1);
            a.mov(cr0, eax);
            a.jmp(0x08, 0x1100);               // protected mode: CS caches a code type
        });
        h.Load(16, 0x1100, a =>
        {
            a.mov(bx, cs);
            a.and(al, 0xFE);
            a.mov(cr0, eax);
            a.jmp(0x0000, 0x1200);             // real-mode CS load: only the limit is checked
        });
        h.Load(16, 0x1200, a =>
        {
            a.mov(ax, 0x4242);
            a.mov(__word_ptr.cs[0x600], ax);
            a.hlt();
        });
        h.Memory.Write(0x800, [0x0F, 0x00, 0x00, 0x09, 0x00, 0x00]);
        h.Memory.Write32(0x908, (uint)Descriptor.Build(0, 0xFFFF, 0x9B, 0));
        h.Memory.Write32(0x90C, (uint)(Descriptor.Build(0, 0xFFFF, 0x9B, 0) >> 32));
        h.RunToHalt();
        Assert.Equal(0x08u, h.Cpu.Ebx & 0xFFFF);
        Assert.Equal(0x4242u, h.Memory.Read32(0x600) & 0xFFFF);
        Assert.Equal(0, h.Cpu.ExceptionCounts[Vectors.GP]);
    }

    [Fact]
    public void FarJumpAndCallRetfInRealMode()
    {
        using var h = CpuHarness.Real16(a =>
        {
            a.call(0x0200, 0x0000);     // 0200:0000 = linear 0x2000
            a.mov(dx, cs);
            a.hlt();
        });
        h.Load(16, 0x2000, a =>
        {
            a.mov(cx, cs);
            a.mov(ax, 0x1234);
            a.retf();
        });
        h.RunToHalt();
        Assert.Equal(0x200u, h.Cpu.Ecx & 0xFFFF);
        Assert.Equal(0x1234u, h.Cpu.Eax & 0xFFFF);
        Assert.Equal(0u, h.Cpu.Edx & 0xFFFF);
        Assert.Equal(0x8000u, h.Cpu.Esp);
    }

    [Fact]
    public void FarJumpToNonConformingCodeOfOtherPrivilegeIsGp()
    {
        Label bad = default;
        using var k = new K(a =>
        {
            bad = a.CreateLabel();
            a.Label(ref bad);
            a.jmp(K.UserCode, 0x12345);
            a.hlt();
        });
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0x18u, k.ErrorCode);
        Assert.Equal(k.Addr(bad), k.FaultEip);
    }

    [Fact]
    public void FarJumpBeyondTargetLimitIsGp0AndNotPresentIsNp()
    {
        using var k = new K(a =>
        {
            a.jmp(0x50, 0x2000);
            a.hlt();
        });
        k.SetGdt(10, Descriptor.Build(CpuHarness.CodeBase, 0xFFF, 0x9B, 0x4));
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0u, k.ErrorCode);

        using var k2 = new K(a =>
        {
            a.jmp(0x50, 0x0);
            a.hlt();
        });
        k2.SetGdt(10, Descriptor.Build(CpuHarness.CodeBase, 0xFFF, 0x1B, 0x4));
        k2.Run();
        Assert.Equal(11u, k2.Vector);
        Assert.Equal(0x50u, k2.ErrorCode);
    }

    [Fact]
    public void FarCallToSixteenBitSegmentAndBack()
    {
        Label code16 = default;
        using var k = new K(a =>
        {
            code16 = a.CreateLabel();
            a.call(0x50, 0);                    // patched below: 16-bit code segment based at code16
            a.hlt();
            a.Label(ref code16);
            a.db(0xB8, 0x34, 0x12);            // mov ax, 0x1234 (16-bit code)
            a.db(0x66, 0xCB);                  // o32 retf
        });
        k.SetGdt(10, Descriptor.Build(k.Addr(code16), 0xFFFF, 0x9B, 0));
        k.Run();
        Assert.Equal(0x1234u, k.Cpu.Eax & 0xFFFF);
        Assert.Equal(K.KernelCode, k.Cpu.Seg(SegReg.CS).Selector);
        Assert.Equal(K.Ring0StackTop, k.Cpu.Esp);
        Assert.Equal(0u, k.Count);
    }

    [Fact]
    public void Ring3CallsRing0ThroughCallGateWithParametersAndReturns()
    {
        Label user = default;
        Label gateTarget = default;
        Label userHalt = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            gateTarget = a.CreateLabel();
            userHalt = a.CreateLabel();
            a.mov(eax, K.UserData);
            a.mov(ds, ax);               // DPL 3 data: still usable after the returns
            K.EnterRing3(a, 0);

            // ring 3
            a.Label(ref user);
            a.push(0x11111111);
            a.push(0x22222222);
            a.call(K.CallGateSel, 0);    // the offset is ignored for a gate
            a.mov(edi, esp);
            a.mov(esi, gs);
            a.mov(__word_ptr[K.Scratch], ds);
            a.Label(ref userHalt);
            a.hlt();                     // #GP(0) at CPL 3: the stub records it and halts

            // ring 0, through the gate (2 dword parameters copied)
            a.Label(ref gateTarget);
            a.mov(ax, K.KernelData);
            a.mov(gs, ax);                     // DPL 0 data: nulled when RETF goes to ring 3
            a.mov(ebx, __dword_ptr[esp + 8]);  // the second-pushed parameter
            a.mov(ecx, __dword_ptr[esp + 12]); // the first
            a.mov(edx, esp);
            a.mov(ebp, cs);
            a.retf(8);
        });
        k.SetSymbol(0, user);
        k.SetGdt(8, Descriptor.Gate(Descriptor.CallGate32, K.KernelCode, k.Addr(gateTarget), 3, paramCount: 2));
        k.Run();
        var c = k.Cpu;
        Assert.Equal(0x22222222u, c.Ebx);
        Assert.Equal(0x11111111u, c.Ecx);
        Assert.Equal(K.Ring0StackTop - 24, c.Edx);          // SS, ESP, 2 params, CS, EIP
        Assert.Equal((uint)K.KernelCode, c.Ebp);
        Assert.Equal(K.Ring3StackTop, c.Edi);                // RETF 8 released the parameters
        Assert.Equal(0u, c.Esi);                             // GS nulled on the way out
        Assert.Equal((uint)K.UserData, k.Read32(K.Scratch) & 0xFFFF);
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0u, k.ErrorCode);
        Assert.Equal(k.Addr(userHalt), k.FaultEip);
        Assert.Equal((uint)K.UserCode, k.FaultCs);
        Assert.Equal(K.Ring3StackTop, k.Read32(K.RecEsp));
        Assert.Equal((uint)K.UserData, k.Read32(K.RecSs) & 0xFFFF);
    }

    [Fact]
    public void CallGateWithDplBelowCplIsGp()
    {
        Label user = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            K.EnterRing3(a, 0);
            a.Label(ref user);
            a.call(K.CallGateSel, 0);
            a.hlt();
        });
        k.SetSymbol(0, user);
        k.SetGdt(8, Descriptor.Gate(Descriptor.CallGate32, K.KernelCode, 0, 0));
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal((uint)K.CallGateSel, k.ErrorCode);
        Assert.Equal(k.Addr(user), k.FaultEip);
    }

    [Fact]
    public void Ring3CallsConformingCodeWithoutChangingPrivilege()
    {
        Label user = default;
        Label conforming = default;
        Label userHalt = default;
        using var k = new K(a =>
        {
            user = a.CreateLabel();
            conforming = a.CreateLabel();
            userHalt = a.CreateLabel();
            K.EnterRing3(a, 0);
            a.Label(ref user);
            a.call(0x50, 0);                       // patched: conforming DPL-0 code at 'conforming'
            a.Label(ref userHalt);
            a.hlt();
            a.Label(ref conforming);
            a.mov(ebx, cs);
            a.mov(ecx, esp);
            a.retf();
        });
        k.SetGdt(10, Descriptor.Build(k.Addr(conforming), 0xFFF, 0x9E, 0x4));
        k.SetSymbol(0, user);
        k.Run();
        Assert.Equal(0x53u, k.Cpu.Ebx);               // RPL = CPL = 3
        Assert.Equal(K.Ring3StackTop - 8, k.Cpu.Ecx); // no stack switch
        Assert.Equal(13u, k.Vector);
        Assert.Equal(k.Addr(userHalt), k.FaultEip);
    }

    [Fact]
    public void CodeDecodedUnderALargerLimitStopsAtTheNewCsLimit()
    {
        Label sub = default;
        using var k = new K(a =>
        {
            sub = a.CreateLabel();
            a.call(sub);                           // decoded and run under the flat CS
            a.jmp(__fword_ptr[K.Symbol(0)]);       // 0x50:sub, the same code with CS limit = 'sub'
            a.Label(ref sub);
            a.nop();
            a.nop();
            a.ret();
        });
        k.SetGdt(10, Descriptor.Build(0, k.Addr(sub), 0x9B, 0x4));
        k.SetSymbol(0, sub);
        k.Write32(K.Symbol(1), 0x50);
        k.Run();
        Assert.Equal(13u, k.Vector);
        Assert.Equal(0u, k.ErrorCode);
        Assert.Equal(k.Addr(sub) + 1, k.FaultEip);  // the first byte beyond the limit
        Assert.Equal(0x50u, k.FaultCs);
    }

    /// <summary>An interrupt source that raises one vector once armed.</summary>
    private sealed class OneShotInterrupt(int vector) : IInterruptSource
    {
        public bool Armed;

        public bool HasPendingInterrupt => Armed;

        public int AcknowledgeInterrupt()
        {
            Armed = false;
            return vector;
        }
    }
}
