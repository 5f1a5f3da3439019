using Emulator.Cpu;
using Iced.Intel;

namespace Emulator.Tests.Oracle;

/// <summary>
/// The flags each instruction DEFINES (SDM Vol. 2, the instruction's "Flags Affected" section;
/// AMD APM Vol. 3 agrees for every form here). Flags an instruction leaves unchanged are defined
/// (they must keep their input value), so they are compared too. Only undefined flags are
/// masked out: the host is an AMD or Intel CPU and the emulator documents its own choice for
/// each undefined flag in its handler, so these may legitimately differ.
/// </summary>
public static class DefinedFlags
{
    public const uint Status = EFlags.CF | EFlags.PF | EFlags.AF | EFlags.ZF | EFlags.SF | EFlags.OF;

    /// <summary>Everything compared: the six status flags and DF.</summary>
    public const uint All = Status | EFlags.DF;

    /// <summary>ADD ADC SUB SBB CMP NEG, INC DEC (CF unchanged), CMPXCHG, XADD, CMPS, SCAS: all six defined.</summary>
    public const uint Arith = All;

    /// <summary>AND OR XOR TEST: OF = CF = 0, SF ZF PF from the result, AF undefined.</summary>
    public const uint Logic = All & ~EFlags.AF;

    /// <summary>NOT, SETcc, CMOVcc, BSWAP, MOVZX, MOVSX, MOVS, STOS, LODS: no flag affected.</summary>
    public const uint Unaffected = All;

    /// <summary>MUL, IMUL (all forms): CF and OF defined; SF ZF AF PF undefined.</summary>
    public const uint Mul = EFlags.CF | EFlags.OF | EFlags.DF;

    /// <summary>DIV, IDIV: CF OF SF ZF AF PF all undefined.</summary>
    public const uint Div = EFlags.DF;

    /// <summary>BT BTS BTR BTC: CF = the bit; ZF unaffected; OF SF AF PF undefined.</summary>
    public const uint Bt = EFlags.CF | EFlags.ZF | EFlags.DF;

    /// <summary>BSF BSR: ZF defined (source zero); CF OF SF AF PF undefined.</summary>
    public const uint Bsf = EFlags.ZF | EFlags.DF;

    /// <summary>
    /// Shifts and rotates, from the count masked to 5 bits (SDM "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR",
    /// "SHLD", "SHRD"): a masked count of 0 affects no flag (all compared). Otherwise OF is
    /// defined only for a count of 1. Rotates: CF defined, SF ZF AF PF unaffected. Shifts: CF SF
    /// ZF PF defined, AF undefined; for SHL/SHR CF is undefined when the count is at least the
    /// operand width (8- and 16-bit forms). SHLD/SHRD counts above the width are undefined
    /// altogether and are not generated.
    /// </summary>
    public static uint Shift(ShiftKind kind, int width, int count)
    {
        int c = count & 0x1F;
        if (c == 0)
        {
            return All;
        }

        uint m = c == 1 ? All : All & ~EFlags.OF;
        if (kind is ShiftKind.Rol or ShiftKind.Ror or ShiftKind.Rcl or ShiftKind.Rcr)
        {
            return m;
        }

        m &= ~EFlags.AF;
        if (kind is ShiftKind.Shl or ShiftKind.Shr && c >= width)
        {
            m &= ~EFlags.CF;
        }

        return m;
    }
}

public enum ShiftKind
{
    Rol,
    Ror,
    Rcl,
    Rcr,
    Shl,
    Shr,
    Sar,
    Shld,
    Shrd,
}

/// <summary>One instruction form under test: the Iced code and operands, how inputs are made, which flags are compared.</summary>
public sealed class OracleForm
{
    /// <summary>The memory operand placeholder in <see cref="Operands"/>.</summary>
    public static readonly object M = new();

    /// <summary>The immediate operand placeholder in <see cref="Operands"/> (the value is <see cref="OracleCase.Imm"/>).</summary>
    public static readonly object I = new();

    public required string Name { get; init; }

    public required string Family { get; init; }

    /// <summary>The operand width the random inputs and masks use.</summary>
    public required int Width { get; init; }

    public Code Code { get; init; }

    /// <summary>Registers (<see cref="Register"/>), <see cref="M"/> or <see cref="I"/>.</summary>
    public object[] Operands { get; init; } = [];

    /// <summary>Width of the immediate (8, 16, 32), 0 when there is none.</summary>
    public int ImmBits { get; init; }

    /// <summary>String forms: the instruction for an address size (64 natively, 32 in the emulator).</summary>
    public Func<int, Instruction>? StringFactory { get; init; }

    public required Func<OracleCase, uint> Defined { get; init; }

    public Action<Random, OracleCase>? Prepare { get; init; }

    /// <summary>True when the case raises #DE: it is not run natively and the emulator must raise #DE with nothing changed.</summary>
    public Func<OracleCase, bool>? Faults { get; init; }

    /// <summary>True when the destination (EAX) is undefined for this case (BSF/BSR of zero): only the flags are compared.</summary>
    public Func<OracleCase, bool>? ResultUndefined { get; init; }

    public bool Strings => StringFactory is not null;

    public Instruction Build(OracleCase c, bool native)
    {
        if (StringFactory is not null)
        {
            return StringFactory(native ? 64 : 32);
        }

        MemoryOperand mem = native ? NativeExecutor.MemOperand : EmulatorExecutor.MemOperand;
        object[] o = Operands.Select(x => ReferenceEquals(x, M) ? mem : ReferenceEquals(x, I) ? (object)c.Imm : x).ToArray();
        return o switch
        {
            [Register r] => Instruction.Create(Code, r),
            [MemoryOperand m] => Instruction.Create(Code, m),
            [Register a, Register b] => Instruction.Create(Code, a, b),
            [Register a, MemoryOperand m] => Instruction.Create(Code, a, m),
            [MemoryOperand m, Register b] => Instruction.Create(Code, m, b),
            [Register a, int i] => Instruction.Create(Code, a, i),
            [MemoryOperand m, int i] => Instruction.Create(Code, m, i),
            [Register a, Register b, Register c2] => Instruction.Create(Code, a, b, c2),
            [MemoryOperand m, Register b, Register c2] => Instruction.Create(Code, m, b, c2),
            [Register a, Register b, int i] => Instruction.Create(Code, a, b, i),
            [MemoryOperand m, Register b, int i] => Instruction.Create(Code, m, b, i),
            [Register a, MemoryOperand m, int i] => Instruction.Create(Code, a, m, i),
            _ => throw new InvalidOperationException($"operand pattern of {Name} not handled"),
        };
    }

    public override string ToString() => Name;
}
