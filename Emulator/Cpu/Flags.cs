using System.Numerics;
using System.Runtime.CompilerServices;

namespace Emulator.Cpu;

/// <summary>EFLAGS bit masks (SDM Vol. 1, 3.4.3).</summary>
public static class EFlags
{
    public const uint CF = 1u << 0;
    public const uint Reserved1 = 1u << 1;
    public const uint PF = 1u << 2;
    public const uint AF = 1u << 4;
    public const uint ZF = 1u << 6;
    public const uint SF = 1u << 7;
    public const uint TF = 1u << 8;
    public const uint IF = 1u << 9;
    public const uint DF = 1u << 10;
    public const uint OF = 1u << 11;
    public const uint IOPL = 3u << 12;
    public const uint NT = 1u << 14;
    public const uint RF = 1u << 16;
    public const uint VM = 1u << 17;
    public const uint AC = 1u << 18;
    public const uint VIF = 1u << 19;
    public const uint VIP = 1u << 20;
    public const uint ID = 1u << 21;

    /// <summary>The six status flags that arithmetic instructions define.</summary>
    public const uint Arith = CF | PF | AF | ZF | SF | OF;

    /// <summary>Bits an i686 lets software change through POPF at CPL 0 (VM and RF excepted).</summary>
    public const uint Writable = Arith | TF | IF | DF | IOPL | NT | AC | ID;
}

/// <summary>
/// What the lazily kept status flags were produced by. Arithmetic instructions only record
/// their operands and result (QEMU's CC_OP scheme); the six status flags are computed when an
/// instruction actually reads them. The low two bits are the operand size index (0 = 8-bit,
/// 1 = 16-bit, 2 = 32-bit).
/// </summary>
public enum LazyKind : byte
{
    /// <summary>The status flags are materialised in <see cref="Cpu.FlagsBase"/>.</summary>
    None = 0,

    /// <summary>Result = Dst + Src (+ carry-in in bit 0 of Aux for ADC).</summary>
    Add = 1 << 2,

    /// <summary>Result = Dst - Src (- borrow-in in bit 0 of Aux for SBB); CMP and NEG too.</summary>
    Sub = 2 << 2,

    /// <summary>AND/OR/XOR/TEST: CF = OF = 0, AF = 0 (our documented choice for the undefined AF).</summary>
    Logic = 3 << 2,

    /// <summary>INC: CF kept (in bit 0 of Aux).</summary>
    Inc = 4 << 2,

    /// <summary>DEC: CF kept (in bit 0 of Aux).</summary>
    Dec = 5 << 2,

    /// <summary>ZF/SF/PF from the result; CF, AF and OF given explicitly in Aux at their EFLAGS bit positions.</summary>
    Explicit = 6 << 2,

    /// <summary>ADC: like Add with a carry-in in bit 0 of Aux.</summary>
    Adc = 7 << 2,

    /// <summary>SBB: like Sub with a borrow-in in bit 0 of Aux.</summary>
    Sbb = 8 << 2,
}

public sealed unsafe partial class Cpu
{
    /// <summary>EFLAGS except the six status flags while a lazy record is active.</summary>
    public uint FlagsBase = EFlags.Reserved1;

    /// <summary>The lazy record: kind | size index.</summary>
    public int LazyOp;
    public uint LazyResult;
    public uint LazyDst;
    public uint LazySrc;
    public uint LazyAux;

    private static ReadOnlySpan<uint> SizeMask => [0xFFu, 0xFFFFu, 0xFFFFFFFFu, 0];

    private static ReadOnlySpan<uint> SignBit => [0x80u, 0x8000u, 0x80000000u, 0];

    /// <summary>Records the flags of an instruction lazily. Size index: 0, 1, 2 for 8, 16, 32 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetLazy(LazyKind kind, int sizeIndex, uint result, uint dst, uint src)
    {
        LazyOp = (int)kind | sizeIndex;
        LazyResult = result;
        LazyDst = dst;
        LazySrc = src;
    }

    /// <summary>Records flags given explicitly: ZF/SF/PF from result, CF/AF/OF from <paramref name="coa"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetLazyExplicit(int sizeIndex, uint result, uint coa)
    {
        LazyOp = (int)LazyKind.Explicit | sizeIndex;
        LazyResult = result;
        LazyAux = coa & (EFlags.CF | EFlags.AF | EFlags.OF);
    }

