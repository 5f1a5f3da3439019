using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Cpu;

public class StringOpsTests
{
    private const uint Src = CpuHarness.DataBase;
    private const uint Dst = CpuHarness.DataBase + 0x8000;
    private const uint BigSrc = 0x100000;
    private const uint BigDst = 0x180000;

    private static byte[] Pattern(int n, int seed = 1)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++)
        {
            b[i] = (byte)((i * 7) + seed + (i >> 8));
        }

        return b;
    }

    private static byte[] Read(CpuHarness h, uint at, int n)
    {
        var b = new byte[n];
        h.Memory.Read(at, b);
        return b;
    }

    private static void Emit(Assembler asm, string op, int size)
    {
        switch (op, size)
        {
            case ("movs", 1): asm.movsb(); break;
            case ("movs", 2): asm.movsw(); break;
            case ("movs", 4): asm.movsd(); break;
            case ("stos", 1): asm.stosb(); break;
            case ("stos", 2): asm.stosw(); break;
            case ("stos", 4): asm.stosd(); break;
            case ("lods", 1): asm.lodsb(); break;
            case ("lods", 2): asm.lodsw(); break;
            case ("lods", 4): asm.lodsd(); break;
            case ("rep movs", 1): asm.rep.movsb(); break;
            case ("rep movs", 2): asm.rep.movsw(); break;
            case ("rep movs", 4): asm.rep.movsd(); break;
            case ("rep stos", 1): asm.rep.stosb(); break;
            case ("rep stos", 2): asm.rep.stosw(); break;
            case ("rep stos", 4): asm.rep.stosd(); break;
            default: throw new ArgumentException(op);
        }
    }

    /// <summary>What a REP MOVS does, element by element (the reference for overlapping copies).</summary>
    private static void ReferenceMovs(byte[] mem, int src, int dst, int count, int size, bool down)
    {
        int step = down ? -size : size;
        var element = new byte[size];
        for (int k = 0; k < count; k++)
        {
            Array.Copy(mem, src, element, 0, size);
            Array.Copy(element, 0, mem, dst, size);

            src += step;
            dst += step;
        }
    }

    // ------------------------------------------------------------------ MOVS

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(4, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(4, true)]
    public void MovsCopiesOneElementAndStepsBothPointersByDirection(int size, bool down)
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            if (down)
            {
                asm.std();
            }

            asm.mov(esi, Src + 4);
            asm.mov(edi, Dst + 4);
            Emit(asm, "movs", size);
            asm.hlt();
        });
        h.Memory.Write(Src, Pattern(16));
        TestSystem.RunToHlt(h);
        Assert.Equal(Pattern(16).AsSpan(4, size).ToArray(), Read(h, Dst + 4, size));
        Assert.Equal(0, Read(h, Dst + 4 + (uint)size, 4).Sum(b => b));
        uint delta = down ? (uint)-size : (uint)size;
        Assert.Equal(Src + 4 + delta, h.Cpu.Esi);
        Assert.Equal(Dst + 4 + delta, h.Cpu.Edi);
        Assert.Equal(down ? EFlags.DF : 0, h.Flags & EFlags.DF);
    }

    [Theory]
    [InlineData(1, 0u, 0u, 1)]
    [InlineData(100, 3u, 5u, 1)]
    [InlineData(4096, 0u, 0u, 1)]
    [InlineData(10000, 0xFF1u, 0x7u, 1)]
    [InlineData(2500, 0x802u, 0xFFEu, 2)]
    [InlineData(3000, 0xFFDu, 0x3u, 4)]
    [InlineData(0x10000, 0u, 0u, 4)]
    [InlineData(0x30001, 1u, 2u, 1)]
    public void RepMovsCopiesLikeMemcpy(int count, uint srcOffset, uint dstOffset, int size)
    {
        uint src = BigSrc + srcOffset;
        uint dst = BigDst + dstOffset;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.cld();
            asm.mov(esi, src);
            asm.mov(edi, dst);
            asm.mov(ecx, (uint)count);
            Emit(asm, "rep movs", size);
            asm.hlt();
        });
        int bytes = count * size;
        var data = Pattern(bytes + 64, 3);
        h.Memory.Write(src, data);
        TestSystem.RunToHlt(h);
        Assert.Equal(data.AsSpan(0, bytes).ToArray(), Read(h, dst, bytes));
        Assert.Equal(new byte[16], Read(h, dst + (uint)bytes, 16));
        Assert.Equal(0u, h.Cpu.Ecx);
        Assert.Equal(src + (uint)bytes, h.Cpu.Esi);
        Assert.Equal(dst + (uint)bytes, h.Cpu.Edi);
    }

    [Fact]
    public void CompilerStyleMemcpyDwordsThenTailBytes()
    {
        const int n = 12345;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, BigSrc + 1);
            asm.mov(edi, BigDst + 2);
            asm.mov(ecx, (uint)n);
            asm.mov(edx, ecx);
            asm.mov(ecx, (uint)n / 4);
            asm.rep.movsd();
            asm.mov(ecx, edx);
            asm.and(ecx, 3);
            asm.rep.movsb();
            asm.hlt();
        });
        var data = Pattern(n, 9);
        h.Memory.Write(BigSrc + 1, data);
        TestSystem.RunToHlt(h);
        Assert.Equal(data, Read(h, BigDst + 2, n));
        Assert.Equal(0, h.Memory.Read8(BigDst + 2 + n));
    }

    [Theory]
    [InlineData(1, 1, 100, false)]
    [InlineData(1, 3, 5000, false)]
    [InlineData(2, 1, 300, false)]
    [InlineData(4, 2, 2000, false)]
    [InlineData(4, 6, 2000, false)]
    [InlineData(1, -1, 100, false)]
    [InlineData(4, -3, 3000, false)]
    [InlineData(1, 1, 100, true)]
    [InlineData(4, 2, 2000, true)]
    [InlineData(2, -1, 700, true)]
    public void OverlappingRepMovsBehavesElementByElement(int size, int distance, int count, bool down)
    {
        // Source in the middle of a 64 KiB window; down-copies start at the last element.
        int srcIdx = 0x8000;
        int dstIdx = srcIdx + distance;
        int bytes = count * size;
        int startSrc = down ? srcIdx + bytes - size : srcIdx;
        int startDst = down ? dstIdx + bytes - size : dstIdx;
        using var h = CpuHarness.Flat32(asm =>
        {
            if (down)
            {
                asm.std();
            }

            asm.mov(esi, BigSrc + (uint)startSrc);
            asm.mov(edi, BigSrc + (uint)startDst);
            asm.mov(ecx, (uint)count);
            Emit(asm, "rep movs", size);
            asm.hlt();
        });
        var window = Pattern(0x10000, 5);
        h.Memory.Write(BigSrc, window);
        var expected = (byte[])window.Clone();
        ReferenceMovs(expected, startSrc, startDst, count, size, down);
        TestSystem.RunToHlt(h);
        Assert.Equal(expected, Read(h, BigSrc, 0x10000));
        int step = down ? -size : size;
        Assert.Equal(BigSrc + (uint)(startSrc + (count * step)), h.Cpu.Esi);
        Assert.Equal(BigSrc + (uint)(startDst + (count * step)), h.Cpu.Edi);
    }

    [Fact]
    public void RepMovsbWithEdiOneAboveEsiReplicatesTheFirstByte()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, Src);
            asm.mov(edi, Src + 1);
            asm.mov(ecx, 9000);
            asm.rep.movsb();
            asm.hlt();
        });
        h.Memory.Write8(Src, 0xAB);
        TestSystem.RunToHlt(h);
        Assert.All(Read(h, Src, 9001), b => Assert.Equal(0xAB, b));
    }

    // ------------------------------------------------------------------ STOS

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(4, false)]
    [InlineData(1, true)]
    [InlineData(4, true)]
    public void StosStoresOneElementOfEax(int size, bool down)
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            if (down)
            {
                asm.std();
            }

            asm.mov(eax, 0x44332211);
            asm.mov(edi, Dst + 8);
            Emit(asm, "stos", size);
            asm.hlt();
        });
        TestSystem.RunToHlt(h);
        var expected = new byte[] { 0x11, 0x22, 0x33, 0x44 }.AsSpan(0, size).ToArray();
        Assert.Equal(expected, Read(h, Dst + 8, size));
        Assert.Equal(0u, h.Memory.Read8(Dst + 8 + (uint)size));
        Assert.Equal(0u, h.Memory.Read8(Dst + 7));
        Assert.Equal(Dst + 8 + (down ? (uint)-size : (uint)size), h.Cpu.Edi);
    }

    [Theory]
    [InlineData(1, 1, 0u)]
    [InlineData(1, 5000, 0xFFFu)]
    [InlineData(2, 3000, 0x7FFu)]
    [InlineData(4, 1024, 0u)]
    [InlineData(4, 0x20000, 2u)]
    [InlineData(1, 0x50000, 0u)]
    public void RepStosFillsLikeMemset(int size, int count, uint offset)
    {
        uint dst = BigDst + offset;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 0xA1B2C3D4);
            asm.mov(edi, dst);
            asm.mov(ecx, (uint)count);
            Emit(asm, "rep stos", size);
            asm.hlt();
        });
        h.Memory.Fill(BigDst - 16, offset + (uint)(count * size) + 64, 0x77);
        TestSystem.RunToHlt(h);
        int bytes = count * size;
        var got = Read(h, dst, bytes);
        var unit = new byte[] { 0xD4, 0xC3, 0xB2, 0xA1 };
        for (int i = 0; i < bytes; i++)
        {
            if (got[i] != unit[i % size])
            {
                Assert.Fail($"byte {i}: 0x{got[i]:x2}, expected 0x{unit[i % size]:x2}");
            }
        }

        Assert.Equal(0x77, h.Memory.Read8(dst - 1));
        Assert.Equal(0x77, h.Memory.Read8(dst + (uint)bytes));
        Assert.Equal(0u, h.Cpu.Ecx);
        Assert.Equal(dst + (uint)bytes, h.Cpu.Edi);
    }

    [Fact]
    public void RepStosdDownwardsFillsBelowEdi()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.std();
            asm.mov(eax, 0x01020304);
            asm.mov(edi, Dst + 0x2000);
            asm.mov(ecx, 0x900);
            asm.rep.stosd();
            asm.hlt();
        });
        TestSystem.RunToHlt(h);
        Assert.Equal(0x01020304u, h.Memory.Read32(Dst + 0x2000));
        Assert.Equal(0x01020304u, h.Memory.Read32(Dst + 0x2000 - (0x8FF * 4)));
        Assert.Equal(0u, h.Memory.Read32(Dst + 0x2000 - (0x900 * 4)));
        Assert.Equal(0u, h.Memory.Read32(Dst + 0x2004));
        Assert.Equal(Dst + 0x2000 - (0x900 * 4), h.Cpu.Edi);
    }

    // ------------------------------------------------------------------ ECX = 0

    [Fact]
    public void RepWithZeroCountDoesNothing()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, Src);
            asm.mov(edi, Dst);
            asm.xor(ecx, ecx);
            asm.mov(eax, 0x55);
            asm.cmp(eax, 0x56); // CF = 1, SF = 1, ZF = 0 must survive the compares
            asm.rep.movsb();
            asm.rep.stosd();
            asm.rep.lodsb();
            asm.repe.cmpsb();
            asm.repne.scasb();
            asm.hlt();
        });
        h.Memory.Write(Src, Pattern(16));
        TestSystem.RunToHlt(h);
        Assert.Equal(Src, h.Cpu.Esi);
        Assert.Equal(Dst, h.Cpu.Edi);
        Assert.Equal(0x55u, h.Cpu.Eax);
        Assert.Equal(new byte[16], Read(h, Dst, 16));
        Assert.Equal(EFlags.CF | EFlags.SF, h.Flags & (EFlags.CF | EFlags.ZF | EFlags.SF));
    }

    // ------------------------------------------------------------------ CMPS / SCAS

    [Fact]
    public void RepeCmpsbStopsAfterTheFirstDifference()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, Src);
            asm.mov(edi, Dst);
            asm.mov(ecx, 10);
            asm.repe.cmpsb();
            asm.hlt();
        });
        h.Memory.Write(Src, "hello\x10xyzw"u8.ToArray());
        h.Memory.Write(Dst, "hello\x20xyzw"u8.ToArray());
        TestSystem.RunToHlt(h);
        Assert.Equal(4u, h.Cpu.Ecx);
        Assert.Equal(Src + 6, h.Cpu.Esi);
        Assert.Equal(Dst + 6, h.Cpu.Edi);
        Assert.Equal(EFlags.CF | EFlags.SF, h.Flags & (EFlags.CF | EFlags.ZF | EFlags.SF | EFlags.OF));
    }

    [Fact]
    public void RepeCmpsdOverEqualBuffersRunsOutWithZfSet()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, BigSrc);
            asm.mov(edi, BigDst);
            asm.mov(ecx, 5000);
            asm.repe.cmpsd();
            asm.hlt();
        });
        var data = Pattern(20000);
        h.Memory.Write(BigSrc, data);
        h.Memory.Write(BigDst, data);
        TestSystem.RunToHlt(h);
        Assert.Equal(0u, h.Cpu.Ecx);
        Assert.Equal(BigSrc + 20000, h.Cpu.Esi);
        Assert.Equal(EFlags.ZF, h.Flags & (EFlags.ZF | EFlags.CF));
    }

    [Fact]
    public void RepneCmpswStopsAtTheFirstEqualPair()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, Src);
            asm.mov(edi, Dst);
            asm.mov(ecx, 8);
            asm.repne.cmpsw();
            asm.hlt();
        });
        h.Memory.Write(Src, new byte[] { 1, 0, 2, 0, 3, 0, 9, 9, 5, 0 });
        h.Memory.Write(Dst, new byte[] { 2, 0, 3, 0, 4, 0, 9, 9, 5, 0 });
        TestSystem.RunToHlt(h);
        Assert.Equal(4u, h.Cpu.Ecx);
        Assert.Equal(Src + 8, h.Cpu.Esi);
        Assert.Equal(Dst + 8, h.Cpu.Edi);
        Assert.Equal(EFlags.ZF, h.Flags & EFlags.ZF);
    }

    [Fact]
    public void CmpsComparesSourceMinusDestinationWithSegmentOverride()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, 0x100);
            asm.mov(edi, Dst);
            asm.db(0x64, 0xA7); // cmpsd with FS: source
            asm.hlt();
        });
        h.Cpu.Seg(SegReg.FS) = TestSystem.DataSegment(BigSrc, 0xFFFF);
        h.Memory.Write32(BigSrc + 0x100, 0x80000000);
        h.Memory.Write32(Dst, 1);
        TestSystem.RunToHlt(h);
        // 0x80000000 - 1 = 0x7FFFFFFF: signed overflow, no borrow.
        Assert.Equal(EFlags.OF, h.Flags & (EFlags.OF | EFlags.CF | EFlags.ZF | EFlags.SF));
        Assert.Equal(0x104u, h.Cpu.Esi);
        Assert.Equal(Dst + 4, h.Cpu.Edi);
    }

    [Fact]
    public void RepneScasbMeasuresAString()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(edi, Src);
            asm.xor(eax, eax);
            asm.mov(ecx, 0xFFFFFFFF);
            asm.repne.scasb();
            asm.setne(bl); // ZF = 1: stopped on the terminator, not on the count
            asm.not(ecx);
            asm.dec(ecx);
            asm.hlt();
        });
        h.Memory.Write(Src, "hello, world\0junk"u8.ToArray());
        TestSystem.RunToHlt(h);
        Assert.Equal(12u, h.Cpu.Ecx);
        Assert.Equal(Src + 13, h.Cpu.Edi);
        Assert.Equal(0u, h.Cpu.Ebx & 0xFF);
    }

    [Fact]
    public void RepeScasdStopsAtTheFirstDifferentDword()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(edi, Src);
            asm.mov(eax, 0x12345678);
            asm.mov(ecx, 10);
            asm.repe.scasd();
            asm.hlt();
        });
        for (uint i = 0; i < 3; i++)
        {
            h.Memory.Write32(Src + (i * 4), 0x12345678);
        }

        h.Memory.Write32(Src + 12, 0x12345679);
        TestSystem.RunToHlt(h);
        Assert.Equal(6u, h.Cpu.Ecx);
        Assert.Equal(Src + 16, h.Cpu.Edi);
        Assert.Equal(EFlags.CF | EFlags.SF, h.Flags & (EFlags.CF | EFlags.ZF | EFlags.SF));
    }

    [Fact]
    public void ScaswDownwardsUsesEsAndIgnoresTheOverride()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.std();
            asm.mov(edi, 0x10);
            asm.mov(eax, 0xBEEF);
            asm.db(0x66, 0x64, 0xAF); // fs scasw: the prefix does not apply to ES:EDI
            asm.hlt();
        });
        h.Cpu.Seg(SegReg.ES) = TestSystem.DataSegment(BigSrc, 0xFFFF);
        h.Cpu.Seg(SegReg.FS) = TestSystem.DataSegment(BigDst, 0xFFFF);
        h.Memory.Write16(BigSrc + 0x10, 0xBEEF);
        h.Memory.Write16(BigDst + 0x10, 0x1111);
        TestSystem.RunToHlt(h);
        Assert.Equal(EFlags.ZF, h.Flags & EFlags.ZF);
        Assert.Equal(0xEu, h.Cpu.Edi);
    }

    // ------------------------------------------------------------------ LODS

    [Theory]
    [InlineData(1, 0xFFFFFF01u)]
    [InlineData(2, 0xFFFF0201u)]
    [InlineData(4, 0x04030201u)]
    public void LodsLoadsTheAccumulatorOnly(int size, uint expected)
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 0xFFFFFFFF);
            asm.mov(esi, Src);
            Emit(asm, "lods", size);
            asm.hlt();
        });
        h.Memory.Write(Src, new byte[] { 1, 2, 3, 4 });
        TestSystem.RunToHlt(h);
        Assert.Equal(expected, h.Cpu.Eax);
        Assert.Equal(Src + (uint)size, h.Cpu.Esi);
    }

    [Fact]
    public void RepLodsbLeavesTheLastByte()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, Src);
            asm.mov(ecx, 5000);
            asm.rep.lodsb();
            asm.hlt();
        });
        h.Memory.Write(Src, Pattern(5000));
        TestSystem.RunToHlt(h);
        Assert.Equal(Pattern(5000)[4999], (byte)h.Cpu.Eax);
        Assert.Equal(Src + 5000, h.Cpu.Esi);
        Assert.Equal(0u, h.Cpu.Ecx);
    }

    // ------------------------------------------------------------------ INS / OUTS

    [Fact]
    public void RepOutsbSendsBytesFromDsEsiToDx()
    {
        var port = new RecordingPort();
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, Src);
            asm.mov(edx, 0x3F8);
            asm.mov(ecx, 5);
            asm.rep.outsb();
            asm.outsw();
            asm.outsd();
            asm.hlt();
        });
        h.Io.Register(0x3F8, 1, port);
        h.Memory.Write(Src, "hello\x01\x02\x03\x04\x05\x06"u8.ToArray());
        TestSystem.RunToHlt(h);
        var expected = new (int, int, uint)[]
        {
            (0x3F8, 1, 'h'), (0x3F8, 1, 'e'), (0x3F8, 1, 'l'), (0x3F8, 1, 'l'), (0x3F8, 1, 'o'), (0x3F8, 2, 0x0201), (0x3F8, 4, 0x06050403),
        };
        Assert.Equal(expected, port.Writes.Select(w => ((int)w.Port, w.Size, w.Value)).ToArray());
        Assert.Equal(Src + 11, h.Cpu.Esi);
    }

    [Fact]
    public void RepInswStoresPortDataAtEsEdi()
    {
        var port = new RecordingPort();
        foreach (uint v in new uint[] { 0x1111, 0x2222, 0x3333, 0x44444444 })
        {
            port.Reads.Enqueue(v);
        }

        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(edi, Dst);
            asm.mov(edx, 0x1F0);
            asm.mov(ecx, 3);
            asm.rep.insw();
            asm.insd();
            asm.hlt();
        });
        h.Io.Register(0x1F0, 1, port);
        TestSystem.RunToHlt(h);
        Assert.Equal(new byte[] { 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x44, 0x44, 0 }, Read(h, Dst, 11));
        Assert.Equal(Dst + 10, h.Cpu.Edi);
        Assert.Equal(0u, h.Cpu.Ecx);
    }

    [Fact]
    public void InsbThatFaultsDoesNotConsumePortData()
    {
        var port = new RecordingPort();
        port.Reads.Enqueue(0x5A);
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(edi, 0x1000);
            asm.mov(edx, 0x60);
            asm.insb();
            asm.hlt();
        });
        TestSystem.InstallFaultHandlers(h);
        h.Cpu.Seg(SegReg.ES) = TestSystem.DataSegment(BigDst, 0xFFF);
        h.Io.Register(0x60, 1, port);
        TestSystem.RunToHlt(h);
        Assert.Equal(1L, h.Cpu.ExceptionCounts[Vectors.GP]);
        Assert.Single(port.Reads);
        Assert.Equal(0x1000u, h.Cpu.Edi);
    }

    // ------------------------------------------------------------------ segments and address size

    [Fact]
    public void SegmentOverrideAppliesToTheSourceButNeverToEsEdi()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, 0x10);
            asm.mov(edi, 0x20);
            asm.mov(ecx, 0x1800);
            asm.db(0x64, 0xF3, 0xA4); // rep movsb with FS: source
            asm.mov(al, 0x99);
            asm.db(0x64, 0xAA); // fs stosb still writes ES:EDI
            asm.hlt();
        });
        h.Cpu.Seg(SegReg.FS) = TestSystem.DataSegment(BigSrc, 0xFFFFF);
        h.Cpu.Seg(SegReg.ES) = TestSystem.DataSegment(BigDst, 0xFFFFF);
        var data = Pattern(0x1800);
        h.Memory.Write(BigSrc + 0x10, data);
        TestSystem.RunToHlt(h);
        Assert.Equal(data, Read(h, BigDst + 0x20, 0x1800));
        Assert.Equal(0x99, h.Memory.Read8(BigDst + 0x1820));
        Assert.Equal(0, h.Memory.Read8(BigSrc + 0x1820));
        Assert.Equal(0, h.Memory.Read8(0x1820));
    }

    [Fact]
    public void RealModeRepMovsbUsesCxSiDiAndKeepsTheUpperHalves()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.mov(esi, 0xABCD0100);
            asm.mov(edi, 0x12340200);
            asm.mov(ecx, 0x77770300);
            asm.rep.movsb();
            asm.hlt();
        });
        h.Cpu.Seg(SegReg.DS) = SegmentCache.RealModeData(0x2000);
        h.Cpu.Seg(SegReg.ES) = SegmentCache.RealModeData(0x3000);
        var data = Pattern(0x300);
        h.Memory.Write(0x20100, data);
        TestSystem.RunToHlt(h);
        Assert.Equal(data, Read(h, 0x30200, 0x300));
        Assert.Equal(0xABCD0400u, h.Cpu.Esi);
        Assert.Equal(0x12340500u, h.Cpu.Edi);
        Assert.Equal(0x77770000u, h.Cpu.Ecx);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SixteenBitDiWrapsWithinTheSegment(bool down)
    {
        using var h = CpuHarness.Real16(asm =>
        {
            if (down)
            {
                asm.std();
                asm.mov(di, 0x0002);
            }
            else
            {
                asm.mov(di, 0xFFFC);
            }

            asm.mov(ax, 0xBEEF);
            asm.mov(cx, 4);
            asm.rep.stosw();
            asm.hlt();
        });
        h.Cpu.Seg(SegReg.ES) = SegmentCache.RealModeData(0x3000);
        TestSystem.RunToHlt(h);
        foreach (uint off in new uint[] { 0xFFFC, 0xFFFE, 0x0000, 0x0002 })
        {
            Assert.Equal(0xBEEF, h.Memory.Read16(0x30000 + off));
        }

        Assert.Equal(0, h.Memory.Read16(0x40000));
        Assert.Equal(down ? 0xFFFAu : 0x0004u, h.Cpu.Edi & 0xFFFF);
        Assert.Equal(0u, h.Cpu.Ecx & 0xFFFF);
    }

    [Fact]
    public void AddressSizePrefixIn32BitCodeSelectsSiDiCx()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, 0xABCD4000);
            asm.mov(edi, 0x1234FFFE);
            asm.mov(ecx, 0x00010004);
            asm.db(0x67, 0xF3, 0xA4); // a16 rep movsb
            asm.hlt();
        });
        h.Memory.Write(0x4000, new byte[] { 1, 2, 3, 4 });
        TestSystem.RunToHlt(h);
        Assert.Equal(new byte[] { 1, 2 }, Read(h, 0xFFFE, 2));
        Assert.Equal(new byte[] { 3, 4 }, Read(h, 0x0000, 2));
        Assert.Equal(0xABCD4004u, h.Cpu.Esi);
        Assert.Equal(0x12340002u, h.Cpu.Edi);
        Assert.Equal(0x00010000u, h.Cpu.Ecx);
    }

    // ------------------------------------------------------------------ faults and restarts

    [Fact]
    public void SegmentLimitFaultMidRepStosLeavesProgressAndRestartsExactly()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 0xCAFEF00D);
            asm.mov(edi, 0x28000);
            asm.mov(ecx, 0x800);
            asm.rep.stosd();
            asm.hlt();
        });
        TestSystem.InstallFaultHandlers(h);
        h.Cpu.Seg(SegReg.ES) = TestSystem.DataSegment(0, 0x28FFF);
        TestSystem.RunToHlt(h);
        Assert.Equal(TestSystem.FaultHandler + 1, h.Cpu.Eip);
        Assert.Equal(1L, h.Cpu.ExceptionCounts[Vectors.GP]);
        Assert.Equal(0x400u, h.Cpu.Ecx);
        Assert.Equal(0x29000u, h.Cpu.Edi);
        uint faultEip = h.Memory.Read32(h.Cpu.Esp + 4);
        Assert.Equal(new byte[] { 0xF3, 0xAB }, Read(h, faultEip, 2));
        Assert.Equal(0u, h.Memory.Read32(0x29000));

        h.Cpu.Seg(SegReg.ES) = TestSystem.DataSegment(0, 0xFFFFFFFF);
        TestSystem.ReturnFromFault32(h, errorCode: true);
        TestSystem.RunToHlt(h);
        Assert.Equal(0u, h.Cpu.Ecx);
        Assert.Equal(0x2A000u, h.Cpu.Edi);
        for (uint a = 0x28000; a < 0x2A000; a += 4)
        {
            Assert.Equal(0xCAFEF00Du, h.Memory.Read32(a));
        }

        Assert.Equal(0u, h.Memory.Read32(0x2A000));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PageFaultMidRepMovsbLeavesProgressAndRestartsExactly(bool sourceFaults)
    {
        const uint hole = 0x300000;
        uint src = sourceFaults ? hole - 0x1000 : 0x200000;
        uint dst = sourceFaults ? 0x200000 : hole - 0x1000;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, src + 0x10);
            asm.mov(edi, dst + 0x10);
            asm.mov(ecx, 0x3000);
            asm.rep.movsb();
            asm.hlt();
        });
        TestSystem.InstallFaultHandlers(h);
        TestSystem.EnablePaging(h);
        TestSystem.Map(h, hole, hole, flags: 0);
        var data = Pattern(0x3000, 4);
        h.Memory.Write(src + 0x10, data);
        TestSystem.RunToHlt(h);
        Assert.Equal(1L, h.Cpu.ExceptionCounts[Vectors.PF]);
        Assert.Equal(hole, h.Cpu.Cr2);
        Assert.Equal(sourceFaults ? 0u : 2u, h.Memory.Read32(h.Cpu.Esp)); // error code: not present, read/write
        Assert.Equal(0x3000u - 0xFF0, h.Cpu.Ecx);
        Assert.Equal(src + 0x1000, h.Cpu.Esi);
        Assert.Equal(dst + 0x1000, h.Cpu.Edi);

        TestSystem.Map(h, hole, hole);
        TestSystem.ReturnFromFault32(h, errorCode: true);
        TestSystem.RunToHlt(h);
        Assert.Equal(0u, h.Cpu.Ecx);
        Assert.Equal(data, Read(h, dst + 0x10, 0x3000));
    }

    [Fact]
    public void RealModeFaultMidRepPushesTheInstructionAddress()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.mov(edi, 0xFFF0);
            asm.mov(ecx, 0x20);
            asm.mov(al, 0x3C);
            asm.db(0x67, 0xF3, 0xAA); // a32 rep stosb: offsets above 0xFFFF break the real-mode limit
            asm.hlt();
        });
        TestSystem.InstallRealModeFaultHandlers(h);
        TestSystem.RunToHlt(h);
        Assert.Equal(1L, h.Cpu.ExceptionCounts[Vectors.GP]);
        Assert.Equal(0x10u, h.Cpu.Ecx);
        Assert.Equal(0x10000u, h.Cpu.Edi);
        ushort ip = h.Memory.Read16(0x8000 - 6);
        Assert.Equal(new byte[] { 0x67, 0xF3, 0xAA }, Read(h, ip, 3));
        Assert.All(Read(h, 0xFFF0, 16), b => Assert.Equal(0x3C, b));
        Assert.Equal(0, h.Memory.Read8(0x10000)); // nothing beyond the limit
    }

    [Fact]
    public void LongRepIsChunkedSoInterruptsGetIn()
    {
        const uint count = 0x100000;
        var irq = new TestInterrupts { Pending = true };
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(edi, BigSrc);
            asm.mov(ecx, count);
            asm.mov(al, 0x5A);
            asm.sti();
            asm.rep.stosb();
            asm.hlt();
        });
        TestSystem.InstallFaultHandlers(h);
        h.Cpu.Interrupts = irq;
        TestSystem.RunToHlt(h);

        // The interrupt arrived between two chunks: EIP pushed at the REP, progress kept.
        Assert.False(irq.Pending);
        uint pushedEip = h.Memory.Read32(h.Cpu.Esp);
        Assert.Equal(new byte[] { 0xF3, 0xAA }, Read(h, pushedEip, 2));
        uint done = h.Cpu.Edi - BigSrc;
        Assert.InRange(done, 1u, count - 1);
        Assert.Equal(count - done, h.Cpu.Ecx);

        TestSystem.ReturnFromFault32(h, errorCode: false);
        TestSystem.RunToHlt(h);
        Assert.Equal(0u, h.Cpu.Ecx);
        Assert.True(Read(h, BigSrc, (int)count).All(b => b == 0x5A));
        Assert.Equal(0, h.Memory.Read8(BigSrc + count));
    }

    [Fact]
    public void RepInstructionRetiresInBoundedChunks()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, BigSrc);
            asm.mov(edi, BigDst);
            asm.mov(ecx, 0x40000);
            asm.rep.movsb();
            asm.hlt();
        });
        h.Cpu.Run(long.MaxValue, instructionLimit: 4);
        Assert.Equal(RunState.Running, h.Cpu.State);
        Assert.InRange(h.Cpu.Ecx, 1u, 0x40000u - 1);
        Assert.Equal(0x40000u, h.Cpu.Ecx + (h.Cpu.Edi - BigDst));
        Assert.Equal(new byte[] { 0xF3, 0xA4 }, Read(h, h.Cpu.Eip, 2));
        TestSystem.RunToHlt(h);
        Assert.Equal(0u, h.Cpu.Ecx);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MemcpyBetweenPagesSharingATlbSlotStaysOnTheFastPath(bool paging)
    {
        // 0x200000 and 0x300000 use the same slot of the direct-mapped TLBs. A copy between them
        // must not make the read and write fills evict each other on every byte, which would
        // push REP MOVSB onto the element-by-element path: that path re-enters the instruction
        // every MaxIterations bytes, the bulk path only every MaxFastBytes.
        const int n = 0x10000;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(esi, 0x200000);
            asm.mov(edi, 0x300000);
            asm.mov(ecx, n);
            asm.rep.movsb();
            asm.hlt();
        });
        if (paging)
        {
            TestSystem.EnablePaging(h);
        }

        var data = Pattern(n, 2);
        h.Memory.Write(0x200000, data);
        TestSystem.RunToHlt(h);
        Assert.Equal(data, Read(h, 0x300000, n));
        Assert.InRange(h.Cpu.Instructions, 5, 4 + (n / Emulator.Cpu.Execute.StringOps.MaxFastBytes) + 1);
        if (paging)
        {
            Assert.InRange(h.Cpu.PageWalks, 0, 200);
        }
    }

    private sealed class TestInterrupts : IInterruptSource
    {
        public bool Pending;

        public bool HasPendingInterrupt => Pending;

        public int AcknowledgeInterrupt()
        {
            Pending = false;
            return 0x20;
        }
    }
}
