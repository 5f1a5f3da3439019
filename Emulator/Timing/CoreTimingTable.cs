using Iced.Intel;

namespace Emulator.Timing;

/// <summary>Where an instruction's base cost goes in the cycle breakdown, and which dynamic penalties it may draw.</summary>
public enum TimingClass : byte
{
    /// <summary>Ordinary instructions: base cost to <see cref="CpuTimingCounters.BaseCycles"/>.</summary>
    Simple,

    /// <summary>Near branches, calls, returns, loops: may add <see cref="CoreTimingTable.TakenBranchPenalty"/>.</summary>
    Branch,

    /// <summary>String instructions: the base cost is per iteration; REP adds <see cref="CoreTimingTable.RepStartupPenalty"/>.</summary>
    String,

    /// <summary>Segment register loads (MOV/POP Sreg, LDS..LSS): the descriptor read is a memory access on top.</summary>
    SegmentLoad,

    /// <summary>Far JMP/CALL/RET and IRET (descriptor and stack accesses on top).</summary>
    FarTransfer,

    /// <summary>INT n, INT3, INTO, INT1 (the delivery's memory accesses on top).</summary>
    Interrupt,

    /// <summary>IN, OUT, INS, OUTS: the whole base cost goes to <see cref="CpuTimingCounters.IoCycles"/>.</summary>
    Io,

    /// <summary>Serializing and system instructions (CPUID, MSRs, control registers, descriptor tables, TLB and cache control).</summary>
    System,

    /// <summary>HLT: costs nothing itself; the halted time goes to <see cref="CpuTimingCounters.HaltedCycles"/>.</summary>
    Halt,

    /// <summary>x87, MMX and SSE instructions.</summary>
    FloatingPoint,
}

/// <summary>
/// Base cost in cycles of every instruction, keyed by Iced's <see cref="Code"/>, for the in-order
/// core of the cycle timing mode, plus the dynamic penalties the CPU adds.
///
/// The figures are rounded, approximate reciprocal throughputs (latencies for long operations
/// such as division and the system instructions) for a P6-family core, Pentium M / Core Duo,
/// in the spirit of Agner Fog's "Instruction tables" (Pentium M section) and Intel's
/// optimization reference manual; they are chosen to be plausible and easy to explain, not
/// measured, and they are a model of an in-order core (no overlap, no out-of-order execution).
/// Memory operands cost nothing here: every memory access is charged separately by
/// <see cref="CacheHierarchy"/>. A cost is a byte: the longest instructions (WBINVD) saturate at 255.
/// </summary>
public static class CoreTimingTable
{
    /// <summary>Added when a branch is taken (the fetch bubble of a predicted-taken branch plus a share of mispredictions).</summary>
    public const int TakenBranchPenalty = 2;

    /// <summary>Added for a LOCK-prefixed instruction or an XCHG with memory (the bus lock / cache lock and the drain of the store buffer; Pentium M about 20).</summary>
    public const int LockPenalty = 20;

    /// <summary>Added once for a REP-prefixed string instruction (its start-up microcode).</summary>
    public const int RepStartupPenalty = 6;

    /// <summary>Added for delivering an exception or an external interrupt (the microcode; IDT, GDT and stack accesses are memory accesses on top).</summary>
    public const int InterruptDeliveryPenalty = 50;

    /// <summary>Added for a page walk on a TLB miss (the page-miss handler; the PDE and PTE reads are memory accesses on top).</summary>
    public const int PageWalkPenalty = 5;

    private static readonly byte[] s_cost;
    private static readonly TimingClass[] s_class;

    static CoreTimingTable()
    {
        int count = 0;
        foreach (Code c in Enum.GetValues<Code>())
        {
            count = Math.Max(count, (int)c + 1);
        }

        s_cost = new byte[count];
        s_class = new TimingClass[count];
        foreach (Code c in Enum.GetValues<Code>())
        {
            (int cost, TimingClass cls) = Classify(c);
            s_cost[(int)c] = (byte)Math.Clamp(cost, 0, 255);
            s_class[(int)c] = cls;
        }
    }

