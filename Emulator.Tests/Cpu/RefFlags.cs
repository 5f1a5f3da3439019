using Emulator.Cpu;

namespace Emulator.Tests.Cpu;

/// <summary>Independent flag arithmetic for expected values in tests (deliberately not the emulator's code).</summary>
public static class RefFlags
{
    public const uint Arith = EFlags.CF | EFlags.PF | EFlags.AF | EFlags.ZF | EFlags.SF | EFlags.OF;

    public static uint Mask(int bits) => bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1;

    public static uint Msb(int bits) => 1u << (bits - 1);

    /// <summary>PF: set when the low byte has an even number of 1 bits (counted one by one).</summary>
    public static uint Parity(uint value)
    {
        int ones = 0;
        for (int i = 0; i < 8; i++)
        {
            ones += (int)((value >> i) & 1);
        }

        return ones % 2 == 0 ? EFlags.PF : 0;
    }

    /// <summary>SF, ZF and PF of a <paramref name="bits"/>-wide result.</summary>
    public static uint Szp(uint result, int bits)
    {
        result &= Mask(bits);
        uint f = Parity(result);
        if (result == 0)
        {
            f |= EFlags.ZF;
        }

        if ((result & Msb(bits)) != 0)
        {
            f |= EFlags.SF;
        }

        return f;
    }

    /// <summary>All six flags of the <paramref name="bits"/>-wide subtraction a - b (CMP), from first principles.</summary>
    public static uint Sub(uint a, uint b, int bits)
    {
        uint mask = Mask(bits);
        a &= mask;
        b &= mask;
        uint r = (a - b) & mask;
        long signed = SignExtend(a, bits) - SignExtend(b, bits);
        uint f = Szp(r, bits);
        f |= a < b ? EFlags.CF : 0;
        f |= (a & 0xF) < (b & 0xF) ? EFlags.AF : 0;
        f |= signed < -(1L << (bits - 1)) || signed >= 1L << (bits - 1) ? EFlags.OF : 0;
        return f;
    }

    /// <summary>All six flags of the <paramref name="bits"/>-wide addition a + b, from first principles.</summary>
    public static uint Add(uint a, uint b, int bits)
    {
        uint mask = Mask(bits);
        a &= mask;
        b &= mask;
        ulong wide = (ulong)a + b;
        long signed = SignExtend(a, bits) + SignExtend(b, bits);
        uint f = Szp((uint)wide, bits);
        f |= wide > mask ? EFlags.CF : 0;
        f |= (a & 0xF) + (b & 0xF) > 0xF ? EFlags.AF : 0;
        f |= signed < -(1L << (bits - 1)) || signed >= 1L << (bits - 1) ? EFlags.OF : 0;
        return f;
    }

    public static long SignExtend(uint v, int bits) => bits switch
    {
        8 => (sbyte)v,
        16 => (short)v,
        _ => (int)v,
    };

    public static string Describe(uint flags)
    {
        flags &= Arith;
        string s = string.Empty;
        s += (flags & EFlags.OF) != 0 ? "O" : "-";
        s += (flags & EFlags.SF) != 0 ? "S" : "-";
        s += (flags & EFlags.ZF) != 0 ? "Z" : "-";
        s += (flags & EFlags.AF) != 0 ? "A" : "-";
        s += (flags & EFlags.PF) != 0 ? "P" : "-";
        s += (flags & EFlags.CF) != 0 ? "C" : "-";
        return s;
    }
}
