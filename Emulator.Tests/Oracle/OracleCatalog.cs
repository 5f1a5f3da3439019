using Emulator.Cpu;
using Iced.Intel;
using static Emulator.Tests.Oracle.OracleForm;

namespace Emulator.Tests.Oracle;

/// <summary>
/// Every form the differential test covers, by family, and the random input generation.
/// Operands: the destination in EAX's family (AL/AX/EAX), the source in EBX's, counts in CL,
/// the memory operand in the state block. Forms not covered, with the reason, are listed in
/// <see cref="Skipped"/> (and in docs/testing.md).
/// </summary>
public static class OracleCatalog
{
    public static readonly string[] Families = ["Alu", "Unary", "Shift", "MulDiv", "Bits", "Atomic", "SetCmov", "Move", "String"];

    public static readonly (string Form, string Reason)[] Skipped =
    [
        ("INC/DEC r16/r32 (0x40-0x4F)", "REX prefixes in 64-bit mode; the ModRM forms (FE/FF /0 /1), which run the same operation, are covered"),
        ("SHLD/SHRD 16-bit with count 17..31", "result and flags undefined (SDM: count greater than the operand size)"),
        ("BSWAP r16", "undefined (SDM)"),
        ("BT/BTS/BTR/BTC m, r with offsets outside the 16-byte operand area", "bit-string addressing reaches memory the two executors lay out differently; offsets 0..127 are covered"),
        ("string ops with 16-bit addressing (0x67)", "address size 16 does not exist in 64-bit mode"),
        ("AAA/AAS/DAA/DAS/AAM/AAD, PUSHA/POPA, BOUND, INTO, LES/LDS, far transfers", "invalid in 64-bit mode, so there is no native reference"),
        ("DIV/IDIV that raise #DE", "not executed natively (SIGFPE); the emulator must raise #DE with registers and memory unchanged"),
    ];

    private static readonly uint[] Edges =
    [
        0, 1, 2, 0xF, 0x10, 0x7F, 0x80, 0x81, 0xFF, 0x7FFF, 0x8000, 0x8001, 0xFFFF,
        0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF,
    ];

    private static readonly string[] Conditions = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

    public static uint Mask(int bits) => bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1;

    /// <summary>A random 32-bit value whose low <paramref name="width"/> bits are often an edge value or small.</summary>
    public static uint Value(Random r, int width)
    {
        uint v = (uint)r.NextInt64(0, 1L << 32);
        uint mask = Mask(width);
        return r.Next(4) switch
        {
            0 => (v & ~mask) | (Edges[r.Next(Edges.Length)] & mask),
            1 => (v & ~mask) | (uint)r.Next(0, 17),
            _ => v,
        };
    }

    /// <summary>A shift or rotate count: 0, 1, w-1, w, w+1, 31, 32, 33, 63, 255, or random.</summary>
    public static int Count(Random r, int width)
    {
        int[] special = [0, 1, width - 1, width, width + 1, 31, 32, 33, 63, 255];
        return r.Next(3) == 0 ? r.Next(256) : r.Next(2) == 0 ? r.Next(33) : special[r.Next(special.Length)];
    }

    public static OracleCase NewCase(Random r, OracleForm f)
    {
        var c = new OracleCase();
        for (int i = 0; i < 6; i++)
        {
            c.Regs[i] = Value(r, f.Width);
        }

        uint flags = 0x202;
        foreach (uint bit in new[] { EFlags.CF, EFlags.PF, EFlags.AF, EFlags.ZF, EFlags.SF, EFlags.OF })
        {
            flags |= r.Next(2) == 0 ? bit : 0;
        }

        c.Flags = flags;
        r.NextBytes(c.Mem);
        BitConverter.GetBytes(Value(r, f.Width)).CopyTo(c.Mem, 0);
        r.NextBytes(c.Src);
        r.NextBytes(c.Dst);
        c.Imm = f.ImmBits switch
        {
            8 => (sbyte)Value(r, 8),
            16 => (short)Value(r, 16),
            32 => (int)Value(r, 32),
            _ => 0,
        };
        f.Prepare?.Invoke(r, c);
        return c;
    }

    public static IEnumerable<OracleForm> Family(string family) => All.Where(f => f.Family == family);

    public static readonly IReadOnlyList<OracleForm> All = Build();