    /// <summary>The base cost of <paramref name="code"/> in cycles (an array lookup).</summary>
    public static byte BaseCost(Code code) => s_cost[(int)code];

    /// <summary>The breakdown class of <paramref name="code"/> (an array lookup).</summary>
    public static TimingClass Class(Code code) => s_class[(int)code];

    /// <summary>Whether <paramref name="code"/> is locked without a prefix when it has a memory operand (XCHG).</summary>
    public static bool IsImplicitlyLocked(Code code) => code is Code.Xchg_rm8_r8 or Code.Xchg_rm16_r16 or Code.Xchg_rm32_r32;

    private static (int Cost, TimingClass Class) Classify(Code code)
    {
        string name = code.ToString();
        Mnemonic m = code.Mnemonic();

        // Forms the mnemonic alone does not tell apart.
        if (name.StartsWith("Mov_Sreg_", StringComparison.Ordinal) || name is "Popw_ES" or "Popd_ES" or "Popw_SS" or "Popd_SS" or "Popw_DS" or
            "Popd_DS" or "Popw_FS" or "Popd_FS" or "Popw_GS" or "Popd_GS" || m is Mnemonic.Lds or Mnemonic.Les or Mnemonic.Lfs or Mnemonic.Lgs or Mnemonic.Lss)
        {
            return (10, TimingClass.SegmentLoad);
        }

        if ((m is Mnemonic.Jmp or Mnemonic.Call) && (name.Contains("_ptr16", StringComparison.Ordinal) || name.Contains("_m16", StringComparison.Ordinal)))
        {
            return (30, TimingClass.FarTransfer);
        }

        if (name.StartsWith("Mov_cr_", StringComparison.Ordinal) || name.StartsWith("Mov_dr_", StringComparison.Ordinal) ||
            name.StartsWith("Mov_tr_", StringComparison.Ordinal))
        {
            return (20, TimingClass.System);
        }

        if (name.StartsWith("Mov_r32_cr", StringComparison.Ordinal) || name.StartsWith("Mov_r32_dr", StringComparison.Ordinal) ||
            name.StartsWith("Mov_r32_tr", StringComparison.Ordinal))
        {
            return (2, TimingClass.System);
        }

        bool stringForm = !name.Contains("xmm", StringComparison.Ordinal);
        switch (m)
        {
            // Strings: cost per iteration.
            case Mnemonic.Movsb or Mnemonic.Movsw or Mnemonic.Movsd when stringForm:
                return (2, TimingClass.String);
            case Mnemonic.Stosb or Mnemonic.Stosw or Mnemonic.Stosd:
                return (1, TimingClass.String);
            case Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Scasb or Mnemonic.Scasw or Mnemonic.Scasd:
                return (2, TimingClass.String);
            case Mnemonic.Cmpsb or Mnemonic.Cmpsw or Mnemonic.Cmpsd when stringForm:
                return (3, TimingClass.String);

            // I/O: the port access itself (a bus transaction to a device, about 100 cycles at 2 GHz); INS/OUTS per iteration.
            case Mnemonic.In or Mnemonic.Out or Mnemonic.Insb or Mnemonic.Insw or Mnemonic.Insd or Mnemonic.Outsb or Mnemonic.Outsw or Mnemonic.Outsd:
                return (100, TimingClass.Io);

            case Mnemonic.Hlt:
                return (0, TimingClass.Halt);

            // Integer arithmetic.
            case Mnemonic.Adc or Mnemonic.Sbb:
                return (2, TimingClass.Simple);
            case Mnemonic.Mul or Mnemonic.Imul:
                return (4, TimingClass.Simple);
            case Mnemonic.Div:
                return (DivCost(name, 16, 24, 39), TimingClass.Simple);
            case Mnemonic.Idiv:
                return (DivCost(name, 19, 27, 42), TimingClass.Simple);
            case Mnemonic.Rcl or Mnemonic.Rcr:
                return (3, TimingClass.Simple);
            case Mnemonic.Shld or Mnemonic.Shrd or Mnemonic.Bsf or Mnemonic.Bsr or Mnemonic.Bswap or Mnemonic.Xchg:
                return (2, TimingClass.Simple);
            case Mnemonic.Cmovo or Mnemonic.Cmovno or Mnemonic.Cmovb or Mnemonic.Cmovae or Mnemonic.Cmove or Mnemonic.Cmovne or Mnemonic.Cmovbe or
                Mnemonic.Cmova or Mnemonic.Cmovs or Mnemonic.Cmovns or Mnemonic.Cmovp or Mnemonic.Cmovnp or Mnemonic.Cmovl or Mnemonic.Cmovge or
                Mnemonic.Cmovle or Mnemonic.Cmovg:
                return (2, TimingClass.Simple);
            case Mnemonic.Xadd:
                return (3, TimingClass.Simple);
            case Mnemonic.Cmpxchg:
                return (5, TimingClass.Simple);
            case Mnemonic.Cmpxchg8b:
                return (10, TimingClass.Simple);
            case Mnemonic.Xlatb or Mnemonic.Aaa or Mnemonic.Aas or Mnemonic.Daa or Mnemonic.Das or Mnemonic.Aad:
                return (4, TimingClass.Simple);
            case Mnemonic.Aam:
                return (16, TimingClass.Simple);
            case Mnemonic.Bound:
                return (8, TimingClass.Simple);

            // Flags and stack.
            case Mnemonic.Cld or Mnemonic.Std:
                return (4, TimingClass.Simple);
            case Mnemonic.Cli or Mnemonic.Sti:
                return (5, TimingClass.Simple);
            case Mnemonic.Pushf or Mnemonic.Pushfd:
                return (2, TimingClass.Simple);
            case Mnemonic.Popf or Mnemonic.Popfd:
                return (10, TimingClass.Simple);
            case Mnemonic.Pusha or Mnemonic.Pushad or Mnemonic.Popa or Mnemonic.Popad:
                return (8, TimingClass.Simple);
            case Mnemonic.Enter:
                return (12, TimingClass.Simple);
            case Mnemonic.Leave:
                return (3, TimingClass.Simple);
            case Mnemonic.Pause:
                return (10, TimingClass.Simple);

            // Near control transfers (the taken-branch penalty is dynamic).
            case Mnemonic.Jmp or Mnemonic.Jo or Mnemonic.Jno or Mnemonic.Jb or Mnemonic.Jae or Mnemonic.Je or Mnemonic.Jne or Mnemonic.Jbe or
                Mnemonic.Ja or Mnemonic.Js or Mnemonic.Jns or Mnemonic.Jp or Mnemonic.Jnp or Mnemonic.Jl or Mnemonic.Jge or Mnemonic.Jle or
                Mnemonic.Jg:
                return (1, TimingClass.Branch);
            case Mnemonic.Call or Mnemonic.Ret or Mnemonic.Jcxz or Mnemonic.Jecxz:
                return (2, TimingClass.Branch);
            case Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne:
                return (6, TimingClass.Branch);

            // Far transfers and software interrupts (descriptor and stack accesses are memory accesses on top).
            case Mnemonic.Retf:
                return (30, TimingClass.FarTransfer);
            case Mnemonic.Iret or Mnemonic.Iretd:
                return (40, TimingClass.FarTransfer);
            case Mnemonic.Sysenter or Mnemonic.Sysexit or Mnemonic.Syscall or Mnemonic.Sysret:
                return (30, TimingClass.FarTransfer);
            case Mnemonic.Int or Mnemonic.Int3 or Mnemonic.Into or Mnemonic.Int1:
                return (50, TimingClass.Interrupt);

            // System instructions.
            case Mnemonic.Cpuid or Mnemonic.Rdmsr or Mnemonic.Wrmsr:
                return (100, TimingClass.System);
            case Mnemonic.Rdtsc or Mnemonic.Rdpmc:
                return (40, TimingClass.System);
            case Mnemonic.Lgdt or Mnemonic.Lidt or Mnemonic.Lldt or Mnemonic.Ltr:
                return (20, TimingClass.System);
            case Mnemonic.Sgdt or Mnemonic.Sidt or Mnemonic.Sldt or Mnemonic.Str or Mnemonic.Smsw:
                return (4, TimingClass.System);
            case Mnemonic.Lmsw or Mnemonic.Clts or Mnemonic.Arpl or Mnemonic.Lar or Mnemonic.Lsl or Mnemonic.Verr or Mnemonic.Verw:
                return (10, TimingClass.System);
            case Mnemonic.Invlpg:
                return (25, TimingClass.System);
            case Mnemonic.Invd or Mnemonic.Wbinvd:
                return (255, TimingClass.System);
        }

        return FloatingPoint(name, m);
    }