    /// <summary>INC/DEC keep CF: capture it before recording the new lazy state.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetLazyIncDec(LazyKind kind, int sizeIndex, uint result, uint dst)
    {
        uint cf = GetCF();
        LazyOp = (int)kind | sizeIndex;
        LazyResult = result;
        LazyDst = dst;
        LazySrc = 1;
        LazyAux = cf;
    }

    /// <summary>ADC/SBB: records the carry/borrow that went in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetLazyCarry(LazyKind kind, int sizeIndex, uint result, uint dst, uint src, uint carryIn)
    {
        LazyOp = (int)kind | sizeIndex;
        LazyResult = result;
        LazyDst = dst;
        LazySrc = src;
        LazyAux = carryIn;
    }

    /// <summary>The carry flag alone (0 or 1), cheaper than the full set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint GetCF()
    {
        int op = LazyOp;
        if (op == 0)
        {
            return FlagsBase & EFlags.CF;
        }

        int size = op & 3;
        uint mask = SizeMask[size];
        switch ((LazyKind)(op & ~3))
        {
            case LazyKind.Add:
                return (LazyResult & mask) < (LazyDst & mask) ? 1u : 0u;
            case LazyKind.Sub:
                return (LazyDst & mask) < (LazySrc & mask) ? 1u : 0u;
            case LazyKind.Adc:
                return AddCarryOut(size) ? 1u : 0u;
            case LazyKind.Sbb:
                return SubBorrowOut(size) ? 1u : 0u;
            case LazyKind.Logic:
                return 0;
            case LazyKind.Inc:
            case LazyKind.Dec:
                return LazyAux & 1;
            default:
                return LazyAux & EFlags.CF;
        }
    }

    private bool AddCarryOut(int size)
    {
        ulong full = (ulong)(LazyDst & SizeMask[size]) + (LazySrc & SizeMask[size]) + (LazyAux & 1);
        return (full >> (8 << size)) != 0;
    }

    private bool SubBorrowOut(int size)
    {
        ulong sub = (ulong)(LazySrc & SizeMask[size]) + (LazyAux & 1);
        return (LazyDst & SizeMask[size]) < sub;
    }

    /// <summary>Computes the six status flags from the lazy record.</summary>
    public uint ComputeArithFlags()
    {
        int op = LazyOp;
        if (op == 0)
        {
            return FlagsBase & EFlags.Arith;
        }

        int size = op & 3;
        uint mask = SizeMask[size];
        uint sign = SignBit[size];
        uint res = LazyResult & mask;
        uint dst = LazyDst;
        uint src = LazySrc;
        uint f = 0;
        if (res == 0)
        {
            f |= EFlags.ZF;
        }

        if ((res & sign) != 0)
        {
            f |= EFlags.SF;
        }

        if ((BitOperations.PopCount(res & 0xFF) & 1) == 0)
        {
            f |= EFlags.PF;
        }

        switch ((LazyKind)(op & ~3))
        {
            case LazyKind.Add:
            case LazyKind.Adc:
                if ((LazyKind)(op & ~3) == LazyKind.Add ? res < (dst & mask) : AddCarryOut(size))
                {
                    f |= EFlags.CF;
                }

                f |= (dst ^ src ^ res) & EFlags.AF;
                if (((dst ^ res) & (src ^ res) & sign) != 0)
                {
                    f |= EFlags.OF;
                }

                break;
            case LazyKind.Sub:
            case LazyKind.Sbb:
                if ((LazyKind)(op & ~3) == LazyKind.Sub ? (dst & mask) < (src & mask) : SubBorrowOut(size))
                {
                    f |= EFlags.CF;
                }

                f |= (dst ^ src ^ res) & EFlags.AF;
                if (((dst ^ src) & (dst ^ res) & sign) != 0)
                {
                    f |= EFlags.OF;
                }

                break;
            case LazyKind.Logic:
                break;
            case LazyKind.Inc:
                f |= LazyAux & 1;
                f |= (dst ^ 1 ^ res) & EFlags.AF;
                if (res == sign)
                {
                    f |= EFlags.OF;
                }

                break;
            case LazyKind.Dec:
                f |= LazyAux & 1;
                f |= (dst ^ 1 ^ res) & EFlags.AF;
                if (res == sign - 1)
                {
                    f |= EFlags.OF;
                }

                break;
            default:
                f |= LazyAux;
                break;
        }

        return f;
    }

    /// <summary>The architectural EFLAGS value.</summary>
    public uint GetEflags() => (FlagsBase & ~EFlags.Arith) | ComputeArithFlags();

