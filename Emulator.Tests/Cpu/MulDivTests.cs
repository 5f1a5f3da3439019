using Emulator.Cpu;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Cpu;

/// <summary>
/// MUL, IMUL, DIV, IDIV. Expected values are computed here with 128-bit integer arithmetic. The
/// documented choices for undefined flags are checked too: after a multiply SF/ZF/PF come from the
/// low half of the product and AF is 0; a divide leaves all six status flags unchanged.
/// </summary>
public class MulDivTests
{
    private const uint Arith = RefFlags.Arith;
    private const uint Operand = 0x1F0000;

    private static readonly uint[] Interesting =
    [
        0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x12345, 0x7FFFFFFF, 0x80000000,
        0xFFFFFFFF, 0xFFFFFF80, 0xFFFF8000, 0xDEADBEEF, 0x00010001, 0x0000FF01,
    ];

    public static TheoryData<string, int, bool> OneOperandForms()
    {
        var d = new TheoryData<string, int, bool>();
        foreach (string op in new[] { "mul", "imul", "div", "idiv" })
        {
            foreach (int bits in new[] { 8, 16, 32 })
            {
                d.Add(op, bits, false);
                d.Add(op, bits, true);
            }
        }

        return d;
    }

    /// <summary>Every pair of interesting values (dividing only where no #DE results), batched in one guest program.</summary>
    [Theory]
    [MemberData(nameof(OneOperandForms))]
    public void OneOperandFormsMatchWideArithmetic(string op, int bits, bool memory)
    {
        var cases = new List<(uint Eax, uint Edx, uint Src, uint FlagsIn)>();
        bool divide = op is "div" or "idiv";

        // Dividends: the high half zero, all ones (a negative value sign-extended), or a few small values.
        uint[] highHalves = divide ? [0, 0xFFFFFFFF, 3, 0x7F] : [0xCAFEF00D];
        int k = 0;
        foreach (uint a in Interesting)
        {
            foreach (uint b in Interesting)
            {
                foreach (uint edx in highHalves)
                {
                    uint flagsIn = (k++ % 3) switch { 0 => 0, 1 => Arith, _ => EFlags.AF | EFlags.ZF };
                    if (divide && Expected(op, bits, a, edx, b, flagsIn) is null)
                    {
                        continue;
                    }

                    cases.Add((a, edx, b, flagsIn));
                }
            }
        }

        Assert.True(cases.Count > 100, $"only {cases.Count} cases");
        using var h = CpuHarness.Flat32(asm =>
        {
            for (int i = 0; i < cases.Count; i++)
            {
                var (a, d, s, f) = cases[i];
                ShiftTests.SetFlags(asm, f);
                asm.mov(eax, a);
                asm.mov(edx, d);
                asm.mov(ebx, s);
                if (memory)
                {
                    asm.mov(__dword_ptr[Operand], ebx);
                }

                EmitOneOperand(asm, op, bits, memory);
                StoreOutcome(asm, i);
            }

            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(RunState.Halted, h.Cpu.State);

        for (int i = 0; i < cases.Count; i++)
        {
            var (a, d, s, f) = cases[i];
            var expected = Expected(op, bits, a, d, s, f)!.Value;
            var actual = Outcome(h, i);
            string what = $"{op} {bits}-bit eax=0x{a:x} edx=0x{d:x} src=0x{s:x}";
            Assert.True(expected.Eax == actual.Eax, $"{what}: eax 0x{actual.Eax:x}, expected 0x{expected.Eax:x}");
            Assert.True(expected.Edx == actual.Edx, $"{what}: edx 0x{actual.Edx:x}, expected 0x{expected.Edx:x}");
            Assert.True(expected.Flags == actual.Flags, $"{what}: flags {RefFlags.Describe(actual.Flags)}, expected {RefFlags.Describe(expected.Flags)}");
        }
    }

    public static TheoryData<int, int, bool> ImulForms()
    {
        var d = new TheoryData<int, int, bool>();
        foreach (int operands in new[] { 2, 3 })
        {
            foreach (int bits in new[] { 16, 32 })
            {
                d.Add(operands, bits, false);
                d.Add(operands, bits, true);
            }
        }

        return d;
    }

    /// <summary>Two-operand IMUL r, r/m and three-operand IMUL r, r/m, imm (imm8 and full-size immediates).</summary>
    [Theory]
    [MemberData(nameof(ImulForms))]
    public void TruncatingImulFormsMatchWideArithmetic(int operands, int bits, bool memory)
    {
        int[] immediates = [0, 1, -1, 3, 127, -128, 1000, -30000, 0x12345, int.MinValue];
        var cases = new List<(uint Dst, uint Src, int Imm)>();
        foreach (uint a in Interesting)
        {
            foreach (uint b in Interesting)
            {
                cases.Add((a, b, immediates[cases.Count % immediates.Length]));
            }
        }

        using var h = CpuHarness.Flat32(asm =>
        {
            for (int i = 0; i < cases.Count; i++)
            {
                var (a, b, imm) = cases[i];
                ShiftTests.SetFlags(asm, i % 2 == 0 ? 0 : Arith);
                asm.mov(edx, a);
                asm.mov(ebx, b);
                asm.mov(__dword_ptr[Operand], ebx);
                if (bits == 16)
                {
                    short imm16 = (short)imm;
                    switch (operands, memory)
                    {
                        case (2, false): asm.imul(dx, bx); break;
                        case (2, true): asm.imul(dx, __word_ptr[Operand]); break;
                        case (3, false): asm.imul(dx, bx, imm16); break;
                        default: asm.imul(dx, __word_ptr[Operand], imm16); break;
                    }
                }
                else
                {
                    switch (operands, memory)
                    {
                        case (2, false): asm.imul(edx, ebx); break;
                        case (2, true): asm.imul(edx, __dword_ptr[Operand]); break;
                        case (3, false): asm.imul(edx, ebx, imm); break;
                        default: asm.imul(edx, __dword_ptr[Operand], imm); break;
                    }
                }

                asm.mov(eax, 0);
                StoreOutcome(asm, i);
            }

            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(RunState.Halted, h.Cpu.State);

        uint mask = RefFlags.Mask(bits);
        for (int i = 0; i < cases.Count; i++)
        {
            var (a, b, imm) = cases[i];
            Int128 x = operands == 2 ? Signed(a, bits) : Signed(b, bits);
            Int128 y = operands == 2 ? Signed(b, bits) : Signed((uint)imm, bits);
            Int128 p = x * y;
            uint lo = (uint)(ulong)(p & mask);
            bool overflow = p != Signed(lo, bits);
            uint flags = RefFlags.Szp(lo, bits) | (overflow ? EFlags.CF | EFlags.OF : 0);
            var actual = Outcome(h, i);
            string what = $"imul ({operands} operands) {bits}-bit 0x{a:x}, 0x{b:x}, {imm}";
            Assert.True(((a & ~mask) | lo) == actual.Edx, $"{what}: result 0x{actual.Edx:x}");
            Assert.True(flags == actual.Flags, $"{what}: flags {RefFlags.Describe(actual.Flags)}, expected {RefFlags.Describe(flags)}");
        }
    }

    [Fact]
    public void HandWorkedProducts()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 0xFFFFFFFF);
            asm.mov(ecx, 0xFFFFFFFF);
            asm.mul(ecx); // 0xFFFFFFFE_00000001
            asm.mov(esi, eax);
            asm.mov(edi, edx);
            asm.mov(al, 0xF0);
            asm.mov(cl, 0x10);
            asm.imul(cl); // -16 * 16 = -256 = 0xFF00: does not fit in AL
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(1u, h.Cpu.Esi);
        Assert.Equal(0xFFFFFFFEu, h.Cpu.Edi);
        Assert.Equal(0xFF00u, h.Cpu.Eax & 0xFFFF);

        // Low half AL = 0: ZF = 1, PF = 1, SF = 0; CF = OF = 1; AF = 0.
        Assert.Equal(EFlags.CF | EFlags.OF | EFlags.ZF | EFlags.PF, h.Flags & Arith);
    }

    [Fact]
    public void HandWorkedQuotientsTruncateTowardZero()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, unchecked((uint)-7));
            asm.cdq();
            asm.mov(ecx, 2);
            asm.idiv(ecx); // -3 remainder -1
            asm.mov(esi, eax);
            asm.mov(edi, edx);
            asm.mov(ax, 0xFF80); // -128
            asm.mov(cl, 1);
            asm.idiv(cl); // -128 remainder 0: fits exactly
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(unchecked((uint)-3), h.Cpu.Esi);
        Assert.Equal(unchecked((uint)-1), h.Cpu.Edi);
        Assert.Equal(0x0080u, h.Cpu.Eax & 0xFFFF);
    }

