using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Cpu;

/// <summary>
/// Shifts and rotates. Expected values come from a bit-at-a-time model of the SDM pseudocode
/// (each count is applied as that many single-bit steps, and OF is the count-1 formula of the
/// last step), which is an independent algorithm from the emulator's closed-form handlers, plus
/// hand-worked cases. The model encodes the documented choices for undefined flags: AF = 0 after
/// SHL/SHR/SAR/SHLD/SHRD, OF by the count-1 formula for every count.
/// </summary>
public class ShiftTests
{
    private const uint Arith = RefFlags.Arith;

    public static readonly string[] Ops = ["shl", "shr", "sar", "rol", "ror", "rcl", "rcr"];

    private static readonly int[] Counts = [0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 18, 24, 27, 31, 32, 33, 63, 255];

    private static readonly uint[] Values = [0, 1, 0x80000081, 0x7FFF7F7F, 0xFFFFFFFF, 0x5AA55AA5, 0x12348765];

    /// <summary>Where batched guest programs store each case's outcome (far above the code they run).</summary>
    internal const uint Results = 0x200000;

    /// <summary>A dword the memory forms shift in place.</summary>
    private const uint Scratch = 0x1F0000;

    public static TheoryData<string, int, bool, bool> SingleForms()
    {
        var d = new TheoryData<string, int, bool, bool>();
        foreach (string op in Ops)
        {
            foreach (int bits in new[] { 8, 16, 32 })
            {
                foreach (bool memory in new[] { false, true })
                {
                    d.Add(op, bits, true, memory);
                    d.Add(op, bits, false, memory);
                }
            }
        }

        return d;
    }

