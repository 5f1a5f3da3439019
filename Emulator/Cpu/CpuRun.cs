using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Emulator.Cpu.Compile;
using Emulator.Cpu.Decode;
using Emulator.Cpu.Segmentation;

namespace Emulator.Cpu;

/// <summary>
/// The interpreter loop. Shape for speed: the per-instruction work is one indirect call through
/// the micro-op's handler pointer plus two predictable tests (handler result, exit request);
/// block lookup goes through a per-CPU direct-mapped jump cache before the shared code cache;
/// instruction and cycle counters are added once per block, not per instruction.
/// </summary>
public sealed unsafe partial class Cpu
{
    private const int JumpCacheSize = 4096;

    // Two jump caches, for supervisor and user fetches: a block found through the jump cache
    // skips the fetch translation, so a block validated at CPL 0 on a supervisor-only page must
    // not be found by CPL 3 code (it must page-fault).
    private readonly Block?[] _jumpCache = new Block?[JumpCacheSize * 2];

    /// <summary>Invoked after each instruction when set (tracing, single-stepping); null on the fast path.</summary>
    public Action<Cpu>? AfterInstruction;

    internal void FlushJumpCache() => Array.Clear(_jumpCache);

    /// <summary>The clock value at which the running slice ends (may be lowered while it runs).</summary>
    private long _sliceLimit = long.MaxValue;

    /// <summary>
    /// Set (by the machine: a guest exit, a stop request) to end the running slice after the
    /// current block; cleared when a slice starts.
    /// </summary>
    public bool SliceEndRequested;

    /// <summary>
    /// Ends the running slice no later than <paramref name="cycle"/> (the scheduler shortens a
    /// long slice when another CPU becomes runnable), at the next block boundary.
    /// </summary>
    public void LimitSlice(long cycle)
    {
        if (cycle < _sliceLimit)
        {
            _sliceLimit = cycle;
            ExitRequested = true;
        }
    }

    /// <summary>Ends the running slice after the current instruction's block.</summary>
    public void EndSlice()
    {
        SliceEndRequested = true;
        ExitRequested = true;
    }

    /// <summary>Told when this CPU leaves HLT or wait-for-SIPI (so the scheduler can give it time soon); null when nobody listens.</summary>
    public Action<Cpu>? BecameRunnable;

    private bool _resumeOverBreakpoint;

    /// <summary>Set when <see cref="Run"/> stopped because CS:EIP reached a breakpoint (before executing it).</summary>
    public bool BreakpointHit;

    /// <summary>Lets the next <see cref="Run"/> execute the instruction at a breakpoint it stopped on.</summary>
    public void ResumeFromBreakpoint()
    {
        if (BreakpointHit)
        {
            BreakpointHit = false;
            _resumeOverBreakpoint = true;
        }
    }

    /// <summary>
    /// Runs until this CPU's clock reaches <paramref name="cycleLimit"/>, it halts or shuts down,
    /// or <paramref name="instructionLimit"/> instructions have retired. Returns instructions retired.
    /// In the functional timing mode every instruction costs one cycle.
    /// </summary>
    public long Run(long cycleLimit, long instructionLimit = long.MaxValue)
    {
        long startInstructions = Instructions;
        long instructionEnd = instructionLimit == long.MaxValue ? long.MaxValue : Instructions + instructionLimit;
        _instructionEnd = instructionEnd;
        _sliceLimit = cycleLimit;
        SliceEndRequested = false;
        // Every test this loop makes before it enters a block has its twin in JitLoopBack, which
        // decides whether a compiled self-loop may skip this loop: a test added here must be
        // added there too.
        while (State == RunState.Running && Cycles < _sliceLimit && Instructions < instructionEnd && !SliceEndRequested)
        {
            cycleLimit = _sliceLimit;
            if (_debugTrapBits != 0 && !MovSsShadow)
            {
                // Debug traps of the previous instruction come before NMIs and interrupts (SDM table 6-2).
                DeliverDebugTrap();
                continue;
            }

            if (!InterruptShadow && !NmiBlocked && Nmi is { NmiPending: true } && Nmi.TakeNmi())
            {
                NmiBlocked = true;
                DeliverExternalInterrupt(Vectors.NMI);
                continue;
            }

            if (!InterruptShadow && (FlagsBase & EFlags.IF) != 0 && Interrupts is { HasPendingInterrupt: true })
            {
                DeliverExternalInterrupt(Interrupts.AcknowledgeInterrupt());
                continue;
            }

            uint linear = Seg(SegReg.CS).Base + Eip;
            if (Code.HasBreakpoints && Code.IsBreakpoint(linear))
            {
                if (!_resumeOverBreakpoint)
                {
                    BreakpointHit = true;
                    break;
                }

                _resumeOverBreakpoint = false;
            }

            // One test per block: the per-instruction debug path runs only while the guest has an
            // instruction breakpoint armed or TF/RF set (see CpuDebugRegisters.cs).
            bool debugStep = false;
            uint rf = FlagsBase & EFlags.RF;
            uint trapsBefore = _debugTrapBits; // non-zero only under a MOV SS shadow
            if ((_codeBreakpoints | (FlagsBase & (EFlags.TF | EFlags.RF))) != 0)
            {
                if (!DebugBeforeInstruction(linear))
                {
                    continue;
                }

                debugStep = (FlagsBase & EFlags.TF) != 0;
            }

            ref Block? slot = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_jumpCache), (int)(((linear ^ (linear >> 12)) & (JumpCacheSize - 1)) | (_userBit * JumpCacheSize)));
            Block? block = slot;
            if (block is null || !block.Valid || block.Linear != linear || block.StartEip != Eip || block.Code32 != Code32 ||
                block.LastByteEip > Seg(SegReg.CS).Limit)
            {
                block = Code.GetBlock(this, linear);
                if (block is null)
                {
                    DeliverPendingException();
                    continue;
                }

                slot = block;
            }