    private static Register R(char slot, int width) => (slot, width) switch
    {
        ('a', 8) => Register.AL,
        ('a', 16) => Register.AX,
        ('a', 32) => Register.EAX,
        ('b', 8) => Register.BL,
        ('b', 16) => Register.BX,
        ('b', 32) => Register.EBX,
        ('c', 8) => Register.CL,
        ('c', 16) => Register.CX,
        ('c', 32) => Register.ECX,
        _ => throw new ArgumentException($"{slot}{width}"),
    };

    private static Code C(string name) => Enum.Parse<Code>(name);

    private static string Imm(int w) => w == 8 ? "imm8" : w == 16 ? "imm16" : "imm32";

    private static List<OracleForm> Build()
    {
        var list = new List<OracleForm>();
        int[] widths = [8, 16, 32];

        // ALU: ADD OR ADC SBB AND SUB XOR CMP, and TEST.
        foreach (string op in new[] { "Add", "Or", "Adc", "Sbb", "And", "Sub", "Xor", "Cmp", "Test" })
        {
            uint defined = op is "Or" or "And" or "Xor" or "Test" ? DefinedFlags.Logic : DefinedFlags.Arith;
            Func<OracleCase, uint> d = _ => defined;
            foreach (int w in widths)
            {
                string rm = $"rm{w}", r = $"r{w}";
                string acc = w == 8 ? "AL_imm8" : w == 16 ? "AX_imm16" : "EAX_imm32";
                void Add(string suffix, object[] ops, int immBits = 0) =>
                    list.Add(new OracleForm { Name = $"{op}_{suffix} {Describe(ops)}", Family = "Alu", Width = w, Code = C($"{op}_{suffix}"), Operands = ops, ImmBits = immBits, Defined = d });
                Add($"{rm}_{r}", [R('a', w), R('b', w)]);
                Add($"{rm}_{r}", [M, R('b', w)]);
                Add($"{rm}_{Imm(w)}", [R('a', w), I], w);
                Add($"{rm}_{Imm(w)}", [M, I], w);
                Add(acc, [R('a', w), I], w);
                if (op != "Test")
                {
                    Add($"{r}_{rm}", [R('a', w), M]);
                    if (w > 8)
                    {
                        Add($"{rm}_imm8", [R('a', w), I], 8);
                        Add($"{rm}_imm8", [M, I], 8);
                    }
                }

                if (w == 8)
                {
                    Add($"{rm}_{r}", [Register.AH, Register.BL]);
                    Add($"{rm}_{r}", [Register.BL, Register.CH]);
                }
            }
        }

        // INC DEC NEG NOT (ModRM forms).
        foreach (string op in new[] { "Inc", "Dec", "Neg", "Not" })
        {
            uint defined = op == "Not" ? DefinedFlags.Unaffected : DefinedFlags.Arith;
            foreach (int w in widths)
            {
                foreach (object o in new object[] { R('a', w), M })
                {
                    list.Add(new OracleForm { Name = $"{op}_rm{w} {Describe([o])}", Family = "Unary", Width = w, Code = C($"{op}_rm{w}"), Operands = [o], Defined = _ => defined });
                }

                if (w == 8)
                {
                    list.Add(new OracleForm { Name = $"{op}_rm8 ah", Family = "Unary", Width = w, Code = C($"{op}_rm8"), Operands = [Register.AH], Defined = _ => defined });
                }
            }
        }

        AddShifts(list, widths);
        AddMulDiv(list, widths);
        AddBits(list);
        AddAtomic(list, widths);
        AddSetCmov(list);
        AddMoves(list);
        AddStrings(list, widths);
        return list;
    }

