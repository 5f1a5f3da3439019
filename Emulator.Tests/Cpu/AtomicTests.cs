using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Cpu;

/// <summary>CMPXCHG, CMPXCHG8B and XADD: results, every flag, LOCK, and faulting write-backs.</summary>
public class AtomicTests
{
    private const uint Arith = RefFlags.Arith;
    private const uint Scratch = 0x1F0000;

    private static readonly uint[] Values =
    [
        0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x12345678, 0xA5A5A5A5,
    ];

    public static TheoryData<string, int, bool> Forms()
    {
        var d = new TheoryData<string, int, bool>();
        foreach (string op in new[] { "cmpxchg", "xadd" })
        {
            foreach (int bits in new[] { 8, 16, 32 })
            {
                d.Add(op, bits, false);
                d.Add(op, bits, true);
            }
        }

        return d;
    }

    /// <summary>EAX is the accumulator, EDX (or a memory dword) the destination, EBX the source.</summary>
    [Theory]
    [MemberData(nameof(Forms))]
    public void CompareExchangeAndExchangeAddMatchTheirDefinitions(string op, int bits, bool memory)
    {
        var cases = new List<(uint Acc, uint Dst, uint Src)>();
        foreach (uint a in Values)
        {
            foreach (uint d in Values)
            {
                cases.Add((a, d, ~d ^ a));
            }

            // Equal in the low bits only, so the compare must look at the operand size alone.
            cases.Add((a, a ^ (0xFFFFFF00 & ~RefFlags.Mask(bits)), 0x0BADF00D));
        }

        using var h = CpuHarness.Flat32(asm =>
        {
            for (int i = 0; i < cases.Count; i++)
            {
                var (a, d, s) = cases[i];
                ShiftTests.SetFlags(asm, i % 2 == 0 ? 0 : Arith);
                asm.mov(eax, a);
                asm.mov(edx, d);
                asm.mov(ebx, s);
                if (memory)
                {
                    asm.mov(__dword_ptr[Scratch], edx);
                }

                Emit(asm, op, bits, memory);
                if (memory)
                {
                    asm.mov(edx, __dword_ptr[Scratch]);
                }

                uint at = ShiftTests.Results + (uint)(i * 16);
                asm.mov(__dword_ptr[at], eax);
                asm.mov(__dword_ptr[at + 4], edx);
                asm.mov(__dword_ptr[at + 8], ebx);
                asm.lahf();
                asm.seto(al);
                asm.mov(__word_ptr[at + 12], ax);
            }

            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(RunState.Halted, h.Cpu.State);

        uint mask = RefFlags.Mask(bits);
        for (int i = 0; i < cases.Count; i++)
        {
            var (a, d, s) = cases[i];
            uint eaxOut = a;
            uint dstOut = d;
            uint srcOut = s;
            uint flags;
            if (op == "cmpxchg")
            {
                flags = RefFlags.Sub(a, d, bits);
                if ((a & mask) == (d & mask))
                {
                    dstOut = (d & ~mask) | (s & mask);
                }
                else
                {
                    eaxOut = (a & ~mask) | (d & mask);
                }
            }
            else
            {
                flags = RefFlags.Add(d, s, bits);
                dstOut = (d & ~mask) | ((d + s) & mask);
                srcOut = (s & ~mask) | (d & mask);
            }

            uint at = ShiftTests.Results + (uint)(i * 16);
            uint fw = h.Memory.Read16(at + 12);
            uint flagsOut = ((fw >> 8) & 0xD5) | ((fw & 1) != 0 ? EFlags.OF : 0);
            string what = $"{op} {bits}-bit {(memory ? "memory" : "register")} acc 0x{a:x} dst 0x{d:x} src 0x{s:x}";
            Assert.True(eaxOut == h.Memory.Read32(at), $"{what}: eax 0x{h.Memory.Read32(at):x}, expected 0x{eaxOut:x}");
            Assert.True(dstOut == h.Memory.Read32(at + 4), $"{what}: dst 0x{h.Memory.Read32(at + 4):x}, expected 0x{dstOut:x}");
            Assert.True(srcOut == h.Memory.Read32(at + 8), $"{what}: src 0x{h.Memory.Read32(at + 8):x}, expected 0x{srcOut:x}");
            Assert.True(flags == flagsOut, $"{what}: flags {RefFlags.Describe(flagsOut)}, expected {RefFlags.Describe(flags)}");
        }
    }

    [Fact]
    public void OperandsThatShareARegister()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 5);
            asm.mov(ecx, 9);
            asm.cmpxchg(eax, ecx); // destination is the accumulator: always equal, EAX = ECX
            asm.mov(esi, eax);
            asm.mov(edx, 3);
            asm.xadd(edx, edx); // the sum wins: EDX = 6
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(9u, h.Cpu.Esi);
        Assert.Equal(6u, h.Cpu.Edx);
        Assert.Equal(RefFlags.Add(3, 3, 32), h.Flags & Arith);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Cmpxchg8bExchangesOrLoadsTheQuadword(bool equal)
    {
        uint d = CpuHarness.DataBase;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(__dword_ptr[d], 0x11111111);
            asm.mov(__dword_ptr[d + 4], 0x22222222);
            asm.mov(eax, equal ? 0x11111111u : 0x11111112u);
            asm.mov(edx, 0x22222222);
            asm.mov(ebx, 0x33333333);
            asm.mov(ecx, 0x44444444);
            asm.mov(esi, 0x7F);
            asm.add(esi, 0x7FFFFF81); // OF, SF, AF, PF set; ZF, CF clear
            asm.stc();
            asm.@lock.cmpxchg8b(__qword_ptr[d]);
            asm.hlt();
        });
        h.RunToHalt();

