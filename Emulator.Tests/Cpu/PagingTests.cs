using Emulator.Cpu;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using K = Emulator.Tests.Cpu.SystemKernel;

namespace Emulator.Tests.Cpu;

public class PagingTests
{
    private const uint PageDirectory = 0x100000;
    private const uint PageTable = 0x101000;
    private const uint Present = 1;
    private const uint Writable = 2;
    private const uint User = 4;
    private const uint Accessed = 0x20;
    private const uint Dirty = 0x40;
    private const uint Large = 0x80;
    private const uint Memory = 16 << 20;

    /// <summary>Identity-maps the low 4 MiB with 4 KiB user-writable pages and 0xC00000 with a 4 MiB page onto 0x800000.</summary>
    private static void BuildTables(K k)
    {
        for (uint i = 0; i < 1024; i++)
        {
            k.Write32(PageTable + (4 * i), (i << 12) | Present | Writable | User);
        }

        k.Write32(PageDirectory, PageTable | Present | Writable | User);
        k.Write32(PageDirectory + (3 * 4), 0x800000 | Present | Writable | Large);
    }

    private static uint Pte(K k, uint linear) => k.Read32(PageTable + ((linear >> 12) * 4));

    private static void SetPte(K k, uint linear, uint value) => k.Write32(PageTable + ((linear >> 12) * 4), value);

    private static void EnablePaging(Assembler a, bool wp)
    {
        a.mov(eax, cr4);
        a.or(eax, Cr4Bits.PSE);
        a.mov(cr4, eax);
        a.mov(eax, PageDirectory);
        a.mov(cr3, eax);
        a.mov(eax, cr0);
        a.or(eax, Cr0Bits.PG | (wp ? Cr0Bits.WP : 0));
        a.mov(cr0, eax);
    }

    [Fact]
    public void FourKilobyteAndFourMegabytePagesSetAccessedAndDirty()
    {
        using var k = new K(
            a =>
            {
                EnablePaging(a, wp: true);
                a.mov(ebx, __dword_ptr[0x200000]);
                a.mov(__dword_ptr[0x201000], 5);
                a.mov(__dword_ptr[0xC00010], 0x4444);
                a.mov(ecx, __dword_ptr[0xC00010]);
                a.hlt();
            },
            Memory);
        BuildTables(k);
        k.Write32(0x200000, 0x1234);
        k.Run();
        var c = k.Cpu;
        Assert.Equal(0u, k.Count);
        Assert.Equal(0x1234u, c.Ebx);
        Assert.Equal(0x4444u, c.Ecx);
        Assert.Equal(0x4444u, k.Read32(0x800010));
        Assert.Equal(Accessed, Pte(k, 0x200000) & (Accessed | Dirty));
        Assert.Equal(Accessed | Dirty, Pte(k, 0x201000) & (Accessed | Dirty));
        Assert.Equal(0u, Pte(k, 0x205000) & (Accessed | Dirty));
        Assert.Equal(Accessed, k.Read32(PageDirectory) & Accessed);
        Assert.Equal(Accessed | Dirty, k.Read32(PageDirectory + 12) & (Accessed | Dirty));
        Assert.True(c.PagingEnabled);
        Assert.True(c.PageWalks > 0);
    }

