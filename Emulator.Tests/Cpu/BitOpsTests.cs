using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Cpu;

/// <summary>
/// BT/BTS/BTR/BTC and BSF/BSR. Memory bit offsets are checked against a model that treats memory
/// as one bit string (byte EA + floor(offset / 8), bit offset mod 8), independent of the
/// word/dword access the emulator makes. Documented choices checked: only CF changes after a bit
/// test; BSF/BSR set the other flags as TEST src,src would and keep the destination for a zero source.
/// </summary>
public class BitOpsTests
{
    private const uint Arith = RefFlags.Arith;

    /// <summary>A 256-byte bit string; memory forms address it from its middle.</summary>
    private const uint Bitmap = 0x1F0000;
    private const uint Middle = Bitmap + 128;

    public static readonly string[] Ops = ["bt", "bts", "btr", "btc"];

    private static readonly uint[] Offsets =
    [
        0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 200, 0x3FF, 0xFFFFFFFF, 0xFFFFFFF0, 0xFFFFFF01, 0x0000FFFF,
        0x00008001, 0xFFFF7FFF, 0x80000000,
    ];

    public static TheoryData<string, int, bool> RegisterForms()
    {
        var d = new TheoryData<string, int, bool>();
        foreach (string op in Ops)
        {
            foreach (int bits in new[] { 16, 32 })
            {
                d.Add(op, bits, true);
                d.Add(op, bits, false);
            }
        }

        return d;
    }

