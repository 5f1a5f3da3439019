using Emulator.Cpu;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Cpu;

/// <summary>
/// DAA, DAS, AAA, AAS, AAM, AAD. The decimal adjustments are checked by what they are for: adding
/// or subtracting every pair of decimal operands and comparing with decimal arithmetic done here.
/// Documented choices checked: OF = 0 after DAA/DAS/AAA/AAS/AAM, SF/ZF/PF from the final AL after
/// AAA/AAS, CF = AF = 0 after AAM, and AAD's OF/AF/CF those of the 8-bit addition it performs.
/// </summary>
public class BcdTests
{
    private const uint Arith = RefFlags.Arith;
    private const uint Table = 0x1F0000;

    private static byte Packed(int n) => (byte)(((n / 10) << 4) | (n % 10));

    /// <summary>Runs a guest loop over a, b in [0, n) that leaves one word of result and one flags word per pair.</summary>
    private static CpuHarness RunPairs(int n, Action<Assembler> body, byte[]? table = null)
    {
        var h = CpuHarness.Flat32(asm =>
        {
            var outer = asm.CreateLabel();
            var inner = asm.CreateLabel();
            asm.xor(esi, esi);
            asm.mov(ebp, ShiftTests.Results);
            asm.Label(ref outer);
            asm.xor(edi, edi);
            asm.Label(ref inner);
            body(asm); // a in ESI, b in EDI; leaves its result in AX
            asm.mov(__word_ptr[ebp], ax);
            asm.lahf();
            asm.seto(al);
            asm.mov(__word_ptr[ebp + 2], ax);
            asm.add(ebp, 4);
            asm.inc(edi);
            asm.cmp(edi, n);
            asm.jb(inner);
            asm.inc(esi);
            asm.cmp(esi, n);
            asm.jb(outer);
            asm.hlt();
        });
        if (table is not null)
        {
            h.Memory.Write(Table, table);
        }

        h.RunToHalt(5_000_000);
        Assert.Equal(RunState.Halted, h.Cpu.State);
        return h;
    }

    private static (uint Ax, uint Flags) Pair(CpuHarness h, int index)
    {
        uint at = ShiftTests.Results + (uint)(index * 4);
        uint f = h.Memory.Read16(at + 2);
        return (h.Memory.Read16(at), ((f >> 8) & 0xD5) | ((f & 1) != 0 ? EFlags.OF : 0));
    }

    private static byte[] PackedTable() => Enumerable.Range(0, 100).Select(Packed).ToArray();

    [Fact]
    public void DaaCorrectsEveryPackedDecimalSum()
    {
        using var h = RunPairs(
            100,
            asm =>
            {
                asm.mov(al, __byte_ptr[esi + Table]);
                asm.add(al, __byte_ptr[edi + Table]);
                asm.daa();
            },
            PackedTable());
        for (int a = 0; a < 100; a++)
        {
            for (int b = 0; b < 100; b++)
            {
                var (ax, flags) = Pair(h, (a * 100) + b);
                byte al = Packed((a + b) % 100);
                uint expected = RefFlags.Szp(al, 8) |
                    (a + b >= 100 ? EFlags.CF : 0) |
                    ((a % 10) + (b % 10) >= 10 ? EFlags.AF : 0);
                Assert.True(al == (ax & 0xFF), $"{a} + {b}: AL 0x{ax & 0xFF:x2}");
                Assert.True(expected == flags, $"{a} + {b}: flags {RefFlags.Describe(flags)}, expected {RefFlags.Describe(expected)}");
            }
        }
    }

    [Fact]
    public void DasCorrectsEveryPackedDecimalDifference()
    {
        using var h = RunPairs(
            100,
            asm =>
            {
                asm.mov(al, __byte_ptr[esi + Table]);
                asm.sub(al, __byte_ptr[edi + Table]);
                asm.das();
            },
            PackedTable());
        for (int a = 0; a < 100; a++)
        {
            for (int b = 0; b < 100; b++)
            {
                var (ax, flags) = Pair(h, (a * 100) + b);
                byte al = Packed((a - b + 100) % 100);
                uint expected = RefFlags.Szp(al, 8) |
                    (a < b ? EFlags.CF : 0) |
                    ((a % 10) < (b % 10) ? EFlags.AF : 0);
                Assert.True(al == (ax & 0xFF), $"{a} - {b}: AL 0x{ax & 0xFF:x2}");
                Assert.True(expected == flags, $"{a} - {b}: flags {RefFlags.Describe(flags)}, expected {RefFlags.Describe(expected)}");
            }
        }
    }

