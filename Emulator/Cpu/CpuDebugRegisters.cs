using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;

namespace Emulator.Cpu;

/// <summary>DR6 (debug status) and DR7 (debug control) bits (SDM Vol. 3, 17.2).</summary>
public static class DebugBits
{
    /// <summary>DR6 B0-B3: breakpoint n's condition was met.</summary>
    public const uint B0 = 1u << 0;
    public const uint BMask = 0xF;

    /// <summary>DR6.BD: the #DB is a general-detect fault (MOV DRn while DR7.GD was set).</summary>
    public const uint BD = 1u << 13;

    /// <summary>DR6.BS: single step (EFLAGS.TF).</summary>
    public const uint BS = 1u << 14;

    /// <summary>DR6.BT: task switch into a TSS whose T bit is set.</summary>
    public const uint BT = 1u << 15;

    /// <summary>DR7.GD: general detect enable.</summary>
    public const uint GD = 1u << 13;

    /// <summary>DR7 L0-L3 and G0-G3: any of them enables a breakpoint.</summary>
    public const uint EnableMask = 0xFF;
}

/// <summary>
/// Debug exceptions (#DB, vector 1; SDM Vol. 3 ch. 17): EFLAGS.TF single-step, the DR0-DR3
/// breakpoints under DR7 (instruction, data write, data read/write, and I/O with CR4.DE), DR7.GD
/// general detect, the TSS T bit, and EFLAGS.RF.
///
/// Shape for speed: nothing here runs unless the guest asks for it.
/// <list type="bullet">
/// <item>DR0-DR3/DR7 (and CR4.DE) writes recompute three per-CPU masks: enabled instruction,
/// data and I/O breakpoints. The interpreter loop tests the instruction mask and EFLAGS.TF|RF
/// once per block; only when one is set does it take the per-instruction debug path.</item>
/// <item>Data breakpoints: a linear page that holds an enabled data breakpoint is never put in
/// the software TLB (<see cref="FillTlb"/> asks <see cref="IsWatchedPage"/>, and a DR change
/// flushes the TLB), so every access to it takes the slow path, which alone checks the
/// breakpoint addresses. Accesses to other pages stay a tag compare and a host load; the slow
/// path pays one flag test when nothing is armed.</item>
/// <item>I/O breakpoints: every IN/OUT/INS/OUTS passes <see cref="CheckIoPermission"/>, which
/// tests the I/O mask.</item>
/// </list>
/// Trap-class conditions (single-step, data and I/O hits, BT) accumulate DR6 bits in
/// <see cref="_debugTrapBits"/> while an instruction runs and are delivered as one #DB at the next
/// instruction boundary, before NMIs and interrupts (SDM table 6-2); any other interrupt or
/// exception delivered meanwhile discards them (the faulting instruction did not complete; INT n
/// hands over to a handler with TF clear), as Bochs does. MOV SS/POP SS hold them for one more
/// instruction.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>Enabled (L or G) breakpoints with R/W = 00: instruction breakpoints, bit n for DRn.</summary>
    private uint _codeBreakpoints;

    /// <summary>Enabled breakpoints with R/W = 01 (writes) or 11 (reads and writes), bit n for DRn.</summary>
    private uint _dataBreakpoints;

    /// <summary>Enabled breakpoints with R/W = 10 while CR4.DE = 1: I/O port breakpoints.</summary>
    private uint _ioBreakpoints;

    /// <summary>DR6 bits of trap-class debug conditions met by the instruction being executed (0 on the fast path).</summary>
    private uint _debugTrapBits;

    /// <summary>The instruction just executed was MOV SS or POP SS: debug traps wait one more instruction.</summary>
    internal bool MovSsShadow;

    /// <summary>Debug exceptions delivered for hardware breakpoints, single-step, general detect and task-switch traps.</summary>
    public long DebugExceptions;

    /// <summary>DR6 bits waiting to be reported by a #DB trap at the next instruction boundary (tests, state dumps).</summary>
    public uint PendingDebugTrap => _debugTrapBits;

    /// <summary>True when any DR7-enabled instruction, data or I/O breakpoint is armed.</summary>
    public bool HardwareBreakpointsArmed => (_codeBreakpoints | _dataBreakpoints | _ioBreakpoints) != 0;

    private static int BreakpointRw(uint dr7, int n) => (int)(dr7 >> (16 + (4 * n))) & 3;

    /// <summary>Breakpoint length in bytes: LEN 00 = 1, 01 = 2, 11 = 4, 10 = 8 (defined on later processors; modelled so).</summary>
    private static uint BreakpointLength(uint dr7, int n) => ((dr7 >> (18 + (4 * n))) & 3) switch
    {
        0 => 1,
        1 => 2,
        2 => 8,
        _ => 4,
    };

    /// <summary>Recomputes the armed-breakpoint masks from DR7 and CR4.DE; flushes the TLB when watched data pages change.</summary>
    private void UpdateDebugArming()
    {
        uint dr7 = Dr[7];
        uint code = 0, data = 0, io = 0;
        for (int n = 0; n < 4; n++)
        {
            if (((dr7 >> (2 * n)) & 3) == 0)
            {
                continue;
            }

            switch (BreakpointRw(dr7, n))
            {
                case 0: code |= 1u << n; break;
                case 2:
                    if ((Cr4 & Cr4Bits.DE) != 0)
                    {
                        io |= 1u << n;
                    }

                    break;
                default: data |= 1u << n; break;
            }
        }

        bool flush = data != 0 || _dataBreakpoints != 0;
        ExitRequested = true; // the rest of the running block may hold a new instruction breakpoint
        _codeBreakpoints = code;
        _dataBreakpoints = data;
        _ioBreakpoints = io;
        if (flush)
        {
            // Pages that hold (or held) a watched address must leave (or may re-enter) the TLB.
            FlushTlb(true);
        }
    }

    /// <summary>Whether a linear page holds an armed data breakpoint (such pages never enter the TLB).</summary>
    private bool IsWatchedPage(uint linear)
    {
        for (int n = 0; n < 4; n++)
        {
            if ((_dataBreakpoints & (1u << n)) != 0 && ((Dr[n] ^ linear) & ~0xFFFu) == 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The DR6 B bits of breakpoints in <paramref name="mask"/> whose aligned range overlaps [address, address + size).</summary>
    private uint MatchBreakpoints(uint mask, uint address, uint size, bool write)
    {
        uint dr7 = Dr[7];
        uint hits = 0;
        for (int n = 0; n < 4; n++)
        {
            if ((mask & (1u << n)) == 0 || (!write && BreakpointRw(dr7, n) == 1))
            {
                continue;
            }

            uint len = BreakpointLength(dr7, n);
            uint start = Dr[n] & ~(len - 1);
            if (address - start < len || start - address < size)
            {
                hits |= 1u << n;
            }
        }

        return hits;
    }

    /// <summary>Slow-path data access check: a hit is reported by a #DB trap after the instruction.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckDataBreakpoints(uint linear, int size, bool write)
    {
        uint hits = MatchBreakpoints(_dataBreakpoints, linear, (uint)size, write);
        if (hits != 0)
        {
            _debugTrapBits |= hits;
            ExitRequested = true;
        }
    }

    /// <summary>IN/OUT/INS/OUTS check against I/O breakpoints (CR4.DE = 1).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckIoBreakpoints(ushort port, int size)
    {
        uint hits = MatchBreakpoints(_ioBreakpoints, port, (uint)size, write: true);
        if (hits != 0)
        {
            _debugTrapBits |= hits;
            ExitRequested = true;
        }
    }

    /// <summary>True when a trap-class debug condition is waiting for the instruction boundary (REP string instructions stop iterating).</summary>
    internal bool DebugTrapPending => _debugTrapBits != 0;

    /// <summary>
    /// The per-instruction debug work before an instruction runs, called only when an
    /// instruction breakpoint is armed or EFLAGS.TF or RF is set. RF set: it is cleared and
    /// instruction breakpoints are skipped for this one instruction (the SDM clears RF when the
    /// instruction completes; clearing it first is the same except for IRET, which loads RF,
    /// and faults, which push RF = 1 anyway). An instruction breakpoint at
    /// <paramref name="linear"/> raises the #DB fault (EIP at the instruction, RF = 0 in the
    /// image). TF set: the single-step trap is armed for after this instruction. Returns false
    /// when the #DB fault was delivered.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool DebugBeforeInstruction(uint linear)
    {
        if ((FlagsBase & EFlags.RF) != 0)
        {
            FlagsBase &= ~EFlags.RF;
        }
        else if (_codeBreakpoints != 0)
        {
            uint hits = MatchInstructionBreakpoints(linear);
            if (hits != 0)
            {
                CommitDebugStatus(hits);
                Fault(Vectors.DB);
                DeliverPendingException();
                return false;
            }
        }

        if ((FlagsBase & EFlags.TF) != 0)
        {
            _debugTrapBits |= DebugBits.BS;
        }

        return true;
    }

    private uint MatchInstructionBreakpoints(uint linear)
    {
        uint hits = 0;
        for (int n = 0; n < 4; n++)
        {
            if ((_codeBreakpoints & (1u << n)) != 0 && Dr[n] == linear)
            {
                hits |= 1u << n;
            }
        }

        return hits;
    }

    /// <summary>Whether an armed instruction breakpoint lies inside the block's bytes (then it runs one instruction at a time).</summary>
    private bool BlockHasInstructionBreakpoint(Block block)
    {
        uint length = block.LastByteEip - block.StartEip;
        for (int n = 0; n < 4; n++)
        {
            if ((_codeBreakpoints & (1u << n)) != 0 && Dr[n] - block.Linear <= length)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes the status of a #DB about to be delivered into DR6, as Bochs does: B0-B3 and BT
    /// describe this exception only, BD and BS stay set until software clears them. DR7.GD is
    /// cleared so the handler can use the debug registers (SDM 17.2.4).
    /// </summary>
    private void CommitDebugStatus(uint bits)
    {
        Dr[6] = (Dr[6] & ~(DebugBits.BMask | DebugBits.BT)) | bits;
        Dr[7] &= ~DebugBits.GD;
        DebugExceptions++;
    }

    /// <summary>Delivers the trap-class #DB for the conditions the last instruction met (EIP already at the next instruction).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DeliverDebugTrap()
    {
        uint bits = _debugTrapBits;
        _debugTrapBits = 0;
        CommitDebugStatus(bits);
        Fault(Vectors.DB);
        DeliverPendingException();
    }

    /// <summary>
    /// MOV to or from DRn with DR7.GD set: the general-detect #DB fault (DR6.BD), before the
    /// instruction changes anything. Returns false with the fault delivered by the caller.
    /// </summary>
    public bool CheckGeneralDetect()
    {
        if ((Dr[7] & DebugBits.GD) == 0)
        {
            return true;
        }

        CommitDebugStatus(DebugBits.BD);
        return Fault(Vectors.DB);
    }

    /// <summary>Vectors whose delivery is a fault: the EFLAGS image pushed has RF set (SDM 17.3.1.1); #DB is excluded.</summary>
    private static bool PushesRf(int vector) =>
        vector is Vectors.DE or Vectors.BR or Vectors.UD or Vectors.NM or Vectors.TS or Vectors.NP or
            Vectors.SS or Vectors.GP or Vectors.PF or Vectors.MF or Vectors.AC or 19;
}
