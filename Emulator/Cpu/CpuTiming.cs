using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;
using Emulator.Timing;

namespace Emulator.Cpu;

/// <summary>
/// The CPU's side of the cycle timing mode (docs/timing.md): with a <see cref="CachePort"/>
/// attached, every data access, page-table access, descriptor read and instruction fetch is
/// charged through the coherent cache hierarchy, and each block's base costs (the cost table,
/// LOCK and REP start-up penalties, port I/O) are added from per-block prefix sums.
///
/// Shape for speed: functional mode pays one predictable null test of <see cref="_cache"/> per
/// memory access and per block, nothing else. In cycle mode the charging helpers are out of
/// line (the inlined accessors stay small), and a block's static cost is precomputed once.
/// </summary>
public sealed unsafe partial class Cpu
{
    /// <summary>This CPU's port into the cache hierarchy; null in the functional timing mode.</summary>
    private CachePort? _cache;

    /// <summary>The cache-line size of the attached hierarchy (for block fetch lines).</summary>
    private int _lineSize = 64;

    /// <summary>Cycles an uncached (MMIO) access costs in the cycle mode.</summary>
    private int _uncachedLatency;

    /// <summary>Set while the debugger or a host-side view reads guest memory: nothing is charged.</summary>
    private bool _quietAccess;

    /// <summary>The cache port the cycle mode charges through (null: functional timing, one cycle per instruction).</summary>
    public CachePort? Cache => _cache;

    /// <summary>This CPU's cycle-model counters (null in the functional mode).</summary>
    public CpuTimingCounters? Timing => _cache?.Counters;

    /// <summary>
    /// Attaches this CPU to a cache hierarchy (the cycle timing mode). Decoded blocks compute
    /// their static costs on first use in this mode.
    /// </summary>
    public void AttachCache(CachePort port, CacheConfig config)
    {
        _cache = port;
        _lineSize = config.LineSize;
        _uncachedLatency = config.DramLatency;
    }

    // ---------------------------------------------------------------- data accesses

    /// <summary>A data access that hit the software TLB: the physical address comes from the entry.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ChargeTlbHit(uint physPage, uint linear, int size, CacheAccessKind kind)
    {
        uint phys = (physPage & ~0xFFFu) | (linear & 0xFFF);

        // The common case first (a repeated access to the line last touched: the filter hit,
        // which can involve no coherence), without the general path's dispatch.
        if (_cache!.TryFilterHit(phys, size, kind == CacheAccessKind.Write, out int latency))
        {
            Cycles += latency;
            return;
        }

        ChargeRam(phys, size, kind);
    }

    /// <summary>A RAM access of <paramref name="size"/> physically contiguous bytes.</summary>
    private void ChargeRam(uint phys, int size, CacheAccessKind kind)
    {
        CachePort port = _cache!;
        if (kind == CacheAccessKind.Read || kind == CacheAccessKind.Fetch)
        {
            Cycles += port.Access(phys, size, kind);
            return;
        }

        long before = port.Counters.CoherenceCycles;
        Cycles += port.Access(phys, size, kind);
        if (port.Counters.CoherenceCycles != before)
        {
            // The write took the line from other CPUs: remember which bytes this CPU writes, so a
            // report can tell true sharing (same bytes) from false sharing (different bytes).
            port.Counters.RecordCoherentWrite(phys, size, _lineSize);
        }
    }

    /// <summary>
    /// A physical access made outside the TLB fast path (slow-path loads and stores, page-table
    /// entries, system accesses): RAM goes through the caches, device memory is uncached.
    /// </summary>
    internal void ChargePhysical(uint phys, int size, CacheAccessKind kind)
    {
        if (_cache is null || _quietAccess)
        {
            return;
        }

        if (Bus.FindDevice(phys) is null && (ulong)phys + (uint)size <= Bus.RamSize)
        {
            ChargeRam(phys, size, kind);
        }
        else
        {
            Cycles += _uncachedLatency;
            _cache.Counters.UncachedAccesses++;
            _cache.Counters.MemoryCycles += _uncachedLatency;
        }
    }