    [Fact]
    public void SupervisorWriteToReadOnlyPageFaultsOnlyWithWp()
    {
        Label bad = default;
        using var k = new K(
            a =>
            {
                bad = a.CreateLabel();
                EnablePaging(a, wp: true);
                a.mov(eax, 0x77);
                a.Label(ref bad);
                a.mov(__dword_ptr[0x202010], eax);
                a.hlt();
            },
            Memory);
        BuildTables(k);
        SetPte(k, 0x202000, 0x202000 | Present | User);
        k.Run();
        Assert.Equal(14u, k.Vector);
        Assert.Equal(Present | Writable, k.ErrorCode);
        Assert.Equal(0x202010u, k.FaultCr2);
        Assert.Equal(0x202010u, k.Cpu.Cr2);
        Assert.Equal(k.Addr(bad), k.FaultEip);
        Assert.Equal(0u, k.Read32(0x202010));

        using var k2 = new K(
            a =>
            {
                EnablePaging(a, wp: false);
                a.mov(eax, 0x77);
                a.mov(__dword_ptr[0x202010], eax);
                a.hlt();
            },
            Memory);
        BuildTables(k2);
        SetPte(k2, 0x202000, 0x202000 | Present | User);
        k2.Run();
        Assert.Equal(0u, k2.Count);
        Assert.Equal(0x77u, k2.Read32(0x202010));
        Assert.Equal(Accessed | Dirty, Pte(k2, 0x202000) & (Accessed | Dirty));
    }

    [Theory]
    [InlineData(true, Present | User, Present | Writable | User)]   // write to a read-only user page
    [InlineData(false, Present | Writable, Present | User)]         // read of a supervisor page
    [InlineData(false, 0u, User)]                                   // read of a not-present page
    public void UserAccessesFaultWithTheUserBit(bool write, uint pte, uint error)
    {
        Label user = default;
        Label bad = default;
        using var k = new K(
            a =>
            {
                user = a.CreateLabel();
                bad = a.CreateLabel();
                EnablePaging(a, wp: false);
                K.EnterRing3(a, 0);
                a.Label(ref user);
                a.mov(ecx, 0x202000);
                a.Label(ref bad);
                if (write)
                {
                    a.mov(__dword_ptr[ecx], ecx);
                }
                else
                {
                    a.mov(edx, __dword_ptr[ecx]);
                }

                a.hlt();
            },
            Memory);
        BuildTables(k);
        k.SetSymbol(0, user);
        SetPte(k, 0x202000, 0x202000 | pte);
        k.Run();
        Assert.Equal(14u, k.Vector);
        Assert.Equal(error, k.ErrorCode);
        Assert.Equal(0x202000u, k.FaultCr2);
        Assert.Equal(k.Addr(bad), k.FaultEip);
        Assert.Equal((uint)K.UserCode, k.FaultCs);
    }

    [Fact]
    public void PageFaultHandlerCanFixThePageAndRestartTheInstruction()
    {
        Label handler = default;
        using var k = new K(
            a =>
            {
                handler = a.CreateLabel();
                EnablePaging(a, wp: true);
                a.mov(ebx, 0x204000);
                a.mov(eax, 0xABCD);
                a.mov(__dword_ptr[ebx + 8], eax);    // not present: the handler maps it
                a.mov(edx, __dword_ptr[ebx + 8]);
                a.hlt();

                a.Label(ref handler);
                a.push(eax);
                a.or(__dword_ptr[PageTable + (0x204 * 4)], Present);
                a.mov(eax, cr2);
                a.invlpg(__[eax]);
                a.pop(eax);
                a.iretd();
            },
            Memory);
        BuildTables(k);
        SetPte(k, 0x204000, 0x204000 | Writable);
        k.Hook(14, handler);
        k.Run();
        Assert.Equal(1u, k.Count);
        Assert.Equal(Writable, k.ErrorCode);
        Assert.Equal(0x204008u, k.FaultCr2);
        Assert.Equal(0xABCDu, k.Cpu.Edx);
        Assert.Equal(0xABCDu, k.Read32(0x204008));
    }