    /// <summary>
    /// One guest program per operation, size, operand kind and count form runs every value x count x
    /// incoming-flags case. Memory forms shift a dword-sized scratch location holding EDX in place.
    /// </summary>
    [Theory]
    [MemberData(nameof(SingleForms))]
    public void ShiftsAndRotatesMatchBitSerialModel(string op, int bits, bool countInCl, bool memory)
    {
        var cases = new List<(uint Value, int Count, uint FlagsIn)>();
        foreach (uint v in Values)
        {
            foreach (int n in Counts)
            {
                cases.Add((v, n, 0));
                cases.Add((v, n, Arith));
            }
        }

        using var h = CpuHarness.Flat32(asm =>
        {
            for (int i = 0; i < cases.Count; i++)
            {
                var (v, n, f) = cases[i];
                SetFlags(asm, f);
                asm.mov(edx, v);
                asm.mov(ecx, (uint)n);
                if (memory)
                {
                    asm.mov(__dword_ptr[Scratch], edx);
                    EmitSingleMemory(asm, op, bits, countInCl ? null : (byte)n);
                    asm.mov(edx, __dword_ptr[Scratch]);
                }
                else
                {
                    EmitSingle(asm, op, bits, countInCl ? null : (byte)n);
                }

                StoreOutcome(asm, i);
            }

            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(RunState.Halted, h.Cpu.State);

        for (int i = 0; i < cases.Count; i++)
        {
            var (v, n, f) = cases[i];
            var (r, flags) = SingleModel(op, bits, v, n, f);
            uint mask = RefFlags.Mask(bits);
            uint expectedEdx = (v & ~mask) | r;
            var (edxOut, flagsOut) = Outcome(h, i);
            string what = $"{op} {bits}-bit {(memory ? "memory" : "register")} 0x{v:x} by {n} (flags in {RefFlags.Describe(f)})";
            Assert.True(expectedEdx == edxOut, $"{what}: result 0x{edxOut:x}, expected 0x{expectedEdx:x}");
            Assert.True(flags == flagsOut, $"{what}: flags {RefFlags.Describe(flagsOut)}, expected {RefFlags.Describe(flags)}");
        }
    }

    public static TheoryData<string, int, bool, bool> DoubleForms()
    {
        var d = new TheoryData<string, int, bool, bool>();
        foreach (string op in new[] { "shld", "shrd" })
        {
            foreach (int bits in new[] { 16, 32 })
            {
                foreach (bool memory in new[] { false, true })
                {
                    d.Add(op, bits, true, memory);
                    d.Add(op, bits, false, memory);
                }
            }
        }

        return d;
    }

    [Theory]
    [MemberData(nameof(DoubleForms))]
    public void DoubleShiftsMatchBitSerialModel(string op, int bits, bool countInCl, bool memory)
    {
        var cases = new List<(uint Dst, uint Src, int Count, uint FlagsIn)>();
        uint[] sources = [0, 0xFFFFFFFF, 0x13579BDF, 0x8000FFFE];
        foreach (uint d in Values)
        {
            foreach (uint s in sources)
            {
                foreach (int n in Counts)
                {
                    cases.Add((d, s, n, (uint)(n & 1) == 0 ? 0 : Arith));
                }
            }
        }

        using var h = CpuHarness.Flat32(asm =>
        {
            for (int i = 0; i < cases.Count; i++)
            {
                var (d, s, n, f) = cases[i];
                SetFlags(asm, f);
                asm.mov(edx, d);
                asm.mov(ebx, s);
                asm.mov(ecx, (uint)n);
                if (memory)
                {
                    asm.mov(__dword_ptr[Scratch], edx);
                    EmitDoubleMemory(asm, op, bits, countInCl ? null : (byte)n);
                    asm.mov(edx, __dword_ptr[Scratch]);
                }
                else
                {
                    EmitDouble(asm, op, bits, countInCl ? null : (byte)n);
                }

                StoreOutcome(asm, i);
            }

            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(RunState.Halted, h.Cpu.State);

        for (int i = 0; i < cases.Count; i++)
        {
            var (d, s, n, f) = cases[i];
            var (r, flags) = DoubleModel(op, bits, d, s, n, f);
            uint mask = RefFlags.Mask(bits);
            uint expectedEdx = (d & ~mask) | r;
            var (edxOut, flagsOut) = Outcome(h, i);
            string what = $"{op} {bits}-bit {(memory ? "memory" : "register")} dst 0x{d:x} src 0x{s:x} by {n}";
            Assert.True(expectedEdx == edxOut, $"{what}: result 0x{edxOut:x}, expected 0x{expectedEdx:x}");
            Assert.True(flags == flagsOut, $"{what}: flags {RefFlags.Describe(flagsOut)}, expected {RefFlags.Describe(flags)}");
        }
    }

    [Fact]
    public void HandWorkedShiftsSetEveryFlag()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(eax, 0x81);
            asm.shl(al, 1); // 0x02, CF = 1, OF = 1 ^ 0
            asm.mov(esi, eax);
            asm.lahf();
            asm.seto(bl);
            asm.mov(edx, 0x80000000);
            asm.sar(edx, 31); // 0xFFFFFFFF, CF = 0 (bit 30), OF = 0
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x02u, h.Cpu.Esi & 0xFF);
        Assert.Equal(EFlags.CF | 0x02, (h.Cpu.Eax >> 8) & 0xFF); // after SHL: only CF (PF clear: 0x02 has one bit)
        Assert.Equal(1u, h.Cpu.Ebx & 0xFF); // OF
        Assert.Equal(0xFFFFFFFFu, h.Cpu.Edx);
        Assert.Equal(EFlags.SF | EFlags.PF, h.Flags & Arith);
    }

    /// <summary>The by-1 opcodes (D0/D1), the imm8 opcodes with an immediate of 1 (C0/C1) and the /6 SAL alias agree.</summary>
    [Fact]
    public void EveryEncodingOfAShiftByOne()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(edx, 0xC0000001);
            asm.db(0xD1, 0xE2); // shl edx, 1
            asm.mov(esi, edx);
            asm.mov(edx, 0xC0000001);
            asm.db(0xC1, 0xE2, 0x01); // shl edx, 1 (imm8)
            asm.mov(edi, edx);
            asm.mov(edx, 0xC0000001);
            asm.db(0xD1, 0xF2); // sal edx, 1 (/6)
            asm.mov(ebp, edx);
            asm.mov(ecx, 0x81);
            asm.db(0xC0, 0xE9, 0x01); // shr cl, 1 (imm8)
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x80000002u, h.Cpu.Esi);
        Assert.Equal(0x80000002u, h.Cpu.Edi);
        Assert.Equal(0x80000002u, h.Cpu.Ebp);
        Assert.Equal(0x40u, h.Cpu.Ecx);

        // SHR 0x81 by 1: CF = 1, OF = original MSB = 1, 0x40: PF = 0, SF = ZF = AF = 0.
        Assert.Equal(EFlags.CF | EFlags.OF, h.Flags & Arith);
        Assert.Empty(h.Cpu.Unimplemented);
    }