    private static void AddShifts(List<OracleForm> list, int[] widths)
    {
        foreach (var kind in new[] { ShiftKind.Rol, ShiftKind.Ror, ShiftKind.Rcl, ShiftKind.Rcr, ShiftKind.Shl, ShiftKind.Shr, ShiftKind.Sar })
        {
            foreach (int w in widths)
            {
                string baseName = $"{kind}_rm{w}";
                foreach (object dst in new object[] { R('a', w), M })
                {
                    list.Add(new OracleForm
                    {
                        Name = $"{baseName}_CL {Describe([dst])}, cl",
                        Family = "Shift",
                        Width = w,
                        Code = C($"{baseName}_CL"),
                        Operands = [dst, Register.CL],
                        Prepare = (r, c) => c.Ecx = (c.Ecx & ~0xFFu) | (uint)Count(r, w),
                        Defined = c => DefinedFlags.Shift(kind, w, (int)(c.Ecx & 0xFF)),
                    });
                    list.Add(new OracleForm
                    {
                        Name = $"{baseName}_imm8 {Describe([dst])}, imm",
                        Family = "Shift",
                        Width = w,
                        Code = C($"{baseName}_imm8"),
                        Operands = [dst, I],
                        ImmBits = 8,
                        Prepare = (r, c) => c.Imm = (sbyte)Count(r, w),
                        Defined = c => DefinedFlags.Shift(kind, w, c.Imm & 0xFF),
                    });
                }

                list.Add(new OracleForm
                {
                    Name = $"{baseName}_1 {Describe([R('a', w)])}, 1",
                    Family = "Shift",
                    Width = w,
                    Code = C($"{baseName}_1"),
                    Operands = [R('a', w), I],
                    ImmBits = 8,
                    Prepare = (r, c) => c.Imm = 1,
                    Defined = c => DefinedFlags.Shift(kind, w, 1),
                });
            }
        }

        foreach (var kind in new[] { ShiftKind.Shld, ShiftKind.Shrd })
        {
            foreach (int w in new[] { 16, 32 })
            {
                string baseName = $"{kind}_rm{w}_r{w}";

                // Counts above the width (16-bit forms) are undefined: drawn again.
                int DefinedCount(Random r)
                {
                    int n;
                    do
                    {
                        n = Count(r, w);
                    }
                    while ((n & 0x1F) > w);
                    return n;
                }

                foreach (object dst in new object[] { R('a', w), M })
                {
                    list.Add(new OracleForm
                    {
                        Name = $"{baseName}_CL {Describe([dst])}, {R('b', w)}, cl",
                        Family = "Shift",
                        Width = w,
                        Code = C($"{baseName}_CL"),
                        Operands = [dst, R('b', w), Register.CL],
                        Prepare = (r, c) => c.Ecx = (c.Ecx & ~0xFFu) | (uint)DefinedCount(r),
                        Defined = c => DefinedFlags.Shift(kind, w, (int)(c.Ecx & 0xFF)),
                    });
                }

                list.Add(new OracleForm
                {
                    Name = $"{baseName}_imm8 {Describe([R('a', w)])}, {R('b', w)}, imm",
                    Family = "Shift",
                    Width = w,
                    Code = C($"{baseName}_imm8"),
                    Operands = [R('a', w), R('b', w), I],
                    ImmBits = 8,
                    Prepare = (r, c) => c.Imm = (sbyte)DefinedCount(r),
                    Defined = c => DefinedFlags.Shift(kind, w, c.Imm & 0xFF),
                });
            }
        }
    }

    private static void AddMulDiv(List<OracleForm> list, int[] widths)
    {
        foreach (string op in new[] { "Mul", "Imul", "Div", "Idiv" })
        {
            bool div = op is "Div" or "Idiv";
            bool signed = op == "Idiv";
            foreach (int w in widths)
            {
                foreach (object src in new object[] { R('b', w), M })
                {
                    bool mem = ReferenceEquals(src, M);
                    uint Divisor(OracleCase c) => (mem ? c.Mem32 : c.Ebx) & Mask(w);
                    list.Add(new OracleForm
                    {
                        Name = $"{op}_rm{w} {Describe([src])}",
                        Family = "MulDiv",
                        Width = w,
                        Code = C($"{op}_rm{w}"),
                        Operands = [src],
                        Defined = _ => div ? DefinedFlags.Div : DefinedFlags.Mul,
                        Prepare = div ? (r, c) => PrepareDivide(r, c, w, signed, mem) : null,
                        Faults = div ? c => DivideFaults(c, w, signed, Divisor(c)) : null,
                    });
                }
            }
        }

        foreach (int w in new[] { 16, 32 })
        {
            Func<OracleCase, uint> mul = _ => DefinedFlags.Mul;
            string rr = $"Imul_r{w}_rm{w}";
            list.Add(new OracleForm { Name = $"{rr} {Describe([R('a', w), R('b', w)])}", Family = "MulDiv", Width = w, Code = C(rr), Operands = [R('a', w), R('b', w)], Defined = mul });
            list.Add(new OracleForm { Name = $"{rr} {Describe([R('a', w), M])}", Family = "MulDiv", Width = w, Code = C(rr), Operands = [R('a', w), M], Defined = mul });
            foreach (int ib in new[] { 8, w })
            {
                string name = $"{rr}_imm{ib}";
                list.Add(new OracleForm { Name = $"{name} {Describe([R('a', w), R('b', w)])}, imm", Family = "MulDiv", Width = w, Code = C(name), Operands = [R('a', w), R('b', w), I], ImmBits = ib, Defined = mul });
                list.Add(new OracleForm { Name = $"{name} {Describe([R('a', w), M])}, imm", Family = "MulDiv", Width = w, Code = C(name), Operands = [R('a', w), M, I], ImmBits = ib, Defined = mul });
            }
        }
    }

