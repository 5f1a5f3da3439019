using Emulator.Cpu.Decode;
using Iced.Intel;

namespace Emulator.Cpu.Execute;

/// <summary>
/// The decimal-arithmetic adjustments DAA, DAS, AAA, AAS, AAM and AAD (SDM Vol. 2 pseudocode).
/// Where the SDM leaves flags undefined the choice is written on each handler; they mostly follow
/// the Pentium 4 / Core 2 behaviour that sandpile.org records.
/// </summary>
public static unsafe class Bcd
{
    /// <summary>
    /// DAA. CF, AF, SF, ZF, PF as the SDM defines them; OF (undefined) is cleared, as on the
    /// Pentium 4 and Core 2 (sandpile.org). (An AMD EPYC was measured to set OF as the signed overflow
    /// of the whole 8-bit adjustment.)
    /// </summary>
    public static int Daa(Cpu c, ref MicroOp op)
    {
        uint f = c.GetEflags();
        uint al = c.RegByte(0);
        uint oldCf = f & EFlags.CF;
        uint result = al;
        uint af = 0;
        if ((al & 0x0F) > 9 || (f & EFlags.AF) != 0)
        {
            result += 6;
            af = EFlags.AF;
        }

        uint cf = 0;
        if (al > 0x99 || oldCf != 0)
        {
            result += 0x60;
            cf = EFlags.CF;
        }

        result &= 0xFF;
        c.RegByte(0) = (byte)result;
        c.SetLazyExplicit(0, result, cf | af);
        return Exec.Next;
    }

    /// <summary>DAS. CF, AF, SF, ZF, PF as the SDM defines them; OF (undefined) is cleared, as for <see cref="Daa"/>.</summary>
    public static int Das(Cpu c, ref MicroOp op)
    {
        uint f = c.GetEflags();
        uint al = c.RegByte(0);
        uint oldCf = f & EFlags.CF;
        uint result = al;
        uint af = 0;
        uint cf = 0;
        if ((al & 0x0F) > 9 || (f & EFlags.AF) != 0)
        {
            cf = oldCf | (al < 6 ? EFlags.CF : 0);
            result -= 6;
            af = EFlags.AF;
        }

        if (al > 0x99 || oldCf != 0)
        {
            result -= 0x60;
            cf = EFlags.CF;
        }

        result &= 0xFF;
        c.RegByte(0) = (byte)result;
        c.SetLazyExplicit(0, result, cf | af);
        return Exec.Next;
    }

    /// <summary>
    /// AAA: when AL's low nibble is above 9 or AF is set, AX += 0x106 and AF = CF = 1, else
    /// AF = CF = 0; then AL &amp;= 0x0F. OF, SF, ZF and PF are undefined: we clear OF and set SF, ZF
    /// and PF from the final AL (so SF = 0), close to the Pentium 4 pattern sandpile.org records.
    /// (An AMD EPYC was measured to take SF, ZF and PF from intermediate values instead.)
    /// </summary>
    public static int Aaa(Cpu c, ref MicroOp op)
    {
        uint f = c.GetEflags();
        uint ax = c.RegWord(0);
        uint adjust = 0;
        if ((ax & 0x0F) > 9 || (f & EFlags.AF) != 0)
        {
            ax += 0x106;
            adjust = EFlags.AF | EFlags.CF;
        }

        ax &= 0xFF0F;
        c.RegWord(0) = (ushort)ax;
        c.SetLazyExplicit(0, ax & 0xFF, adjust);
        return Exec.Next;
    }

    /// <summary>
    /// AAS: when AL's low nibble is above 9 or AF is set, AX -= 6, AH -= 1 and AF = CF = 1, else
    /// AF = CF = 0; then AL &amp;= 0x0F. Undefined flags as for <see cref="Aaa"/>.
    /// </summary>
    public static int Aas(Cpu c, ref MicroOp op)
    {
        uint f = c.GetEflags();
        uint ax = c.RegWord(0);
        uint adjust = 0;
        if ((ax & 0x0F) > 9 || (f & EFlags.AF) != 0)
        {
            ax = ax - 6 - 0x100;
            adjust = EFlags.AF | EFlags.CF;
        }

        ax &= 0xFF0F;
        c.RegWord(0) = (ushort)ax;
        c.SetLazyExplicit(0, ax & 0xFF, adjust);
        return Exec.Next;
    }

    /// <summary>
    /// AAM imm8: AH = AL / imm8, AL = AL mod imm8; #DE (nothing changed) when imm8 is 0. SF, ZF, PF
    /// from AL; OF, AF and CF (undefined) are cleared, as P5, P6 and Pentium 4 cores (sandpile.org)
    /// and an AMD EPYC do.
    /// </summary>
    public static int Aam(Cpu c, ref MicroOp op)
    {
        uint divisor = op.Imm;
        if (divisor == 0)
        {
            c.Fault(Vectors.DE);
            return Exec.Fault;
        }

        uint al = c.RegByte(0);
        uint q = al / divisor;
        uint r = al % divisor;
        c.RegWord(0) = (ushort)((q << 8) | r);
        c.SetLazyExplicit(0, r, 0);
        return Exec.Next;
    }

    /// <summary>
    /// AAD imm8: AL = (AL + AH * imm8) &amp; 0xFF, AH = 0. SF, ZF, PF from AL. OF, AF and CF
    /// (undefined) are those of the 8-bit addition AL + (AH * imm8 &amp; 0xFF), which is what Intel
    /// (P6 and later, per sandpile.org) and an AMD EPYC produce.
    /// </summary>
    public static int Aad(Cpu c, ref MicroOp op)
    {
        uint al = c.RegByte(0);
        uint product = (c.RegByte(1) * op.Imm) & 0xFF;
        uint result = (al + product) & 0xFF;
        c.RegWord(0) = (ushort)result;
        c.SetLazy(LazyKind.Add, 0, result, al, product);
        return Exec.Next;
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        switch (ins.Mnemonic)
        {
            case Mnemonic.Daa:
                op.Fn = &Daa;
                return true;
            case Mnemonic.Das:
                op.Fn = &Das;
                return true;
            case Mnemonic.Aaa:
                op.Fn = &Aaa;
                return true;
            case Mnemonic.Aas:
                op.Fn = &Aas;
                return true;
            case Mnemonic.Aam:
                op.Imm = ins.Immediate8;
                op.Fn = &Aam;
                return true;
            case Mnemonic.Aad:
                op.Imm = ins.Immediate8;
                op.Fn = &Aad;
                return true;
            default:
                return false;
        }
    }
}