    [Fact]
    public void RotateByMultipleOfWidthKeepsOperandButWritesCarryAndOverflow()
    {
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.xor(eax, eax); // ZF = PF = 1, everything else 0
            asm.mov(dl, 0x81);
            asm.mov(cl, 8);
            asm.rol(dl, cl); // unchanged; CF = LSB = 1, OF = MSB ^ CF = 0
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x81u, h.Cpu.Edx & 0xFF);
        Assert.Equal(EFlags.ZF | EFlags.PF | EFlags.CF, h.Flags & Arith);
    }

    [Fact]
    public void SixteenBitDoubleShiftBeyondWidthUsesDstSrcDst()
    {
        // X = 0xABCD:0x1234:0xABCD (48 bits). SHLD by 20 keeps the top 16 bits of X << 20, i.e. bits
        // 12..27 of X = 0x234A; SHRD by 20 keeps bits 20..35 of X = 0xD123.
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(dx, 0xABCD);
            asm.mov(ax, 0x1234);
            asm.shld(dx, ax, 20);
            asm.mov(esi, edx);
            asm.lahf();
            asm.seto(cl);
            asm.mov(edi, eax);
            asm.mov(dx, 0xABCD);
            asm.mov(ax, 0x1234);
            asm.shrd(dx, ax, 20);
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x234Au, h.Cpu.Esi & 0xFFFF);

        // 0x234A: SF = 0, ZF = 0, PF(0x4A = 3 bits) = 0, CF = bit 28 of 0xABCD1234ABCD = bit 12 of 0x1234 = 1,
        // OF = CF ^ MSB = 1, AF = 0.
        Assert.Equal(EFlags.CF | 0x02, (h.Cpu.Edi >> 8) & 0xFF);
        Assert.Equal(1u, h.Cpu.Ecx & 0xFF);
        Assert.Equal(0xD123u, h.Cpu.Edx & 0xFFFF);

        // 0xD123: SF = 1, PF(0x23 = 3 bits) = 0, CF = bit 19 = bit 3 of 0x1234 = 0, OF = bit15 ^ bit14 = 1 ^ 1 = 0.
        Assert.Equal(EFlags.SF, h.Flags & Arith);
    }

    [Fact]
    public void MemoryOperandsShiftInPlace()
    {
        uint d = CpuHarness.DataBase;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(__dword_ptr[d], 0x80000001);
            asm.mov(__word_ptr[d + 4], 0x8001);
            asm.mov(__byte_ptr[d + 6], 0x01);
            asm.mov(__dword_ptr[d + 8], 0x0000FFFF);
            asm.mov(cl, 4);
            asm.shl(__dword_ptr[d], cl); // 0x00000010, CF = bit 28 = 0
            asm.stc();
            asm.rcr(__word_ptr[d + 4], 1); // 0xC000, CF = 1
            asm.rol(__byte_ptr[d + 6], 3); // 0x08
            asm.mov(eax, 0x12345678);
            asm.shld(__dword_ptr[d + 8], eax, 8); // 0x00FFFF12
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x10u, h.Memory.Read32(d));
        Assert.Equal(0xC000u, h.Memory.Read16(d + 4));
        Assert.Equal(0x08u, h.Memory.Read8(d + 6));
        Assert.Equal(0x00FFFF12u, h.Memory.Read32(d + 8));

        // SHLD: CF = bit 24 of 0x0000FFFF = 0, OF = 0 ^ 0, result 0x00FFFF12: PF(0x12 = 2 bits) = 1.
        Assert.Equal(EFlags.PF, h.Flags & Arith);
    }

    [Fact]
    public void ZeroCountChangesNeitherOperandNorFlags()
    {
        uint d = CpuHarness.DataBase;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(__dword_ptr[d], 0x80000001);
            asm.mov(al, 0x7F);
            asm.add(al, 1); // OF, SF, AF set
            asm.stc();
            asm.mov(cl, 32); // masks to 0
            asm.mov(edx, 0x12345678);
            asm.shl(__dword_ptr[d], cl);
            asm.rcr(edx, cl);
            asm.shld(edx, eax, 0);
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x80000001u, h.Memory.Read32(d));
        Assert.Equal(0x12345678u, h.Cpu.Edx);
        Assert.Equal(EFlags.OF | EFlags.SF | EFlags.AF | EFlags.CF, h.Flags & Arith);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void ReadOnlyMemoryOperandFaultsBeforeAnyChange(int count)
    {
        uint d = CpuHarness.DataBase;
        using var h = ExceptionHarness.Flat32(
            (Assembler asm, ref Label mark) =>
            {
                asm.mov(__dword_ptr[d], 0x11223344);
                asm.stc();
                asm.mov(ecx, (uint)count);
                asm.Label(ref mark);
                asm.sar(__dword_ptr.es[d], cl);
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
        Assert.Equal(0x11223344u, h.Memory.Read32(d));
        Assert.Equal((uint)count, h.Cpu.Ecx);
        Assert.Equal(EFlags.CF, x.Value.Eflags & Arith);
    }

    [Fact]
    public void RealModeShiftsUseSixteenBitOperandsAndAddressing()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.mov(bx, 0x2000);
            asm.mov(__word_ptr[bx], 0x8421);
            asm.mov(cl, 17);
            asm.rcl(__word_ptr[bx], cl); // 17 mod 17 = 0: unchanged, CF kept (0), OF = 0 ^ 1
            asm.seto(dl);
            asm.mov(ax, 0x00F0);
            asm.mov(si, 0xABCD);
            asm.shrd(ax, si, 4); // 0xD00F, CF = bit 3 of 0xF0 = 0
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x8421u, h.Memory.Read16(0x2000));
        Assert.Equal(1u, h.Cpu.Edx & 0xFF);
        Assert.Equal(0xD00Fu, h.Cpu.Eax & 0xFFFF);

        // 0xD00F: SF = 1, PF(0x0F) = 1, OF = bit15 ^ bit14 = 0, CF = 0, AF = 0.
        Assert.Equal(EFlags.SF | EFlags.PF, h.Flags & Arith);
    }

    // ------------------------------------------------------------------ guest code helpers

    /// <summary>Sets the six status flags with instructions this test does not exercise (ADD/XOR for OF, SAHF for the rest).</summary>
    internal static void SetFlags(Assembler asm, uint f)
    {
        if ((f & EFlags.OF) != 0)
        {
            asm.mov(bl, 0x7F);
            asm.add(bl, 1);
        }
        else
        {
            asm.xor(ebx, ebx);
        }

        asm.mov(ah, (byte)((f & 0xD5) | 2));
        asm.sahf();
    }

    /// <summary>Stores EDX and the flags (LAHF in the high byte, SETO in the low byte) at Results + 8 * index.</summary>
    internal static void StoreOutcome(Assembler asm, int index)
    {
        uint at = Results + (uint)(index * 8);
        asm.lahf();
        asm.seto(al);
        asm.mov(__dword_ptr[at], edx);
        asm.mov(__word_ptr[at + 4], ax);
    }

    internal static (uint Edx, uint Flags) Outcome(CpuHarness h, int index)
    {
        uint at = Results + (uint)(index * 8);
        uint ax = h.Memory.Read16(at + 4);
        uint flags = ((ax >> 8) & 0xD5) | ((ax & 1) != 0 ? EFlags.OF : 0);
        return (h.Memory.Read32(at), flags);
    }

    private static void EmitSingle(Assembler asm, string op, int bits, byte? imm)
    {
        switch (bits)
        {
            case 8:
                var r8 = dl;
                switch (op)
                {
                    case "shl": if (imm is byte a) { asm.shl(r8, a); } else { asm.shl(r8, cl); } break;
                    case "shr": if (imm is byte b) { asm.shr(r8, b); } else { asm.shr(r8, cl); } break;
                    case "sar": if (imm is byte c) { asm.sar(r8, c); } else { asm.sar(r8, cl); } break;
                    case "rol": if (imm is byte e) { asm.rol(r8, e); } else { asm.rol(r8, cl); } break;
                    case "ror": if (imm is byte g) { asm.ror(r8, g); } else { asm.ror(r8, cl); } break;
                    case "rcl": if (imm is byte i) { asm.rcl(r8, i); } else { asm.rcl(r8, cl); } break;
                    default: if (imm is byte j) { asm.rcr(r8, j); } else { asm.rcr(r8, cl); } break;
                }

                break;
            case 16:
                var r16 = dx;
                switch (op)
                {
                    case "shl": if (imm is byte a) { asm.shl(r16, a); } else { asm.shl(r16, cl); } break;
                    case "shr": if (imm is byte b) { asm.shr(r16, b); } else { asm.shr(r16, cl); } break;
                    case "sar": if (imm is byte c) { asm.sar(r16, c); } else { asm.sar(r16, cl); } break;
                    case "rol": if (imm is byte e) { asm.rol(r16, e); } else { asm.rol(r16, cl); } break;
                    case "ror": if (imm is byte g) { asm.ror(r16, g); } else { asm.ror(r16, cl); } break;
                    case "rcl": if (imm is byte i) { asm.rcl(r16, i); } else { asm.rcl(r16, cl); } break;
                    default: if (imm is byte j) { asm.rcr(r16, j); } else { asm.rcr(r16, cl); } break;
                }

                break;
            default:
                var r32 = edx;
                switch (op)
                {
                    case "shl": if (imm is byte a) { asm.shl(r32, a); } else { asm.shl(r32, cl); } break;
                    case "shr": if (imm is byte b) { asm.shr(r32, b); } else { asm.shr(r32, cl); } break;
                    case "sar": if (imm is byte c) { asm.sar(r32, c); } else { asm.sar(r32, cl); } break;
                    case "rol": if (imm is byte e) { asm.rol(r32, e); } else { asm.rol(r32, cl); } break;
                    case "ror": if (imm is byte g) { asm.ror(r32, g); } else { asm.ror(r32, cl); } break;
                    case "rcl": if (imm is byte i) { asm.rcl(r32, i); } else { asm.rcl(r32, cl); } break;
                    default: if (imm is byte j) { asm.rcr(r32, j); } else { asm.rcr(r32, cl); } break;
                }

                break;
        }
    }

    private static void EmitSingleMemory(Assembler asm, string op, int bits, byte? imm)
    {
        var m = bits switch { 8 => __byte_ptr[Scratch], 16 => __word_ptr[Scratch], _ => __dword_ptr[Scratch] };
        switch (op)
        {
            case "shl": if (imm is byte a) { asm.shl(m, a); } else { asm.shl(m, cl); } break;
            case "shr": if (imm is byte b) { asm.shr(m, b); } else { asm.shr(m, cl); } break;
            case "sar": if (imm is byte c) { asm.sar(m, c); } else { asm.sar(m, cl); } break;
            case "rol": if (imm is byte e) { asm.rol(m, e); } else { asm.rol(m, cl); } break;
            case "ror": if (imm is byte g) { asm.ror(m, g); } else { asm.ror(m, cl); } break;
            case "rcl": if (imm is byte i) { asm.rcl(m, i); } else { asm.rcl(m, cl); } break;
            default: if (imm is byte j) { asm.rcr(m, j); } else { asm.rcr(m, cl); } break;
        }
    }

    private static void EmitDouble(Assembler asm, string op, int bits, byte? imm)
    {
        bool left = op == "shld";
        if (bits == 16)
        {
            if (imm is byte n)
            {
                if (left)
                {
                    asm.shld(dx, bx, (sbyte)n);
                }
                else
                {
                    asm.shrd(dx, bx, (sbyte)n);
                }
            }
            else if (left)
            {
                asm.shld(dx, bx, cl);
            }
            else
            {
                asm.shrd(dx, bx, cl);
            }
        }
        else if (imm is byte n)
        {
            if (left)
            {
                asm.shld(edx, ebx, (sbyte)n);
            }
            else
            {
                asm.shrd(edx, ebx, (sbyte)n);
            }
        }
        else if (left)
        {
            asm.shld(edx, ebx, cl);
        }
        else
        {
            asm.shrd(edx, ebx, cl);
        }
    }

    private static void EmitDoubleMemory(Assembler asm, string op, int bits, byte? imm)
    {
        bool left = op == "shld";
        if (bits == 16)
        {
            var m = __word_ptr[Scratch];
            if (imm is byte n)
            {
                if (left)
                {
                    asm.shld(m, bx, (sbyte)n);
                }
                else
                {
                    asm.shrd(m, bx, (sbyte)n);
                }
            }
            else if (left)
            {
                asm.shld(m, bx, cl);
            }
            else
            {
                asm.shrd(m, bx, cl);
            }
        }
        else
        {
            var m = __dword_ptr[Scratch];
            if (imm is byte n)
            {
                if (left)
                {
                    asm.shld(m, ebx, (sbyte)n);
                }
                else
                {
                    asm.shrd(m, ebx, (sbyte)n);
                }
            }
            else if (left)
            {
                asm.shld(m, ebx, cl);
            }
            else
            {
                asm.shrd(m, ebx, cl);
            }
        }
    }

    // ------------------------------------------------------------------ reference model

    /// <summary>Applies the shift as single-bit steps per the SDM pseudocode; OF is the count-1 formula of the last step.</summary>
    private static (uint Result, uint Flags) SingleModel(string op, int bits, uint value, int rawCount, uint flagsIn)
    {
        uint mask = RefFlags.Mask(bits);
        uint msb = RefFlags.Msb(bits);
        int count = rawCount & 0x1F;
        uint x = value & mask;
        if (count == 0)
        {
            return (x, flagsIn & Arith);
        }

        bool cf = (flagsIn & EFlags.CF) != 0;
        bool of = false;
        for (int i = 0; i < count; i++)
        {
            bool top = (x & msb) != 0;
            bool low = (x & 1) != 0;
            uint y;
            switch (op)
            {
                case "shl":
                    y = (x << 1) & mask;
                    cf = top;
                    of = ((y & msb) != 0) != cf;
                    break;
                case "shr":
                    y = x >> 1;
                    cf = low;
                    of = top;
                    break;
                case "sar":
                    y = (x >> 1) | (x & msb);
                    cf = low;
                    of = false;
                    break;
                case "rol":
                    y = ((x << 1) & mask) | (top ? 1u : 0u);
                    cf = top;
                    of = ((y & msb) != 0) != cf;
                    break;
                case "ror":
                    y = (x >> 1) | (low ? msb : 0);
                    cf = low;
                    of = ((y & msb) != 0) != ((y & (msb >> 1)) != 0);
                    break;
                case "rcl":
                    y = ((x << 1) & mask) | (cf ? 1u : 0u);
                    cf = top;
                    of = ((y & msb) != 0) != cf;
                    break;
                default: // rcr: OF = MSB(dest) XOR CF, taken before the step
                    of = top != cf;
                    y = (x >> 1) | (cf ? msb : 0);
                    cf = low;
                    break;
            }

            x = y;
        }

        uint flags = op is "shl" or "shr" or "sar"
            ? RefFlags.Szp(x, bits) // AF = 0 (documented choice)
            : flagsIn & (EFlags.SF | EFlags.ZF | EFlags.AF | EFlags.PF);
        flags |= (cf ? EFlags.CF : 0) | (of ? EFlags.OF : 0);
        return (x, flags);
    }

    /// <summary>
    /// SHLD/SHRD over an explicit bit sequence: dst then src (then dst again for 16-bit operands, the
    /// documented choice for counts above 16), most significant first for SHLD, least first for SHRD.
    /// </summary>
    private static (uint Result, uint Flags) DoubleModel(string op, int bits, uint dst, uint src, int rawCount, uint flagsIn)
    {
        int count = rawCount & 0x1F;
        uint mask = RefFlags.Mask(bits);
        dst &= mask;
        src &= mask;
        if (count == 0)
        {
            return (dst, flagsIn & Arith);
        }

        bool left = op == "shld";
        var seq = new List<bool>();
        uint[] parts = bits == 16 ? [dst, src, dst] : [dst, src];
        foreach (uint p in parts)
        {
            for (int i = 0; i < bits; i++)
            {
                int bit = left ? bits - 1 - i : i;
                seq.Add(((p >> bit) & 1) != 0);
            }
        }

        uint r = 0;
        for (int k = 0; k < bits; k++)
        {
            if (seq[count + k])
            {
                r |= left ? 1u << (bits - 1 - k) : 1u << k;
            }
        }

        bool cf = seq[count - 1];
        bool msb = (r & RefFlags.Msb(bits)) != 0;
        bool next = (r & (RefFlags.Msb(bits) >> 1)) != 0;
        bool of = left ? msb != cf : msb != next;
        uint flags = RefFlags.Szp(r, bits) | (cf ? EFlags.CF : 0) | (of ? EFlags.OF : 0);
        return (r, flags);
    }
}