    [Theory]
    [MemberData(nameof(RegisterForms))]
    public void RegisterOperandTakesOffsetModuloWidth(string op, int bits, bool immediate)
    {
        uint[] values = [0, 0xFFFFFFFF, 0x12345678, 0x80000001];
        var cases = new List<(uint Value, uint Offset, uint FlagsIn)>();
        foreach (uint v in values)
        {
            foreach (uint off in Offsets)
            {
                cases.Add((v, immediate ? off & 0xFF : off, cases.Count % 2 == 0 ? 0 : Arith));
            }
        }

        using var h = CpuHarness.Flat32(asm =>
        {
            for (int i = 0; i < cases.Count; i++)
            {
                var (v, off, f) = cases[i];
                ShiftTests.SetFlags(asm, f);
                asm.mov(edx, v);
                asm.mov(ecx, off);
                EmitRegister(asm, op, bits, immediate ? (byte)off : null);
                ShiftTests.StoreOutcome(asm, i);
            }

            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(RunState.Halted, h.Cpu.State);

        for (int i = 0; i < cases.Count; i++)
        {
            var (v, off, f) = cases[i];
            int bit = (int)(off % (uint)bits);
            bool was = ((v >> bit) & 1) != 0;
            uint r = op switch
            {
                "bts" => v | (1u << bit),
                "btr" => v & ~(1u << bit),
                "btc" => v ^ (1u << bit),
                _ => v,
            };
            uint flags = (f & ~EFlags.CF) | (was ? EFlags.CF : 0);
            var (edxOut, flagsOut) = ShiftTests.Outcome(h, i);
            string what = $"{op} {bits}-bit 0x{v:x} bit {off}{(immediate ? " (imm8)" : string.Empty)}";
            Assert.True(r == edxOut, $"{what}: result 0x{edxOut:x}, expected 0x{r:x}");
            Assert.True(flags == flagsOut, $"{what}: flags {RefFlags.Describe(flagsOut)}, expected {RefFlags.Describe(flags)}");
        }
    }

    [Theory]
    [MemberData(nameof(RegisterForms))]
    public void MemoryOperandAddressesTheBitString(string op, int bits, bool immediate)
    {
        var rng = new Random(bits * 7 + op.Length + (immediate ? 1 : 0));
        byte[] initial = new byte[256];
        rng.NextBytes(initial);
        var offsets = new List<uint>();
        for (int i = 0; i < 120; i++)
        {
            // Register offsets reach +-1023 bits from the middle (and, for 16-bit operands, values whose
            // low word alone is that offset); immediates cover 0..255.
            int o = rng.Next(-1023, 1024);
            uint off = immediate ? (uint)rng.Next(0, 256) : (uint)o;
            if (!immediate && bits == 16 && i % 3 == 0)
            {
                off = (uint)(ushort)o | 0x5A5A0000;
            }

            offsets.Add(off);
        }

        using var h = CpuHarness.Flat32(asm =>
        {
            for (int i = 0; i < offsets.Count; i++)
            {
                asm.mov(ecx, offsets[i]);
                EmitMemory(asm, op, bits, immediate ? (byte)offsets[i] : null);
                asm.setb(__byte_ptr[ShiftTests.Results + (uint)i]);
            }

            asm.hlt();
        });
        h.Memory.Write(Bitmap, initial);
        h.RunToHalt();
        Assert.Equal(RunState.Halted, h.Cpu.State);

        byte[] model = (byte[])initial.Clone();
        for (int i = 0; i < offsets.Count; i++)
        {
            uint off = offsets[i];
            long bitIndex = immediate
                ? (long)(off % (uint)bits)
                : bits == 16 ? (short)off : (int)off;
            long absolute = (128L * 8) + bitIndex;
            int index = (int)(absolute >> 3);
            int bit = (int)(absolute & 7);
            bool was = ((model[index] >> bit) & 1) != 0;
            switch (op)
            {
                case "bts": model[index] |= (byte)(1 << bit); break;
                case "btr": model[index] &= (byte)~(1 << bit); break;
                case "btc": model[index] ^= (byte)(1 << bit); break;
            }

            Assert.True((was ? 1 : 0) == h.Memory.Read8(ShiftTests.Results + (uint)i), $"{op} {bits}-bit offset {(int)off}: CF");
        }

        byte[] actual = new byte[256];
        h.Memory.Read(Bitmap, actual);
        Assert.Equal(model, actual);
    }

    [Fact]
    public void LockedBitTestAndSetOnMemory()
    {
        uint d = CpuHarness.DataBase;
        using var h = CpuHarness.Flat32(asm =>
        {
            asm.mov(__dword_ptr[d], 0x0F);
            asm.mov(eax, 35); // dword d + 4, bit 3
            asm.@lock.bts(__dword_ptr[d], eax);
            asm.@lock.btr(__dword_ptr[d], 0);
            asm.@lock.btc(__word_ptr[d], 15);
            asm.hlt();
        });
        h.RunToHalt();
        Assert.Equal(0x800Eu, h.Memory.Read32(d));
        Assert.Equal(0x08u, h.Memory.Read32(d + 4));
        Assert.Equal(0u, h.Flags & EFlags.CF); // BTC saw bit 15 clear
    }

    [Fact]
    public void WritingBitTestOnReadOnlyMemoryFaultsWithoutChangingCarry()
    {
        uint d = CpuHarness.DataBase;
        using var h = ExceptionHarness.Flat32(
            (Assembler asm, ref Label mark) =>
            {
                asm.mov(__dword_ptr[d], 1);
                asm.bt(__dword_ptr.es[d], 0); // a read: allowed, CF = 1
                asm.mov(ecx, 0);
                asm.Label(ref mark);
                asm.btr(__dword_ptr.es[d], ecx);
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
        Assert.Equal(1u, h.Memory.Read32(d));
        Assert.Equal(EFlags.CF, h.Flags & EFlags.CF);
    }

    [Fact]
    public void SixteenBitAddressingWrapsTheAdjustedAddress()
    {
        using var h = CpuHarness.Real16(asm =>
        {
            asm.mov(bx, 0xFFFE);
            asm.mov(ax, 16); // the next word: (0xFFFE + 2) & 0xFFFF = 0
            asm.bt(__word_ptr[bx], ax);
            asm.setb(dl);
            asm.mov(bx, 0x2000);
            asm.mov(ax, 0xFFFF); // -1: bit 15 of the word at 0x1FFE
            asm.bts(__word_ptr[bx], ax);
            asm.hlt();
        });
        h.Memory.Write16(0x0000, 0x0001);
        h.Memory.Write16(0x10000, 0x0000);
        h.RunToHalt();
        Assert.Equal(1u, h.Cpu.Edx & 0xFF);
        Assert.Equal(0x8000u, h.Memory.Read16(0x1FFE));
        Assert.Equal(0u, h.Memory.Read16(0x2000));
    }

    public static TheoryData<uint, int> ScanCases()
    {
        var d = new TheoryData<uint, int>();
        foreach (uint v in new uint[] { 0, 1, 2, 0x80000000, 0x00018000, 0xFFFFFFFF, 0x00010000, 0x00F00000, 0x8000 })
        {
            d.Add(v, 16);
            d.Add(v, 32);
        }

        return d;
    }

    [Theory]
    [MemberData(nameof(ScanCases))]
    public void BitScansFindLowestAndHighestSetBit(uint value, int bits)
    {
        foreach (bool memory in new[] { false, true })
        {
            using var h = CpuHarness.Flat32(asm =>
            {
                asm.mov(__dword_ptr[CpuHarness.DataBase], value);
                asm.mov(ebx, value);
                asm.mov(al, 0x7F);
                asm.add(al, 1); // OF, SF, AF set: the scan must rewrite them
                asm.stc();
                asm.mov(ecx, 0xAAAAAAAA);
                asm.mov(edx, 0x55555555);
                if (bits == 16)
                {
                    if (memory)
                    {
                        asm.bsf(cx, __word_ptr[CpuHarness.DataBase]);
                        asm.bsr(dx, __word_ptr[CpuHarness.DataBase]);
                    }
                    else
                    {
                        asm.bsf(cx, bx);
                        asm.bsr(dx, bx);
                    }
                }
                else if (memory)
                {
                    asm.bsf(ecx, __dword_ptr[CpuHarness.DataBase]);
                    asm.bsr(edx, __dword_ptr[CpuHarness.DataBase]);
                }
                else
                {
                    asm.bsf(ecx, ebx);
                    asm.bsr(edx, ebx);
                }

                asm.hlt();
            });
            h.RunToHalt();

            uint src = value & RefFlags.Mask(bits);
            uint keepMask = ~RefFlags.Mask(bits);
            uint expectedEcx = 0xAAAAAAAA;
            uint expectedEdx = 0x55555555;
            if (src != 0)
            {
                int low = 0;
                while (((src >> low) & 1) == 0)
                {
                    low++;
                }

                int high = bits - 1;
                while (((src >> high) & 1) == 0)
                {
                    high--;
                }

                expectedEcx = (expectedEcx & keepMask) | (uint)low;
                expectedEdx = (expectedEdx & keepMask) | (uint)high;
            }

            Assert.Equal(expectedEcx, h.Cpu.Ecx);
            Assert.Equal(expectedEdx, h.Cpu.Edx);

            // As TEST src,src: ZF = (src == 0), SF and PF from the source, CF = OF = AF = 0.
            Assert.Equal(RefFlags.Szp(src, bits), h.Flags & Arith);
        }
    }

    private static void EmitRegister(Assembler asm, string op, int bits, byte? imm)
    {
        if (bits == 16)
        {
            switch (op)
            {
                case "bt": if (imm is byte a) { asm.bt(dx, (sbyte)a); } else { asm.bt(dx, cx); } break;
                case "bts": if (imm is byte b) { asm.bts(dx, (sbyte)b); } else { asm.bts(dx, cx); } break;
                case "btr": if (imm is byte c) { asm.btr(dx, (sbyte)c); } else { asm.btr(dx, cx); } break;
                default: if (imm is byte e) { asm.btc(dx, (sbyte)e); } else { asm.btc(dx, cx); } break;
            }
        }
        else
        {
            switch (op)
            {
                case "bt": if (imm is byte a) { asm.bt(edx, (sbyte)a); } else { asm.bt(edx, ecx); } break;
                case "bts": if (imm is byte b) { asm.bts(edx, (sbyte)b); } else { asm.bts(edx, ecx); } break;
                case "btr": if (imm is byte c) { asm.btr(edx, (sbyte)c); } else { asm.btr(edx, ecx); } break;
                default: if (imm is byte e) { asm.btc(edx, (sbyte)e); } else { asm.btc(edx, ecx); } break;
            }
        }
    }

    private static void EmitMemory(Assembler asm, string op, int bits, byte? imm)
    {
        var m = bits == 16 ? __word_ptr[Middle] : __dword_ptr[Middle];
        if (imm is byte n)
        {
            switch (op)
            {
                case "bt": asm.bt(m, (sbyte)n); break;
                case "bts": asm.bts(m, (sbyte)n); break;
                case "btr": asm.btr(m, (sbyte)n); break;
                default: asm.btc(m, (sbyte)n); break;
            }
        }
        else if (bits == 16)
        {
            switch (op)
            {
                case "bt": asm.bt(m, cx); break;
                case "bts": asm.bts(m, cx); break;
                case "btr": asm.btr(m, cx); break;
                default: asm.btc(m, cx); break;
            }
        }
        else
        {
            switch (op)
            {
                case "bt": asm.bt(m, ecx); break;
                case "bts": asm.bts(m, ecx); break;
                case "btr": asm.btr(m, ecx); break;
                default: asm.btc(m, ecx); break;
            }
        }
    }
}