    /// <summary>
    /// A run of <paramref name="bytes"/> bytes accessed element by element through a host
    /// pointer the TLB gave (a REP string instruction's bulk path, a read-modify-write):
    /// exact per element, computed per line (every element after a line's first hits it).
    /// </summary>
    internal void ChargeHostRange(byte* host, uint bytes, int elementSize, CacheAccessKind kind)
    {
        uint phys = (uint)(host - RamBase);
        if (bytes == (uint)elementSize)
        {
            // One element (a read-modify-write): a plain access, the filter hit first.
            if (kind is CacheAccessKind.Read or CacheAccessKind.Write &&
                _cache!.TryFilterHit(phys, elementSize, kind == CacheAccessKind.Write, out int latency))
            {
                Cycles += latency;
                return;
            }

            ChargeRam(phys, elementSize, kind);
            return;
        }
        if (kind == CacheAccessKind.Read)
        {
            Cycles += _cache!.AccessRun(phys, bytes, elementSize, kind);
            return;
        }

        long before = _cache!.Counters.CoherenceCycles;
        Cycles += _cache.AccessRun(phys, bytes, elementSize, kind);
        if (_cache.Counters.CoherenceCycles != before)
        {
            _cache.Counters.RecordCoherentWrite(phys, (int)Math.Min(bytes, (uint)_lineSize), _lineSize);
        }
    }

    /// <summary>Whether the cycle model is attached (handlers with extra per-iteration costs ask).</summary>
    internal bool CycleMode
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _cache is not null;
    }

    // ---------------------------------------------------------------- dynamic costs

    /// <summary>Per-iteration cost of a REP string instruction (its static cost holds only the start-up penalty).</summary>
    internal void ChargeIterations(Iced.Intel.Code code, long iterations)
    {
        long cost = CoreTimingTable.BaseCost(code) * iterations;
        Cycles += cost;
        if (CoreTimingTable.Class(code) == TimingClass.Io)
        {
            _cache!.Counters.IoCycles += cost;
        }
        else
        {
            _cache!.Counters.BaseCycles += cost;
        }
    }

    /// <summary>A dynamic penalty (exception or interrupt delivery, page walk).</summary>
    private void ChargePenalty(int cycles)
    {
        Cycles += cycles;
        _cache!.Counters.PenaltyCycles += cycles;
    }

    /// <summary>Time a halted CPU slept (the scheduler moved its clock forward).</summary>
    internal void ChargeHalted(long cycles)
    {
        if (_cache is not null && cycles > 0)
        {
            _cache.Counters.HaltedCycles += cycles;
        }
    }

    /// <summary>
    /// The cycle-mode end of a block: the static costs of the <paramref name="retired"/> ops,
    /// the fetch of the block's code lines, the taken-branch penalty when the block left by a
    /// jump, and the counters.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ChargeBlock(Block block, int retired, int exit)
    {
        // Shape for speed: runs once per block (twice per iteration of a contended loop), so
        // everything per retired count is precomputed (BlockTiming), a block without LOCK or
        // I/O costs (most) adds one counter, and a one-line fetch skips the loop.
        BlockTiming t = block.Timing ??= BlockTiming.Build(block, _lineSize);
        CachePort port = _cache!;
        CpuTimingCounters c = port.Counters;
        long cycles;
        if (t.Plain)
        {
            int baseCost = t.Static[retired];
            cycles = baseCost;
            c.BaseCycles += baseCost;
        }
        else
        {
            int i = retired * 3;
            int baseCost = t.Prefix[i];
            int locked = t.Prefix[i + 1];
            int io = t.Prefix[i + 2];
            cycles = baseCost + locked + io;
            c.BaseCycles += baseCost;
            c.LockedCycles += locked;
            c.IoCycles += io;
            c.LockedAccesses += locked / CoreTimingTable.LockPenalty;
        }

        if (exit == Exec.Jump && retired == t.OpCount)
        {
            cycles += CoreTimingTable.TakenBranchPenalty;
            c.PenaltyCycles += CoreTimingTable.TakenBranchPenalty;
        }

        // The front end fetches the lines holding the instructions that ran (a faulting one
        // was fetched too).
        int lines = t.FetchByRetired[retired];
        uint[] fetch = t.FetchLines;
        if (lines == 1)
        {
            cycles += port.Fetch(fetch[0]);
        }
        else
        {
            for (int l = 0; l < lines; l++)
            {
                cycles += port.Fetch(fetch[l]);
            }
        }

        Cycles += cycles;
    }
}