    /// <summary>Three cases in four get a dividend whose quotient fits (the rest are left random and mostly fault).</summary>
    private static void PrepareDivide(Random r, OracleCase c, int w, bool signed, bool mem)
    {
        if (r.Next(4) == 0)
        {
            return;
        }

        uint mask = Mask(w);
        uint d = (mem ? c.Mem32 : c.Ebx) & mask;
        if (d == 0)
        {
            d = (uint)r.Next(1, 100);
            if (mem)
            {
                BitConverter.GetBytes((c.Mem32 & ~mask) | d).CopyTo(c.Mem, 0);
            }
            else
            {
                c.Ebx = (c.Ebx & ~mask) | d;
            }
        }

        uint low = w == 8 ? c.Eax & 0xFF : c.Eax & mask;
        uint high = signed
            ? ((low & (1u << (w - 1))) != 0 ? mask : 0)
            : (uint)(r.NextInt64(0, 1L << 32) % d);
        switch (w)
        {
            case 8: c.Eax = (c.Eax & 0xFFFF00FF) | (high << 8); break;
            case 16: c.Edx = (c.Edx & 0xFFFF0000) | high; break;
            default: c.Edx = high; break;
        }
    }

    public static bool DivideFaults(OracleCase c, int w, bool signed, uint divisor)
    {
        if (divisor == 0)
        {
            return true;
        }

        ulong dividend = w switch
        {
            8 => c.Eax & 0xFFFF,
            16 => ((c.Edx & 0xFFFF) << 16) | (c.Eax & 0xFFFF),
            _ => ((ulong)c.Edx << 32) | c.Eax,
        };
        if (!signed)
        {
            return dividend / divisor > Mask(w);
        }

        Int128 n = w switch
        {
            8 => (short)dividend,
            16 => (int)dividend,
            _ => (long)dividend,
        };
        Int128 dv = w switch
        {
            8 => (sbyte)divisor,
            16 => (short)divisor,
            _ => (int)divisor,
        };
        Int128 q = n / dv;
        return q > (Int128)((1L << (w - 1)) - 1) || q < (Int128)(-(1L << (w - 1)));
    }

    private static void AddBits(List<OracleForm> list)
    {
        foreach (string op in new[] { "Bt", "Bts", "Btr", "Btc" })
        {
            foreach (int w in new[] { 16, 32 })
            {
                Func<OracleCase, uint> d = _ => DefinedFlags.Bt;
                string n = $"{op}_rm{w}";
                list.Add(new OracleForm { Name = $"{n}_r{w} {Describe([R('a', w), R('b', w)])}", Family = "Bits", Width = w, Code = C($"{n}_r{w}"), Operands = [R('a', w), R('b', w)], Defined = d });
                list.Add(new OracleForm
                {
                    Name = $"{n}_r{w} [mem], {R('b', w)} (offset 0..127)",
                    Family = "Bits",
                    Width = w,
                    Code = C($"{n}_r{w}"),
                    Operands = [M, R('b', w)],
                    Defined = d,
                    Prepare = (r, c) => c.Ebx = w == 16 ? (c.Ebx & 0xFFFF0000) | (uint)r.Next(128) : (uint)r.Next(128),
                });
                list.Add(new OracleForm { Name = $"{n}_imm8 {Describe([R('a', w)])}, imm", Family = "Bits", Width = w, Code = C($"{n}_imm8"), Operands = [R('a', w), I], ImmBits = 8, Defined = d });
                list.Add(new OracleForm { Name = $"{n}_imm8 [mem], imm", Family = "Bits", Width = w, Code = C($"{n}_imm8"), Operands = [M, I], ImmBits = 8, Defined = d });
            }
        }

        foreach (string op in new[] { "Bsf", "Bsr" })
        {
            foreach (int w in new[] { 16, 32 })
            {
                foreach (object src in new object[] { R('b', w), M })
                {
                    bool mem = ReferenceEquals(src, M);
                    uint Source(OracleCase c) => (mem ? c.Mem32 : c.Ebx) & Mask(w);
                    list.Add(new OracleForm
                    {
                        Name = $"{op}_r{w}_rm{w} {Describe([R('a', w), src])}",
                        Family = "Bits",
                        Width = w,
                        Code = C($"{op}_r{w}_rm{w}"),
                        Operands = [R('a', w), src],
                        Defined = _ => DefinedFlags.Bsf,
                        Prepare = (r, c) =>
                        {
                            if (r.Next(8) == 0)
                            {
                                if (mem)
                                {
                                    BitConverter.GetBytes(c.Mem32 & ~Mask(w)).CopyTo(c.Mem, 0);
                                }
                                else
                                {
                                    c.Ebx &= ~Mask(w);
                                }
                            }
                        },
                        ResultUndefined = c => Source(c) == 0,
                    });
                }
            }
        }

        list.Add(new OracleForm { Name = "Bswap_r32 eax", Family = "Bits", Width = 32, Code = Code.Bswap_r32, Operands = [Register.EAX], Defined = _ => DefinedFlags.Unaffected });
        list.Add(new OracleForm { Name = "Bswap_r32 ebx", Family = "Bits", Width = 32, Code = Code.Bswap_r32, Operands = [Register.EBX], Defined = _ => DefinedFlags.Unaffected });
    }