        uint before = EFlags.OF | EFlags.SF | EFlags.AF | EFlags.PF | EFlags.CF;
        if (equal)
        {
            Assert.Equal(0x33333333u, h.Memory.Read32(d));
            Assert.Equal(0x44444444u, h.Memory.Read32(d + 4));
            Assert.Equal(0x11111111u, h.Cpu.Eax);
            Assert.Equal(before | EFlags.ZF, h.Flags & Arith);
        }
        else
        {
            Assert.Equal(0x11111111u, h.Memory.Read32(d));
            Assert.Equal(0x22222222u, h.Memory.Read32(d + 4));
            Assert.Equal(0x11111111u, h.Cpu.Eax);
            Assert.Equal(0x22222222u, h.Cpu.Edx);
            Assert.Equal(before, h.Flags & Arith);
        }

        Assert.Equal(0x33333333u, h.Cpu.Ebx);
        Assert.Equal(0x44444444u, h.Cpu.Ecx);
    }

    /// <summary>A failing compare still writes the destination back, so a read-only destination faults.</summary>
    [Theory]
    [InlineData("cmpxchg8b")]
    [InlineData("cmpxchg")]
    public void FailingCompareOnReadOnlyMemoryStillFaults(string op)
    {
        uint d = CpuHarness.DataBase;
        using var h = ExceptionHarness.Flat32(
            (Assembler asm, ref Label mark) =>
            {
                asm.mov(__dword_ptr[d], 0x11111111);
                asm.mov(__dword_ptr[d + 4], 0x22222222);
                asm.mov(eax, 0x99999999);
                asm.mov(edx, 0x88888888);
                asm.stc();
                asm.Label(ref mark);
                if (op == "cmpxchg8b")
                {
                    asm.cmpxchg8b(__qword_ptr.es[d]);
                }
                else
                {
                    asm.cmpxchg(__dword_ptr.es[d], ebx);
                }

                asm.hlt();
            },
            out uint faultEip);
        var es = h.Cpu.Seg(SegReg.ES);
        es.AccessRights = 0x91; // read-only data
        es.UpdateAccessBounds();
        h.Cpu.Seg(SegReg.ES) = es;
        h.RunToHalt();

        var x = ExceptionHarness.Caught32(h);
        Assert.NotNull(x);
        Assert.Equal(Vectors.GP, x.Value.Vector);
        Assert.Equal(0u, x.Value.ErrorCode);
        Assert.Equal(faultEip, x.Value.Eip);
        Assert.Equal(0x99999999u, h.Cpu.Eax);
        Assert.Equal(0x88888888u, h.Cpu.Edx);
        Assert.Equal(EFlags.CF, h.Flags & Arith);
    }

    [Fact]
    public void Cmpxchg8bChecksAllEightBytesAgainstTheLimit()
    {
        uint d = CpuHarness.DataBase;
        using var h = ExceptionHarness.Flat32(
            (Assembler asm, ref Label mark) =>
            {
                asm.mov(eax, 0x11111111);
                asm.Label(ref mark);
                asm.cmpxchg8b(__qword_ptr.es[d]);
                asm.hlt();
            },
            out uint faultEip);
        var es = h.Cpu.Seg(SegReg.ES);
        es.Limit = d + 6; // the eighth byte is outside
        es.Flags = 0x4; // byte granular
        es.UpdateAccessBounds();
        h.Cpu.Seg(SegReg.ES) = es;
        h.Memory.Write32(d, 0x11111111);
        h.RunToHalt();

        var x = ExceptionHarness.Caught32(h);
        Assert.NotNull(x);
        Assert.Equal(Vectors.GP, x.Value.Vector);
        Assert.Equal(faultEip, x.Value.Eip);
        Assert.Equal(0x11111111u, h.Memory.Read32(d));
    }

    [Fact]
    public void LockOnRegisterDestinationIsUndefined()
    {
        using var h = ExceptionHarness.Flat32(
            (Assembler asm, ref Label mark) =>
            {
                asm.mov(ecx, 1);
                asm.Label(ref mark);
                asm.@lock.xadd(ecx, edx);
                asm.hlt();
            },
            out uint faultEip);
        h.RunToHalt();

        var x = ExceptionHarness.Caught32(h);
        Assert.NotNull(x);
        Assert.Equal(Vectors.UD, x.Value.Vector);
        Assert.Equal(faultEip, x.Value.Eip);
        Assert.Equal(1u, h.Cpu.Ecx);
    }

    [Fact]
    public void RealModeCompareExchange()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.mov(bx, 0x3000);
            asm.mov(__word_ptr[bx], 0x1234);
            asm.mov(__dword_ptr[bx + 4], 0);
            asm.mov(__dword_ptr[bx + 8], 0);
            asm.mov(ax, 0x1234);
            asm.mov(cx, 0xBEEF);
            asm.@lock.cmpxchg(__word_ptr[bx], cx); // equal: [bx] = 0xBEEF
            asm.mov(si, ax);
            asm.xor(eax, eax);
            asm.xor(edx, edx);
            asm.mov(ebx, 0xCAFEBABE);
            asm.mov(ecx, 0x0DDBA11);
            asm.mov(di, 0x3004);
            asm.cmpxchg8b(__qword_ptr[di]); // zero = zero: store ECX:EBX
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0xBEEFu, h.Memory.Read16(0x3000));
        Assert.Equal(0x1234u, h.Cpu.Esi & 0xFFFF);
        Assert.Equal(0xCAFEBABEu, h.Memory.Read32(0x3004));
        Assert.Equal(0x0DDBA11u, h.Memory.Read32(0x3008));
        Assert.Equal(EFlags.ZF, h.Flags & EFlags.ZF);
    }

    [Fact]
    public void RealModeCmpxchg8bPastTheSegmentEndFaults()
    {
        using var h = ExceptionHarness.Real16(
            (Assembler asm, ref Label mark) =>
            {
                asm.mov(di, 0xFFFC); // bytes 0xFFFC..0x10003: past the 64 KiB limit
                asm.xor(eax, eax);
                asm.Label(ref mark);
                asm.cmpxchg8b(__qword_ptr[di]);
                asm.hlt();
            },
            out uint faultIp);
        h.RunToHalt();

        var x = ExceptionHarness.Caught16(h);
        Assert.NotNull(x);
        Assert.Equal(Vectors.GP, x.Value.Vector);
        Assert.Equal(faultIp, x.Value.Eip);
        Assert.Equal(EFlags.ZF | EFlags.PF, x.Value.Eflags & Arith); // from the XOR, untouched
    }

    private static void Emit(Assembler asm, string op, int bits, bool memory)
    {
        bool x = op == "xadd";
        switch (bits, memory)
        {
            case (8, false): if (x) { asm.xadd(dl, bl); } else { asm.cmpxchg(dl, bl); } break;
            case (16, false): if (x) { asm.xadd(dx, bx); } else { asm.cmpxchg(dx, bx); } break;
            case (32, false): if (x) { asm.xadd(edx, ebx); } else { asm.cmpxchg(edx, ebx); } break;
            case (8, true): if (x) { asm.@lock.xadd(__byte_ptr[Scratch], bl); } else { asm.@lock.cmpxchg(__byte_ptr[Scratch], bl); } break;
            case (16, true): if (x) { asm.xadd(__word_ptr[Scratch], bx); } else { asm.cmpxchg(__word_ptr[Scratch], bx); } break;
            default: if (x) { asm.@lock.xadd(__dword_ptr[Scratch], ebx); } else { asm.cmpxchg(__dword_ptr[Scratch], ebx); } break;
        }
    }
}