            long budget = Math.Min(cycleLimit - Cycles, instructionEnd - Instructions);
            if (budget <= 0)
            {
                // In the cycle mode the block lookup itself costs time (a page walk for the
                // fetch) and may have used up the slice: run nothing, the loop ends. The debug
                // state is put back as it was before this instruction.
                _debugTrapBits = trapsBefore;
                FlagsBase |= rf;
                continue;
            }

            if (InterruptShadow || AfterInstruction is not null || debugStep ||
                (_codeBreakpoints != 0 && BlockHasInstructionBreakpoint(block)))
            {
                budget = 1;
            }

            InterruptShadow = false;
            MovSsShadow = false;
            ExecuteBlock(block, budget, cycleLimit);
        }

        if (_debugTrapBits != 0 && !MovSsShadow && State == RunState.Running)
        {
            // The slice ended right after an instruction that met a trap condition: deliver it
            // now so the CPU stops at an instruction boundary with the #DB already taken.
            DeliverDebugTrap();
        }

        return Instructions - startInstructions;
    }

    /// <summary>
    /// Blocks entered this many times are compiled to IL and run compiled from then on
    /// (<see cref="BlockCompiler"/>); 0 keeps every block interpreted. A bare CPU starts with 0
    /// and a machine sets <see cref="DefaultJitThreshold"/> (unless <c>--jit off</c>);
    /// <see cref="ForcedJitThreshold"/> overrides both.
    /// </summary>
    public int JitThreshold = ForcedJitThreshold ?? 0;

    /// <summary>
    /// The threshold the <c>EMU_JIT_THRESHOLD</c> environment variable forces on every CPU (a
    /// positive number; null when unset): overrides <c>--jit</c> so that a whole test suite can
    /// run with the JIT, e.g. every block compiled on its first entry with 1.
    /// </summary>
    public static readonly int? ForcedJitThreshold =
        int.TryParse(Environment.GetEnvironmentVariable("EMU_JIT_THRESHOLD"), out int forced) && forced > 0 ? forced : null;

    /// <summary>The <see cref="JitThreshold"/> the <c>--jit on</c> option sets.</summary>
    public const int DefaultJitThreshold = 64;

    /// <summary>The instruction count at which the running <see cref="Run"/> ends (for <see cref="JitLoopBack"/>).</summary>
    private long _instructionEnd = long.MaxValue;

    /// <summary>
    /// Called by a compiled block whose last instruction jumped back to its own start, with the
    /// whole pass run: retires and charges the pass exactly as <see cref="ExecuteBlock"/> would,
    /// then answers whether the <see cref="Run"/> loop would do nothing but enter the same block
    /// again with a budget that holds all of it. If so it does that entry's bookkeeping and the
    /// compiled code runs the next pass without returning; if not, the compiled block returns
    /// with nothing left for the caller to count. The tests are Run's, in a cheaper order;
    /// whatever one of them would handle (a debug trap, NMI, interrupt, breakpoint, single
    /// step, slice or instruction limit, an invalidated block) sends the CPU back to Run, and so
    /// does the entry at which the block is to be compiled again with the kernels.
    /// </summary>
    internal bool JitLoopBack(Block block)
    {
        int n = block.Ops.Length;
        Instructions += n;
        if (_cache is null)
        {
            Cycles += n;
        }
        else
        {
            ChargeBlock(block, n, Exec.Jump);
        }

        if (State != RunState.Running || SliceEndRequested || _debugTrapBits != 0 || InterruptShadow || AfterInstruction is not null ||
            !block.Valid || block.ExecCount + 1 >= block.JitTierUpAt || Math.Min(_sliceLimit - Cycles, _instructionEnd - Instructions) < n ||
            (_codeBreakpoints | (FlagsBase & (EFlags.TF | EFlags.RF))) != 0 || Code.HasBreakpoints ||
            (!NmiBlocked && Nmi is { NmiPending: true }) ||
            ((FlagsBase & EFlags.IF) != 0 && Interrupts is { HasPendingInterrupt: true }))
        {
            return false;
        }

        block.ExecCount++;
        MovSsShadow = false;
        ExitRequested = false;
        return true;
    }

    /// <summary>
    /// A compiled block is compiled again with the specialised kernels (BlockCompiler) once its
    /// entries reach its JIT threshold times this: those compiles cost up to ten times more, so
    /// only blocks that keep running pay them. 1 compiles with the kernels at once.
    /// </summary>
    public int JitKernelFactor = ForcedJitKernelFactor ?? DefaultJitKernelFactor;

    /// <summary>The default <see cref="JitKernelFactor"/>.</summary>
    public const int DefaultJitKernelFactor = 256;

    /// <summary>
    /// The <see cref="JitKernelFactor"/> the <c>EMU_JIT_KERNEL_FACTOR</c> environment variable
    /// forces (a positive number; null when unset), e.g. 1 to run a test suite with the kernels
    /// from the first compile.
    /// </summary>
    public static readonly int? ForcedJitKernelFactor =
        int.TryParse(Environment.GetEnvironmentVariable("EMU_JIT_KERNEL_FACTOR"), out int factor) && factor > 0 ? factor : null;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private CompiledBlock CompileBlock(Block block, long hot)
    {
        int[]? statics = null;
        if (_cache is not null)
        {
            statics = (block.Timing ??= BlockTiming.Build(block, _lineSize)).Static;
        }

        long tierUp = hot * JitKernelFactor;
        bool kernels = block.ExecCount >= tierUp;
        CompiledBlock compiled = BlockCompiler.Compile(block, statics, kernels);
        block.Compiled = compiled;
        block.CompiledForCycles = _cache is not null;
        block.JitTierUpAt = kernels ? long.MaxValue : tierUp;
        return compiled;
    }

    // Kept out of Run (which is large and cold around this call): measured neutral for the
    // interpreter loop, and the compiled path's call stays in one small method.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ExecuteBlock(Block block, long budget, long cycleLimit)
    {
        MicroOp[] ops = block.Ops;
        int n = ops.Length;
        if (budget < n)
        {
            n = (int)budget;
        }

        block.ExecCount++;
        ExitRequested = false;
        ref MicroOp first = ref MemoryMarshal.GetArrayDataReference(ops);
        int i = 0;
        int r = Exec.Next;
        // A block whose code keeps being rewritten waits longer at each rewrite before it is
        // compiled again (JitShift, see CodeCache), so self-modifying code does not pay a
        // compile per rewrite.
        long hot = (long)JitThreshold << block.JitShift;
        if (JitThreshold > 0 && n == ops.Length && block.ExecCount >= hot)
        {
            // A hot block that fits the budget runs as compiled IL: the same handlers, tests
            // and exits as the loops below, unrolled (see BlockCompiler). A block cut short by
            // the budget runs interpreted.
            CompiledBlock? compiled = block.Compiled;
            if (compiled is null || block.CompiledForCycles != (_cache is not null) || block.ExecCount >= block.JitTierUpAt)
            {
                compiled = CompileBlock(block, hot);
            }

            int packed = compiled(this);
            i = packed & 0xFFFF;
            r = packed >> 16;
            if (i == 0)
            {
                // The block looped on itself and its last pass is already retired and counted
                // (JitLoopBack); EIP is the block's start.
                AfterInstruction?.Invoke(this);
                return;
            }
        }
        else if (_cache is null)
        {
            // n >= 1: the caller never passes a zero budget and a decoded block is never empty.
            do
            {
                ref MicroOp op = ref Unsafe.Add(ref first, i);
                r = op.Fn(this, ref op);
                i++;
            }
            while (r == Exec.Next && !ExitRequested && i < n);
        }
        else
        {
            // Cycle mode: instructions cost different amounts, so the slice must also end when
            // the clock (memory costs already in Cycles, the static costs of the ops run so
            // far from the prefix sums) reaches the limit, at an instruction boundary. Without
            // this a contended line would stay in one CPU's cache for a whole block.
            // The static cost of the first i instructions is one load (BlockTiming.Static, the
            // sum of the Prefix triple).
            BlockTiming t = block.Timing ??= BlockTiming.Build(block, _lineSize);
            ref int statics = ref MemoryMarshal.GetArrayDataReference(t.Static);
            while (i < n)
            {
                ref MicroOp op = ref Unsafe.Add(ref first, i);
                r = op.Fn(this, ref op);
                i++;
                if (r != Exec.Next || ExitRequested)
                {
                    break;
                }

                if (Cycles + Unsafe.Add(ref statics, i) >= cycleLimit)
                {
                    break;
                }
            }
        }

        ref MicroOp last = ref Unsafe.Add(ref first, i - 1);
        int retired = i;
        switch (r)
        {
            case Exec.Next:
                Eip = last.NextEip;
                break;
            case Exec.Fault:
                if (FaultAfterCommit)
                {
                    // The instruction completed a task switch and the new task faulted while
                    // loading: EIP already belongs to the new task.
                    FaultAfterCommit = false;
                    break;
                }

                retired--;
                Eip = (last.Flags & OpFlags.Code16) != 0 ? (ushort)last.Eip : last.Eip;
                break;
        }

        Instructions += retired;
        if (_cache is null)
        {
            Cycles += retired;
        }
        else
        {
            ChargeBlock(block, retired, r);
        }
        if (r == Exec.Fault)
        {
            DeliverPendingException();
        }

        AfterInstruction?.Invoke(this);
    }
}