    /// <summary>Replaces EFLAGS (all bits; the caller applies privilege masks).</summary>
    public void SetEflags(uint value)
    {
        FlagsBase = (value & 0x003F7FD5u) | EFlags.Reserved1;
        LazyOp = 0;
    }

    /// <summary>Writes only the six status flags, leaving the rest (used by SAHF, POPF, BCD ops).</summary>
    public void SetArithFlags(uint arith, uint which = EFlags.Arith)
    {
        uint current = GetEflags();
        FlagsBase = (current & ~which) | (arith & which);
        LazyOp = 0;
    }

    /// <summary>
    /// Writes CF and OF only (ROL, ROR), leaving the other status flags. <paramref name="cf"/> and
    /// <paramref name="of"/> are 0 or 1. After a logic op or another CF/OF-only write the lazy
    /// record stays lazy (the <see cref="LazyKind.Explicit"/> kind keeps ZF/SF/PF in the result
    /// and takes CF/AF/OF as given; a logic op's AF is 0), so a rotate after XOR does not build
    /// EFLAGS; after any other kind the flags are materialised as <see cref="SetArithFlags"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetCarryOverflow(uint cf, uint of)
    {
        int kind = LazyOp & ~3;
        if (kind == (int)LazyKind.Logic)
        {
            LazyOp = (int)LazyKind.Explicit | (LazyOp & 3);
            LazyAux = cf | (of << 11);
        }
        else if (kind == (int)LazyKind.Explicit)
        {
            LazyAux = (LazyAux & EFlags.AF) | cf | (of << 11);
        }
        else
        {
            SetArithFlags(cf | (of << 11), EFlags.CF | EFlags.OF);
        }
    }

    /// <summary>
    /// Evaluates condition code <paramref name="cc"/> (the low nibble of Jcc/SETcc/CMOVcc:
    /// O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G). The common compare-and-branch
    /// cases after SUB/CMP and logic ops are answered from the operands directly, without
    /// building EFLAGS.
    /// </summary>
    public bool Condition(int cc)
    {
        int op = LazyOp;
        if (op != 0 && (uint)(cc - 4) <= 1)
        {
            // ZF comes from the result for every lazy kind: the loop-closing DEC/JNZ case.
            bool zero = (LazyResult & SizeMask[op & 3]) == 0;
            return cc == 4 ? zero : !zero;
        }

        if ((op & ~3) == (int)LazyKind.Sub)
        {
            int size = op & 3;
            int shift = 24 - (size << 3);
            if (shift < 0)
            {
                shift = 0;
            }

            uint mask = SizeMask[size];
            uint d = LazyDst & mask;
            uint s = LazySrc & mask;
            int sd = (int)(d << shift);
            int ss = (int)(s << shift);
            switch (cc)
            {
                case 2: return d < s;
                case 3: return d >= s;
                case 4: return d == s;
                case 5: return d != s;
                case 6: return d <= s;
                case 7: return d > s;
                case 12: return sd < ss;
                case 13: return sd >= ss;
                case 14: return sd <= ss;
                case 15: return sd > ss;
            }
        }
        else if ((op & ~3) == (int)LazyKind.Logic)
        {
            int size = op & 3;
            uint res = LazyResult & SizeMask[size];
            bool neg = (res & SignBit[size]) != 0;
            switch (cc)
            {
                case 0: return false;
                case 1: return true;
                case 2: return false;
                case 3: return true;
                case 4: return res == 0;
                case 5: return res != 0;
                case 6: return res == 0;
                case 7: return res != 0;
                case 8: return neg;
                case 9: return !neg;
                case 12: return neg;
                case 13: return !neg;
                case 14: return res == 0 || neg;
                case 15: return res != 0 && !neg;
            }
        }

        return ConditionFromFlags(cc, ComputeArithFlags());
    }

    public static bool ConditionFromFlags(int cc, uint f)
    {
        bool r = (cc >> 1) switch
        {
            0 => (f & EFlags.OF) != 0,
            1 => (f & EFlags.CF) != 0,
            2 => (f & EFlags.ZF) != 0,
            3 => (f & (EFlags.CF | EFlags.ZF)) != 0,
            4 => (f & EFlags.SF) != 0,
            5 => (f & EFlags.PF) != 0,
            6 => ((f & EFlags.SF) != 0) != ((f & EFlags.OF) != 0),
            _ => (f & EFlags.ZF) != 0 || (((f & EFlags.SF) != 0) != ((f & EFlags.OF) != 0)),
        };
        return (cc & 1) != 0 ? !r : r;
    }
}