    private static void AddAtomic(List<OracleForm> list, int[] widths)
    {
        foreach (int w in widths)
        {
            foreach (object dst in new object[] { R('b', w), M })
            {
                bool mem = ReferenceEquals(dst, M);
                list.Add(new OracleForm
                {
                    Name = $"Cmpxchg_rm{w}_r{w} {Describe([dst, R('c', w)])}",
                    Family = "Atomic",
                    Width = w,
                    Code = C($"Cmpxchg_rm{w}_r{w}"),
                    Operands = [dst, R('c', w)],
                    Defined = _ => DefinedFlags.Arith,
                    Prepare = (r, c) =>
                    {
                        if (r.Next(2) == 0)
                        {
                            uint mask = Mask(w);
                            c.Eax = (c.Eax & ~mask) | ((mem ? c.Mem32 : c.Ebx) & mask);
                        }
                    },
                });
            }

            foreach (object dst in new object[] { R('a', w), M })
            {
                list.Add(new OracleForm { Name = $"Xadd_rm{w}_r{w} {Describe([dst, R('b', w)])}", Family = "Atomic", Width = w, Code = C($"Xadd_rm{w}_r{w}"), Operands = [dst, R('b', w)], Defined = _ => DefinedFlags.Arith });
            }

            foreach (object dst in new object[] { R('a', w), M })
            {
                list.Add(new OracleForm { Name = $"Xchg_rm{w}_r{w} {Describe([dst, R('b', w)])}", Family = "Atomic", Width = w, Code = C($"Xchg_rm{w}_r{w}"), Operands = [dst, R('b', w)], Defined = _ => DefinedFlags.Unaffected });
            }
        }
    }

    private static void AddSetCmov(List<OracleForm> list)
    {
        foreach (string cc in Conditions)
        {
            foreach (object dst in new object[] { Register.AL, M })
            {
                list.Add(new OracleForm { Name = $"Set{cc}_rm8 {Describe([dst])}", Family = "SetCmov", Width = 8, Code = C($"Set{cc}_rm8"), Operands = [dst], Defined = _ => DefinedFlags.Unaffected });
            }

            foreach (int w in new[] { 16, 32 })
            {
                foreach (object src in new object[] { R('b', w), M })
                {
                    list.Add(new OracleForm { Name = $"Cmov{cc}_r{w}_rm{w} {Describe([R('a', w), src])}", Family = "SetCmov", Width = w, Code = C($"Cmov{cc}_r{w}_rm{w}"), Operands = [R('a', w), src], Defined = _ => DefinedFlags.Unaffected });
                }
            }
        }
    }