    public static TheoryData<string, int, uint, uint, uint> DivideErrors() => new()
    {
        { "div", 8, 0x1234, 0, 0 },            // divide by zero
        { "div", 8, 0x0100, 0, 1 },            // 256 / 1 does not fit in AL
        { "div", 16, 0x0000, 0x0001, 1 },      // 0x10000 / 1
        { "div", 32, 0, 1, 1 },                // 2^32 / 1
        { "div", 32, 5, 0, 0 },
        { "idiv", 8, 0xFF80, 0, 0xFF },        // -128 / -1 = 128
        { "idiv", 8, 0x8000, 0, 1 },           // -32768 / 1
        { "idiv", 8, 0x0080, 0, 1 },           // 128 / 1
        { "idiv", 16, 0x8000, 0xFFFF, 0xFFFF }, // -32768 / -1
        { "idiv", 32, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFF }, // INT_MIN / -1
        { "idiv", 32, 0, 0x80000000, 0xFFFFFFFF },          // most negative 64-bit dividend / -1
        { "idiv", 32, 0, 0x80000000, 1 },
        { "idiv", 16, 7, 0, 0 },
    };

    /// <summary>#DE is a fault: EIP names the divide, and registers and flags are as before it.</summary>
    [Theory]
    [MemberData(nameof(DivideErrors))]
    public void DivideErrorsFaultWithNothingChanged(string op, int bits, uint eaxIn, uint edxIn, uint divisor)
    {
        foreach (bool memory in new[] { false, true })
        {
            using var h = ExceptionHarness.Flat32(
                (Assembler asm, ref Label mark) =>
                {
                    asm.mov(__dword_ptr[Operand], divisor);
                    asm.mov(al, 0x7F);
                    asm.add(al, 1); // OF SF AF
                    asm.stc();
                    asm.mov(eax, eaxIn);
                    asm.mov(edx, edxIn);
                    asm.mov(ebx, divisor);
                    asm.Label(ref mark);
                    EmitOneOperand(asm, op, bits, memory);
                    asm.hlt();
                },
                out uint faultEip);
            h.RunToHalt();

            var x = ExceptionHarness.Caught32(h);
            Assert.NotNull(x);
            Assert.Equal(Vectors.DE, x.Value.Vector);
            Assert.Null(x.Value.ErrorCode);
            Assert.Equal(faultEip, x.Value.Eip);
            Assert.Equal(0x08u, x.Value.Cs);
            Assert.Equal(eaxIn, h.Cpu.Eax);
            Assert.Equal(edxIn, h.Cpu.Edx);
            Assert.Equal(divisor, h.Cpu.Ebx);
            Assert.Equal(EFlags.OF | EFlags.SF | EFlags.AF | EFlags.CF, h.Flags & Arith);
            Assert.Equal(1L, h.Cpu.ExceptionCounts[Vectors.DE]);
        }
    }