    [Fact]
    public void TlbKeepsAStaleMappingUntilInvlpg()
    {
        using var k = new K(
            a =>
            {
                EnablePaging(a, wp: true);
                a.mov(ebx, __dword_ptr[0x203000]);                       // fills the TLB
                a.mov(__dword_ptr[PageTable + (0x203 * 4)], 0x301000 | Present | Writable);
                a.mov(ecx, __dword_ptr[0x203000]);                       // stale translation
                a.invlpg(__[0x203000]);
                a.mov(edx, __dword_ptr[0x203000]);                       // the new page
                a.mov(eax, cr3);
                a.mov(__dword_ptr[PageTable + (0x203 * 4)], 0x302000 | Present | Writable);
                a.mov(cr3, eax);                                         // a CR3 load flushes too
                a.mov(esi, __dword_ptr[0x203000]);
                a.hlt();
            },
            Memory);
        BuildTables(k);
        k.Write32(0x203000, 0x300);
        k.Write32(0x301000, 0x301);
        k.Write32(0x302000, 0x302);
        k.Run();
        var c = k.Cpu;
        Assert.Equal(0x300u, c.Ebx);
        Assert.Equal(0x300u, c.Ecx);
        Assert.Equal(0x301u, c.Edx);
        Assert.Equal(0x302u, c.Esi);
    }

    [Fact]
    public void GlobalPagesSurviveCr3LoadsButNotPgeChanges()
    {
        const uint Global = 0x100;
        using var k = new K(
            a =>
            {
                a.mov(eax, cr4);
                a.or(eax, Cr4Bits.PGE);
                a.mov(cr4, eax);
                EnablePaging(a, wp: true);
                a.mov(eax, __dword_ptr[0x203000]);                       // fill both
                a.mov(eax, __dword_ptr[0x206000]);
                a.mov(__dword_ptr[PageTable + (0x203 * 4)], 0x301000 | Present | Writable | Global);
                a.mov(__dword_ptr[PageTable + (0x206 * 4)], 0x304000 | Present | Writable);
                a.mov(eax, cr3);
                a.mov(cr3, eax);
                a.mov(ebx, __dword_ptr[0x203000]);                       // global: still the old page
                a.mov(ecx, __dword_ptr[0x206000]);                       // not global: the new one
                a.mov(eax, cr4);
                a.and(eax, ~Cr4Bits.PGE);
                a.mov(cr4, eax);                                         // flushes global pages too
                a.mov(edx, __dword_ptr[0x203000]);
                a.hlt();
            },
            Memory);
        BuildTables(k);
        SetPte(k, 0x203000, 0x300000 | Present | Writable | Global);
        SetPte(k, 0x206000, 0x303000 | Present | Writable);
        k.Write32(0x300000, 0x300);
        k.Write32(0x301000, 0x301);
        k.Write32(0x303000, 0x303);
        k.Write32(0x304000, 0x304);
        k.Run();
        var c = k.Cpu;
        Assert.Equal(0u, k.Count);
        Assert.Equal(0x300u, c.Ebx);
        Assert.Equal(0x304u, c.Ecx);
        Assert.Equal(0x301u, c.Edx);
    }

    [Fact]
    public void Ring3CannotRunSupervisorCodeItRanBefore()
    {
        // The same linear code page run at CPL 0 and then fetched at CPL 3: the decoded-block
        // caches must not let the user fetch skip the page's U/S check.
        Label shared = default;
        Label user = default;
        using var k = new K(
            a =>
            {
                shared = a.CreateLabel();
                user = a.CreateLabel();
                EnablePaging(a, wp: true);
                a.call(shared);
                K.EnterRing3(a, 1);
                a.Label(ref user);
                a.jmp(__dword_ptr[K.Symbol(0)]);
                a.hlt();
                a.db(new byte[4096]);            // pad so 'shared' sits on its own page
                a.Label(ref shared);
                a.nop();
                a.ret();
            },
            Memory);
        BuildTables(k);
        k.SetSymbol(0, shared);
        k.SetSymbol(1, user);
        uint first = k.Addr(shared) & ~0xFFFu;
        uint last = (k.Addr(shared) + 1) & ~0xFFFu;
        for (uint p = first; p <= last; p += 0x1000)
        {
            SetPte(k, p, p | Present | Writable);    // supervisor-only
        }

        k.Run();
        Assert.Equal(14u, k.Vector);
        Assert.Equal(Present | User, k.ErrorCode);
        Assert.Equal(k.Addr(shared), k.FaultEip);
        Assert.Equal(k.Addr(shared), k.FaultCr2);
    }
}