    [Fact]
    public void AaaAndAasAdjustUnpackedDigits()
    {
        using var add = RunPairs(10, asm =>
        {
            asm.mov(eax, esi);
            asm.add(eax, 0x30); // ASCII digits: AAA ignores the high nibble
            asm.mov(ah, 0x05);
            asm.mov(ebx, edi);
            asm.add(al, bl);
            asm.aaa();
        });
        using var sub = RunPairs(10, asm =>
        {
            asm.mov(eax, esi);
            asm.mov(ah, 0x05);
            asm.mov(ebx, edi);
            asm.sub(al, bl);
            asm.aas();
        });
        for (int a = 0; a < 10; a++)
        {
            for (int b = 0; b < 10; b++)
            {
                var (ax, flags) = Pair(add, (a * 10) + b);
                bool carry = a + b >= 10;
                uint al = (uint)((a + b) % 10);
                Assert.True((uint)(((5 + (carry ? 1 : 0)) << 8) | (int)al) == ax, $"AAA {a} + {b}: AX 0x{ax:x4}");
                uint expected = RefFlags.Szp(al, 8) | (carry ? EFlags.AF | EFlags.CF : 0);
                Assert.True(expected == flags, $"AAA {a} + {b}: flags {RefFlags.Describe(flags)}, expected {RefFlags.Describe(expected)}");

                (ax, flags) = Pair(sub, (a * 10) + b);
                bool borrow = a < b;
                al = (uint)((a - b + 10) % 10);
                Assert.True((uint)(((5 - (borrow ? 1 : 0)) << 8) | (int)al) == ax, $"AAS {a} - {b}: AX 0x{ax:x4}");
                expected = RefFlags.Szp(al, 8) | (borrow ? EFlags.AF | EFlags.CF : 0);
                Assert.True(expected == flags, $"AAS {a} - {b}: flags {RefFlags.Describe(flags)}, expected {RefFlags.Describe(expected)}");
            }
        }
    }

    [Fact]
    public void AaaCarriesIntoAhAsSixteenBitAddition()
    {
        // AL = 0xFB with a low nibble above 9: AX + 0x106 carries out of AL (0x1FB + 0x106 = 0x301).
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 0x01FB);
            asm.aaa();
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x0301u, h.Cpu.Eax);
        Assert.Equal(EFlags.AF | EFlags.CF, h.Flags & Arith); // AL = 1: PF = 0
    }

    [Fact]
    public void AamSplitsEveryByteInAnyBase()
    {
        foreach (byte radix in new byte[] { 10, 16, 7, 255 })
        {
            using var h = RunPairs(16, asm =>
            {
                asm.mov(eax, esi);
                asm.shl(eax, 4);
                asm.or(eax, edi); // AL = a * 16 + b: every byte value
                asm.aam(radix);
            });
            for (int x = 0; x < 256; x++)
            {
                var (ax, flags) = Pair(h, x);
                uint al = (uint)(x % radix);
                Assert.True((((uint)(x / radix)) << 8 | al) == ax, $"AAM {radix} of {x}: AX 0x{ax:x4}");
                Assert.True(RefFlags.Szp(al, 8) == flags, $"AAM {radix} of {x}: flags {RefFlags.Describe(flags)}");
            }
        }
    }

    [Fact]
    public void AadCombinesDigitsWithAdditionFlags()
    {
        foreach (byte radix in new byte[] { 10, 16, 200 })
        {
            using var h = RunPairs(16, asm =>
            {
                asm.mov(eax, esi);
                asm.shl(eax, 4);
                asm.or(eax, edi);
                asm.mov(ah, al); // AH = a * 16 + b
                asm.mov(al, 0x9C);
                asm.aad(radix);
            });
            for (int x = 0; x < 256; x++)
            {
                var (ax, flags) = Pair(h, x);
                int product = (x * radix) & 0xFF;
                int sum = 0x9C + product;
                uint al = (uint)(sum & 0xFF);
                bool signedOverflow = -100 + (sbyte)(byte)product is < -128 or > 127; // 0x9C is -100
                uint expected = RefFlags.Szp(al, 8) |
                    (sum > 0xFF ? EFlags.CF : 0) |
                    ((0xC + (product & 0xF)) > 0xF ? EFlags.AF : 0) |
                    (signedOverflow ? EFlags.OF : 0);
                Assert.True(al == ax, $"AAD {radix} of AH={x}: AX 0x{ax:x4}");
                Assert.True(expected == flags, $"AAD {radix} of AH={x}: flags {RefFlags.Describe(flags)}, expected {RefFlags.Describe(expected)}");
            }
        }
    }

    [Fact]
    public void AamByZeroRaisesDivideError()
    {
        using var h = ExceptionHarness.Flat32(
            (Assembler asm, ref Label mark) =>
            {
                asm.mov(eax, 0x1234);
                asm.stc();
                asm.Label(ref mark);
                asm.aam(0);
                asm.hlt();
            },
            out uint faultEip);
        h.RunToHalt();

        var x = ExceptionHarness.Caught32(h);
        Assert.NotNull(x);
        Assert.Equal(Vectors.DE, x.Value.Vector);
        Assert.Equal(faultEip, x.Value.Eip);
        Assert.Equal(0x1234u, h.Cpu.Eax);
        Assert.Equal(EFlags.CF, h.Flags & Arith);
    }

    [Fact]
    public void RealModeDecimalAdjust()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.mov(al, 0x38);
            asm.add(al, 0x45); // 0x7D
            asm.daa(); // 83
            asm.mov(bl, al);
            asm.mov(ax, 0x0703);
            asm.aad(10); // 73
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x83u, h.Cpu.Ebx & 0xFF);
        Assert.Equal(73u, h.Cpu.Eax & 0xFFFF);
    }
}