    private static void AddMoves(List<OracleForm> list)
    {
        foreach (string op in new[] { "Movzx", "Movsx" })
        {
            foreach ((int dw, int sw) in new[] { (16, 8), (32, 8), (32, 16) })
            {
                string n = $"{op}_r{dw}_rm{sw}";
                foreach (object src in new object[] { R('b', sw), M })
                {
                    list.Add(new OracleForm { Name = $"{n} {Describe([R('a', dw), src])}", Family = "Move", Width = sw, Code = C(n), Operands = [R('a', dw), src], Defined = _ => DefinedFlags.Unaffected });
                }

                if (sw == 8)
                {
                    list.Add(new OracleForm { Name = $"{n} {Describe([R('a', dw), Register.BH])}", Family = "Move", Width = sw, Code = C(n), Operands = [R('a', dw), Register.BH], Defined = _ => DefinedFlags.Unaffected });
                }
            }
        }
    }

    private static void AddStrings(List<OracleForm> list, int[] widths)
    {
        foreach (int w in widths)
        {
            char s = w == 8 ? 'b' : w == 16 ? 'w' : 'd';
            var forms = new List<(string Name, bool Compare, Func<int, RepPrefixKind, Instruction> Make)>
            {
                ($"movs{s}", false, (a, rep) => w == 8 ? Instruction.CreateMovsb(a, Register.None, rep) : w == 16 ? Instruction.CreateMovsw(a, Register.None, rep) : Instruction.CreateMovsd(a, Register.None, rep)),
                ($"stos{s}", false, (a, rep) => w == 8 ? Instruction.CreateStosb(a, rep) : w == 16 ? Instruction.CreateStosw(a, rep) : Instruction.CreateStosd(a, rep)),
                ($"lods{s}", false, (a, rep) => w == 8 ? Instruction.CreateLodsb(a, Register.None, rep) : w == 16 ? Instruction.CreateLodsw(a, Register.None, rep) : Instruction.CreateLodsd(a, Register.None, rep)),
                ($"cmps{s}", true, (a, rep) => w == 8 ? Instruction.CreateCmpsb(a, Register.None, rep) : w == 16 ? Instruction.CreateCmpsw(a, Register.None, rep) : Instruction.CreateCmpsd(a, Register.None, rep)),
                ($"scas{s}", true, (a, rep) => w == 8 ? Instruction.CreateScasb(a, rep) : w == 16 ? Instruction.CreateScasw(a, rep) : Instruction.CreateScasd(a, rep)),
            };
            foreach (var (name, compare, make) in forms)
            {
                var reps = compare ? new[] { RepPrefixKind.None, RepPrefixKind.Repe, RepPrefixKind.Repne } : new[] { RepPrefixKind.None, RepPrefixKind.Repe };
                foreach (var rep in reps)
                {
                    string prefix = rep switch { RepPrefixKind.None => string.Empty, RepPrefixKind.Repe => compare ? "repe " : "rep ", _ => "repne " };
                    list.Add(new OracleForm
                    {
                        Name = prefix + name,
                        Family = "String",
                        Width = w,
                        StringFactory = a => make(a, rep),
                        Defined = _ => compare ? DefinedFlags.Arith : DefinedFlags.Unaffected,
                        Prepare = (r, c) => PrepareStrings(r, c, w, rep != RepPrefixKind.None),
                    });
                }
            }
        }
    }

    /// <summary>
    /// Buffers of mostly-equal small values (so REPE/REPNE stop at varying places), DF random,
    /// ESI/EDI as offsets into the source and destination buffers that keep up to 12 elements
    /// in bounds in either direction.
    /// </summary>
    private static void PrepareStrings(Random r, OracleCase c, int w, bool rep)
    {
        for (int i = 0; i < c.Src.Length; i++)
        {
            c.Src[i] = (byte)(r.Next(4) == 0 ? r.Next(3) : 0);
            c.Dst[i] = r.Next(5) == 0 ? (byte)r.Next(3) : c.Src[i];
        }

        if (r.Next(2) == 0)
        {
            c.Eax &= ~Mask(w);
        }

        bool down = r.Next(2) == 0;
        if (down)
        {
            c.Flags |= EFlags.DF;
        }

        c.Esi = (uint)(StateLayout.Src + (down ? 48 + r.Next(13) : r.Next(16)));
        c.Edi = (uint)(StateLayout.Dst + (down ? 48 + r.Next(13) : r.Next(16)));
        if (rep)
        {
            c.Ecx = (uint)r.Next(13);
        }
    }

    private static string Describe(object[] ops) => string.Join(", ", ops.Select(o => ReferenceEquals(o, M) ? "[mem]" : ReferenceEquals(o, I) ? "imm" : o.ToString()!.ToLowerInvariant()));
}