    private static int DivCost(string name, int byByte, int byWord, int byDword) =>
        name.EndsWith("rm8", StringComparison.Ordinal) ? byByte : name.EndsWith("rm16", StringComparison.Ordinal) ? byWord : byDword;

    private static (int Cost, TimingClass Class) FloatingPoint(string name, Mnemonic m)
    {
        string mn = m.ToString();
        bool x87 = mn.Length > 1 && mn[0] == 'F' && m != Mnemonic.Femms;
        bool simd = name.Contains("xmm", StringComparison.Ordinal) || name.Contains("ymm", StringComparison.Ordinal) ||
            name.Contains("zmm", StringComparison.Ordinal) || name.Contains("_mm", StringComparison.Ordinal);
        if (!x87 && !simd)
        {
            // Everything else (MOV, ALU, shifts, LEA, MOVZX, SETcc, PUSH/POP, NOP, BT...): one cycle.
            return (1, TimingClass.Simple);
        }

        if (x87)
        {
            return m switch
            {
                Mnemonic.Fdiv or Mnemonic.Fdivp or Mnemonic.Fdivr or Mnemonic.Fdivrp or Mnemonic.Fidiv or Mnemonic.Fidivr => (38, TimingClass.FloatingPoint),
                Mnemonic.Fsqrt => (40, TimingClass.FloatingPoint),
                Mnemonic.Fsin or Mnemonic.Fcos or Mnemonic.Fsincos or Mnemonic.Fptan or Mnemonic.Fpatan or Mnemonic.F2xm1 or Mnemonic.Fyl2x or
                    Mnemonic.Fyl2xp1 or Mnemonic.Fprem or Mnemonic.Fprem1 or Mnemonic.Fscale => (100, TimingClass.FloatingPoint),
                Mnemonic.Fsave or Mnemonic.Fnsave or Mnemonic.Frstor or Mnemonic.Fxsave or Mnemonic.Fxrstor => (100, TimingClass.FloatingPoint),
                Mnemonic.Finit or Mnemonic.Fninit or Mnemonic.Fldenv or Mnemonic.Fstenv or Mnemonic.Fnstenv => (30, TimingClass.FloatingPoint),
                Mnemonic.Fmul or Mnemonic.Fmulp or Mnemonic.Fimul => (5, TimingClass.FloatingPoint),
                _ => (3, TimingClass.FloatingPoint),
            };
        }

        return mn.StartsWith("Div", StringComparison.Ordinal) || mn.StartsWith("Sqrt", StringComparison.Ordinal)
            ? (30, TimingClass.FloatingPoint)
            : (2, TimingClass.FloatingPoint);
    }
}