    [Fact]
    public void RealModeDivideErrorGoesThroughTheIvt()
    {
        using var h = ExceptionHarness.Real16(
            (Assembler asm, ref Label mark) =>
            {
                asm.mov(ax, 0x1234);
                asm.mov(dx, 0x0012); // 0x121234 / 0x10 = 0x12123: does not fit in AX
                asm.mov(cx, 0x10);
                asm.Label(ref mark);
                asm.div(cx);
                asm.hlt();
            },
            out uint faultIp);
        h.RunToHalt();

        var x = ExceptionHarness.Caught16(h);
        Assert.NotNull(x);
        Assert.Equal(Vectors.DE, x.Value.Vector);
        Assert.Equal(faultIp, x.Value.Eip);
        Assert.Equal(0u, x.Value.Cs);
        Assert.Equal(0x1234u, h.Cpu.Eax & 0xFFFF);
        Assert.Equal(0x0012u, h.Cpu.Edx & 0xFFFF);
    }

    [Fact]
    public void RealModeMultiplyAndDivideUseSixteenBitRegisters()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.mov(bx, 0x3000);
            asm.mov(__word_ptr[bx], 0x1234);
            asm.mov(ax, 0x5678);
            asm.mul(__word_ptr[bx]); // 0x1234 * 0x5678 = 0x06260060
            asm.mov(si, ax);
            asm.mov(di, dx);
            asm.mov(ax, 0x0060);
            asm.mov(dx, 0x0626);
            asm.div(__word_ptr[bx]); // back to 0x5678 remainder 0
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x0060u, h.Cpu.Esi & 0xFFFF);
        Assert.Equal(0x0626u, h.Cpu.Edi & 0xFFFF);
        Assert.Equal(0x5678u, h.Cpu.Eax & 0xFFFF);
        Assert.Equal(0u, h.Cpu.Edx & 0xFFFF);
    }

    // ------------------------------------------------------------------ helpers

    private static Int128 Signed(uint v, int bits) => bits switch
    {
        8 => (sbyte)v,
        16 => (short)v,
        _ => (int)v,
    };

    /// <summary>EAX, EDX and flags after the one-operand form, or null when it raises #DE.</summary>
    private static (uint Eax, uint Edx, uint Flags)? Expected(string op, int bits, uint eax, uint edx, uint src, uint flagsIn) =>
        op is "mul" or "imul" ? ExpectedProduct(op, bits, eax, edx, src) : ExpectedQuotient(op, bits, eax, edx, src, flagsIn);

    private static (uint Eax, uint Edx, uint Flags) ExpectedProduct(string op, int bits, uint eax, uint edx, uint src)
    {
        uint mask = RefFlags.Mask(bits);
        src &= mask;
        uint a = eax & mask;
        Int128 p = op == "mul" ? (Int128)a * src : Signed(a, bits) * Signed(src, bits);
        ulong bitsOfP = (ulong)(p & ((Int128.One << (2 * bits)) - 1));
        uint lo = (uint)(bitsOfP & mask);
        uint hi = (uint)((bitsOfP >> bits) & mask);
        bool wide = op == "mul" ? hi != 0 : p != Signed(lo, bits);
        uint flags = RefFlags.Szp(lo, bits) | (wide ? EFlags.CF | EFlags.OF : 0);
        return bits switch
        {
            8 => ((eax & 0xFFFF0000) | (hi << 8) | lo, edx, flags),
            16 => ((eax & 0xFFFF0000) | lo, (edx & 0xFFFF0000) | hi, flags),
            _ => (lo, hi, flags),
        };
    }

    private static (uint Eax, uint Edx, uint Flags)? ExpectedQuotient(string op, int bits, uint eax, uint edx, uint src, uint flagsIn)
    {
        uint mask = RefFlags.Mask(bits);
        src &= mask;
        if (src == 0)
        {
            return null;
        }

        ulong raw = bits switch
        {
            8 => eax & 0xFFFF,
            16 => ((edx & 0xFFFF) << 16) | (eax & 0xFFFF),
            _ => ((ulong)edx << 32) | eax,
        };
        Int128 dividend;
        Int128 divisor;
        Int128 low;
        Int128 high;
        if (op == "div")
        {
            dividend = raw;
            divisor = src;
            low = 0;
            high = mask;
        }
        else
        {
            dividend = bits switch { 8 => (short)raw, 16 => (int)raw, _ => (long)raw };
            divisor = Signed(src, bits);
            low = -(Int128.One << (bits - 1));
            high = (Int128.One << (bits - 1)) - 1;
        }

        Int128 q = dividend / divisor; // truncates toward zero, as IDIV does
        Int128 r = dividend - (q * divisor);
        if (q < low || q > high)
        {
            return null;
        }

        uint qu = (uint)(ulong)(q & mask);
        uint ru = (uint)(ulong)(r & mask);
        return bits switch
        {
            8 => ((eax & 0xFFFF0000) | (ru << 8) | qu, edx, flagsIn),
            16 => ((eax & 0xFFFF0000) | qu, (edx & 0xFFFF0000) | ru, flagsIn),
            _ => (qu, ru, flagsIn),
        };
    }

    private static void EmitOneOperand(Assembler asm, string op, int bits, bool memory)
    {
        AssemblerMemoryOperand m = bits switch
        {
            8 => __byte_ptr[Operand],
            16 => __word_ptr[Operand],
            _ => __dword_ptr[Operand],
        };
        switch (op, bits, memory)
        {
            case ("mul", _, true): asm.mul(m); break;
            case ("imul", _, true): asm.imul(m); break;
            case ("div", _, true): asm.div(m); break;
            case ("idiv", _, true): asm.idiv(m); break;
            case ("mul", 8, _): asm.mul(bl); break;
            case ("mul", 16, _): asm.mul(bx); break;
            case ("mul", _, _): asm.mul(ebx); break;
            case ("imul", 8, _): asm.imul(bl); break;
            case ("imul", 16, _): asm.imul(bx); break;
            case ("imul", _, _): asm.imul(ebx); break;
            case ("div", 8, _): asm.div(bl); break;
            case ("div", 16, _): asm.div(bx); break;
            case ("div", _, _): asm.div(ebx); break;
            case ("idiv", 8, _): asm.idiv(bl); break;
            case ("idiv", 16, _): asm.idiv(bx); break;
            default: asm.idiv(ebx); break;
        }
    }

    /// <summary>Stores EAX, EDX, then the flags (LAHF high byte, SETO low byte) at Results + 16 * index.</summary>
    private static void StoreOutcome(Assembler asm, int index)
    {
        uint at = ShiftTests.Results + (uint)(index * 16);
        asm.mov(__dword_ptr[at], eax);
        asm.mov(__dword_ptr[at + 4], edx);
        asm.lahf();
        asm.seto(al);
        asm.mov(__word_ptr[at + 8], ax);
    }

    private static (uint Eax, uint Edx, uint Flags) Outcome(CpuHarness h, int index)
    {
        uint at = ShiftTests.Results + (uint)(index * 16);
        uint ax = h.Memory.Read16(at + 8);
        uint flags = ((ax >> 8) & 0xD5) | ((ax & 1) != 0 ? EFlags.OF : 0);
        return (h.Memory.Read32(at), h.Memory.Read32(at + 4), flags);
    }
}
