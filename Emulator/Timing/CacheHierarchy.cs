using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Emulator.Timing;

/// <summary>What an access does to the memory hierarchy.</summary>
public enum CacheAccessKind : byte
{
    /// <summary>A data load (L1D; needs any valid state).</summary>
    Read,

    /// <summary>A data store (L1D; needs Modified or Exclusive, which it turns Modified).</summary>
    Write,

    /// <summary>An instruction fetch (L1I).</summary>
    Fetch,

    /// <summary>A locked read-modify-write (L1D; a write for coherence, counted as locked).</summary>
    LockedRmw,
}

/// <summary>A line's state in an L1 (L1I lines are only ever Shared or Invalid).</summary>
public enum MesiState : byte
{
    Invalid = 0,
    Shared = 1,
    Exclusive = 2,
    Modified = 3,
}

/// <summary>
/// One set-associative L1: per way a tag word <c>(line number &lt;&lt; 2) | MESI state</c> (0 for an
/// empty way, so a lookup is one compare per way) and a last-use stamp for true LRU (the way
/// with the smallest stamp in a set is the least recently used; stamps come from a per-cache
/// counter, so they never tie).
/// </summary>
internal sealed class L1Array
{
    public readonly uint[] Tags;
    public readonly ulong[] Stamps;

    /// <summary>
    /// Per slot, the L2 slot of the line it holds (meaningful only while the tag is non-zero).
    /// The L2 is inclusive and moves a line only by evicting it, which back-invalidates every
    /// L1 copy, so this stays exact for as long as the line is in the L1: an L1 eviction and an
    /// upgrade find the L2 entry without scanning an L2 set (a host cache miss on a large L2).
    /// </summary>
    public readonly int[] L2Slot;

    /// <summary>Per set, the slot last touched (a hint only: always checked against the tag).</summary>
    public readonly int[] LastWay;
    public readonly int Ways;
    public readonly uint SetMask;
    public ulong Clock;

    public L1Array(int size, int ways, int lineSize)
    {
        int sets = size / (ways * lineSize);
        Tags = new uint[sets * ways];
        Stamps = new ulong[sets * ways];
        L2Slot = new int[sets * ways];
        LastWay = new int[sets];
        Ways = ways;
        SetMask = (uint)sets - 1;
        Clear();
    }

    /// <summary>
    /// The slot holding <paramref name="line"/> and touched for LRU (see <see cref="Touch"/>), or
    /// -1 (nothing touched). A hit in the set's predicted way needs no touch: that way is the
    /// one touched last in the set (only <see cref="Touch"/> sets it, and a way that lost its
    /// line fails the tag compare), so it already has the set's newest stamp, and the victim
    /// choice, which compares stamps within a set only, comes out the same.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FindAndTouch(uint line)
    {
        int set = (int)(line & SetMask);
        uint want = line << 2;
        int w = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(LastWay), set);
        uint t = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Tags), w);
        if ((t & ~3u) == want && t != 0)
        {
            return w;
        }

        return ScanAndTouch(set, line);
    }

    private int ScanAndTouch(int set, uint line)
    {
        int slot = Scan(set, line << 2);
        if (slot >= 0)
        {
            Touch(slot, line);
        }

        return slot;
    }

    /// <summary>The slot holding <paramref name="line"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(uint line)
    {
        int set = (int)(line & SetMask);
        uint want = line << 2;
        ref uint tags = ref MemoryMarshal.GetArrayDataReference(Tags);

        // The set's most recently used way first (a way predictor: no scan for the common case).
        int w = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(LastWay), set);
        uint t = Unsafe.Add(ref tags, w);
        if ((t & ~3u) == want && t != 0)
        {
            return w;
        }

        return Scan(set, want);
    }

    private int Scan(int set, uint want)
    {
        int w = set * Ways;
        int end = w + Ways;
        ref uint tags = ref MemoryMarshal.GetArrayDataReference(Tags);
        for (; w < end; w++)
        {
            uint t = Unsafe.Add(ref tags, w);
            if ((t & ~3u) == want && t != 0)
            {
                return w;
            }
        }

        return -1;
    }

    /// <summary>Marks <paramref name="slot"/> most recently used (for LRU, and as its set's predicted way).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Touch(int slot, uint line)
    {
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Stamps), slot) = ++Clock;
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(LastWay), (int)(line & SetMask)) = slot;
    }

    /// <summary>The slot to fill for <paramref name="line"/>: an empty way, else the least recently used.</summary>
    public int Victim(uint line)
    {
        // Every miss runs this (each move of a contended line): no bounds checks, the best
        // stamp in a register. The set index is within the arrays by construction.
        ref uint tags = ref MemoryMarshal.GetArrayDataReference(Tags);
        ref ulong stamps = ref MemoryMarshal.GetArrayDataReference(Stamps);
        int first = (int)(line & SetMask) * Ways;
        int end = first + Ways;
        int best = first;
        ulong bestStamp = Unsafe.Add(ref stamps, first);
        for (int w = first; w < end; w++)
        {
            if (Unsafe.Add(ref tags, w) == 0)
            {
                return w;
            }

            ulong stamp = Unsafe.Add(ref stamps, w);
            if (stamp < bestStamp)
            {
                best = w;
                bestStamp = stamp;
            }
        }

        return best;
    }

    public void Clear()
    {
        Array.Clear(Tags);
        Array.Clear(Stamps);
        Clock = 0;
        for (int i = 0; i < LastWay.Length; i++)
        {
            LastWay[i] = i * Ways;
        }
    }
}

/// <summary>
/// One CPU's view of the hierarchy: its L1I and L1D, its counters, and the access methods
/// whose hit paths are small enough to inline into a CPU's memory accessors (a shift, a set
/// index, a compare per way, a stamp store, two counter adds). Everything else goes to the
/// hierarchy's non-inlined slow paths.
/// </summary>
public sealed class CachePort
{
    internal readonly L1Array D;
    internal readonly L1Array I;
    private readonly CacheHierarchy _h;
    private readonly int _lineShift;
    private readonly int _l1Hit;
    private readonly int _fetchHit;

    internal CachePort(CacheHierarchy h, int id, CacheConfig config)
    {
        _h = h;
        Id = id;
        Bit = 1UL << id;
        D = new L1Array(config.L1DSize, config.L1DWays, config.LineSize);
        I = new L1Array(config.L1ISize, config.L1IWays, config.LineSize);
        _lineShift = BitOperations.Log2((uint)config.LineSize);
        _l1Hit = config.L1HitLatency;
        _fetchHit = config.FetchHitLatency;
    }

    public int Id { get; }

    /// <summary>The hierarchy this port belongs to.</summary>
    public CacheHierarchy Hierarchy => _h;

    internal ulong Bit { get; }

    public CpuTimingCounters Counters { get; } = new();

    // The L1D's most recently touched line (MruWrite: the same line when it is Modified) and
    // the L1I's, or NoLine: a repeated access to that line skips the set lookup and the LRU
    // update (it is already the most recently used, so LRU order is unchanged: exact). The
    // slow paths reset them whenever they change this CPU's L1s (eviction, invalidation,
    // downgrade), each cache's filters only when that cache changed: a data miss or a lost
    // data line leaves the L1I (and so MruFetch) as it was, which keeps a contended loop's
    // block fetches on the one-compare path.
    internal const uint NoLine = uint.MaxValue;
    internal uint MruRead = NoLine;
    internal uint MruWrite = NoLine;
    internal uint MruFetch = NoLine;

    /// <summary>
    /// The line another CPU's write last took from this L1D (so it is not there), or NoLine:
    /// a contended line is usually accessed again right after it was lost, and the lookup then
    /// goes straight to the miss without scanning the set. Cleared when the line comes back.
    /// </summary>
    internal uint GoneLine = NoLine;

    /// <summary>Forgets every shortcut (the filters and <see cref="GoneLine"/>): the next accesses take the full lookups.</summary>
    internal void ForgetMru()
    {
        ForgetData();
        ForgetFetch();
        GoneLine = NoLine;
    }

    /// <summary>The L1D changed other than by a touch (eviction, invalidation, downgrade).</summary>
    internal void ForgetData()
    {
        MruRead = NoLine;
        MruWrite = NoLine;
    }

    /// <summary>The L1I changed other than by a touch (eviction, invalidation).</summary>
    internal void ForgetFetch() => MruFetch = NoLine;

    /// <summary>
    /// A data load or store of <paramref name="size"/> bytes within one line that the last-line
    /// filter answers (the line most recently touched, Modified for a store): counted and its
    /// latency given, exactly as <see cref="Access(uint, int, CacheAccessKind)"/> would; false
    /// (nothing done) otherwise. The CPU's charge for a TLB hit tries this first, so the common
    /// case is one call with no dispatch on the kind.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryFilterHit(uint physAddr, int size, bool write, out int latency)
    {
        uint lineMask = (1u << _lineShift) - 1;
        uint line = physAddr >> _lineShift;
        if ((physAddr & lineMask) + (uint)size <= lineMask + 1 && line == (write ? MruWrite : MruRead))
        {
            Counters.L1DHits++;
            Counters.MemoryCycles += _l1Hit;
            latency = _l1Hit;
            return true;
        }

        latency = 0;
        return false;
    }

    /// <summary>A data load of one line: the latency in cycles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Read(uint physAddr)
    {
        uint line = physAddr >> _lineShift;
        if (line == MruRead)
        {
            Counters.L1DHits++;
            Counters.MemoryCycles += _l1Hit;
            return _l1Hit;
        }

        return ReadLookup(line);
    }

    private int ReadLookup(uint line)
    {
        if (line == GoneLine)
        {
            return _h.DataMiss(this, line, write: false);
        }

        int slot = D.FindAndTouch(line);
        if (slot >= 0)
        {
            // Both filters name only the most recently touched line, so skipping Touch on a filter hit keeps LRU exact.
            MruRead = line;
            MruWrite = (D.Tags[slot] & 3) == (uint)MesiState.Modified ? line : NoLine;
            Counters.L1DHits++;
            Counters.MemoryCycles += _l1Hit;
            return _l1Hit;
        }

        return _h.DataMiss(this, line, write: false);
    }

    /// <summary>A data store to one line: the latency in cycles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Write(uint physAddr)
    {
        uint line = physAddr >> _lineShift;
        if (line == MruWrite)
        {
            Counters.L1DHits++;
            Counters.MemoryCycles += _l1Hit;
            return _l1Hit;
        }

        return WriteLookup(line);
    }

    private int WriteLookup(uint line)
    {
        if (line == GoneLine)
        {
            return _h.DataMiss(this, line, write: true);
        }

        int slot = D.FindAndTouch(line);
        if (slot >= 0 && (D.Tags[slot] & 2) != 0)
        {
            // Exclusive or Modified: becomes (stays) Modified with no traffic.
            D.Tags[slot] |= (uint)MesiState.Modified;
            MruRead = MruWrite = line;
            Counters.L1DHits++;
            Counters.MemoryCycles += _l1Hit;
            return _l1Hit;
        }

        return slot >= 0 ? _h.Upgrade(this, line, slot) : _h.DataMiss(this, line, write: true);
    }

    /// <summary>A locked read-modify-write of one line (a write for coherence): the latency in cycles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int LockedRmw(uint physAddr)
    {
        Counters.LockedAccesses++;
        return Write(physAddr);
    }

    /// <summary>An instruction fetch from one line: the latency in cycles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Fetch(uint physAddr)
    {
        uint line = physAddr >> _lineShift;
        if (line == MruFetch)
        {
            Counters.L1IHits++;
            Counters.MemoryCycles += _fetchHit;
            return _fetchHit;
        }

        return FetchLookup(line);
    }

    private int FetchLookup(uint line)
    {
        int slot = I.FindAndTouch(line);
        if (slot >= 0)
        {
            MruFetch = line;
            Counters.L1IHits++;
            Counters.MemoryCycles += _fetchHit;
            return _fetchHit;
        }

        return _h.FetchMiss(this, line);
    }

    /// <summary>One access of one line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Access(uint physAddr, CacheAccessKind kind) => kind switch
    {
        CacheAccessKind.Read => Read(physAddr),
        CacheAccessKind.Write => Write(physAddr),
        CacheAccessKind.Fetch => Fetch(physAddr),
        _ => LockedRmw(physAddr),
    };

    /// <summary>
    /// <paramref name="bytes"/> physically contiguous bytes accessed one element of
    /// <paramref name="elementSize"/> bytes after another (a string instruction's bulk path):
    /// exactly what the element accesses would cost one by one, computed per line, since every
    /// element after a line's first finds that line most recently used (in the right state).
    /// </summary>
    public int AccessRun(uint physAddr, uint bytes, int elementSize, CacheAccessKind kind)
    {
        if (bytes == 0)
        {
            return 0;
        }

        uint lineSize = 1u << _lineShift;
        uint end = physAddr + bytes;
        int total = 0;
        uint at = physAddr;
        while (at < end && at >= physAddr)
        {
            uint lineEnd = (at & ~(lineSize - 1)) + lineSize;
            uint stop = Math.Min(lineEnd, end);
            long elements = ((stop - at) + (uint)elementSize - 1) / (uint)elementSize;
            total += Access(at, kind);
            long hits = elements - 1;
            if (hits > 0)
            {
                if (kind == CacheAccessKind.Fetch)
                {
                    Counters.L1IHits += hits;
                    Counters.MemoryCycles += hits * _fetchHit;
                    total += (int)(hits * _fetchHit);
                }
                else
                {
                    Counters.L1DHits += hits;
                    Counters.MemoryCycles += hits * _l1Hit;
                    total += (int)(hits * _l1Hit);
                }
            }

            at += (uint)(elements * elementSize);
        }

        return total;
    }

    /// <summary>
    /// An access of <paramref name="size"/> bytes: one access per line it touches (a straddling
    /// access is two). The addresses must be physically contiguous (split page-crossing
    /// accesses by page first).
    /// </summary>
    public int Access(uint physAddr, int size, CacheAccessKind kind)
    {
        uint lineMask = (1u << _lineShift) - 1;
        if ((physAddr & lineMask) + (uint)size <= lineMask + 1)
        {
            return Access(physAddr, kind);
        }

        int total = 0;
        uint end = physAddr + (uint)size - 1;
        for (uint a = physAddr & ~lineMask; ; a += lineMask + 1)
        {
            total += Access(a, kind);
            if (a >= (end & ~lineMask))
            {
                return total;
            }
        }
    }
}

/// <summary>
/// The memory hierarchy of the cycle timing mode: per CPU an L1I and an L1D, one shared L2,
/// and DRAM behind it, kept coherent with MESI, exactly (every access, no sampling).
///
/// <list type="bullet">
/// <item>L1s: set-associative, true LRU. L1D lines carry a MESI state; L1I lines are Shared or
/// Invalid (code is fetched, never written through the L1I).</item>
/// <item>L2: shared, set-associative, true LRU over L1 misses (L1 hits do not touch it),
/// <b>inclusive</b> of every L1, with per line a dirty bit and two core-valid bitmaps (which
/// CPUs' L1Ds and L1Is hold the line), like the core-valid bits of Intel's inclusive L3s. The
/// bitmaps are the directory: a miss looks up one L2 set and knows exactly which L1s to snoop,
/// so there is no broadcast and no dictionary. Evicting an L2 line back-invalidates its L1
/// copies (writing back a Modified one). L1 evictions, clean or dirty, clear their bit, so the
/// bitmaps are exact.</item>
/// <item>Read miss: Exclusive when no other cache holds the line, else Shared; a line another
/// CPU holds Modified is a cache-to-cache transfer (that copy is written back to the L2 and
/// becomes Shared). Write miss: the same lookup, then every other copy (L1D and L1I) is
/// invalidated; a Modified copy is transferred instead of read from the L2. Write hit on a
/// Shared line: an upgrade (invalidation round trip). Write hit on Exclusive: silently Modified.
/// A line is granted Exclusive only if no L1I holds it, so a silent E-to-M store never leaves a
/// stale instruction copy.</item>
/// </list>
/// Up to 64 CPUs (the bitmaps are 64-bit).
/// </summary>
public sealed class CacheHierarchy
{
    private readonly CachePort[] _ports;
    private readonly int _lineShift;

    // The L2: per way a tag word (line << 2) | Dirty | Valid (0 when empty), an LRU stamp, and
    // the L1D and L1I core-valid bitmaps (one L2Sharers).
    private const uint L2Valid = 1;
    private const uint L2Dirty = 2;
    private readonly uint[] _l2Tags;
    private readonly ulong[] _l2Stamps;
    private readonly L2Sharers[] _l2Sharers;
    private readonly int _l2Ways;
    private readonly uint _l2SetMask;
    private ulong _l2Clock;

    /// <summary>
    /// A way's L1D and L1I core-valid bitmaps, side by side: a miss reads and updates both of
    /// the way it fills, so they share one host cache line (an L2 of megabytes is mostly out of
    /// the host's caches, and two parallel arrays cost two host misses per modelled miss).
    /// </summary>
    private struct L2Sharers
    {
        public ulong Data;
        public ulong Code;
    }

    private readonly int _l1Hit;
    private readonly int _l2Hit;
    private readonly int _dram;
    private readonly int _transfer;
    private readonly int _invalidate;
    private readonly int _writeBack;

    public CacheHierarchy(int cpus, CacheConfig config)
    {
        if (cpus is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(cpus), "the cache model handles 1 to 64 CPUs");
        }

        string? error = config.Validate();
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(config));
        }

        Config = config;
        _lineShift = BitOperations.Log2((uint)config.LineSize);
        _ports = new CachePort[cpus];
        for (int i = 0; i < cpus; i++)
        {
            _ports[i] = new CachePort(this, i, config);
        }

        int l2Sets = config.L2Size / (config.L2Ways * config.LineSize);
        _l2Ways = config.L2Ways;
        _l2SetMask = (uint)l2Sets - 1;
        _l2Tags = new uint[l2Sets * _l2Ways];
        _l2Stamps = new ulong[l2Sets * _l2Ways];
        _l2Sharers = new L2Sharers[l2Sets * _l2Ways];
        _l1Hit = config.L1HitLatency;
        _l2Hit = config.L2HitLatency;
        _dram = config.DramLatency;
        _transfer = config.TransferLatency;
        _invalidate = config.InvalidationLatency;
        _writeBack = config.WriteBackLatency;
    }

    public CacheConfig Config { get; }

    public int CpuCount => _ports.Length;

    /// <summary>CPU <paramref name="cpu"/>'s port: hold on to it and call its methods from the hot path.</summary>
    public CachePort Port(int cpu) => _ports[cpu];

    public CpuTimingCounters Counters(int cpu) => _ports[cpu].Counters;

    /// <summary>One access of the line holding <paramref name="physAddr"/> by <paramref name="cpu"/>: its latency in cycles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Access(int cpu, uint physAddr, CacheAccessKind kind) => _ports[cpu].Access(physAddr, kind);

    /// <summary>An access of <paramref name="size"/> physically contiguous bytes (two accesses when it straddles a line).</summary>
    public int Access(int cpu, uint physAddr, int size, CacheAccessKind kind) => _ports[cpu].Access(physAddr, size, kind);

    // ---------------------------------------------------------------- inspection (tests, reports)

    /// <summary>The state of <paramref name="physAddr"/>'s line in <paramref name="cpu"/>'s L1D.</summary>
    public MesiState DataState(int cpu, uint physAddr)
    {
        L1Array d = _ports[cpu].D;
        int slot = d.Find(physAddr >> _lineShift);
        return slot < 0 ? MesiState.Invalid : (MesiState)(d.Tags[slot] & 3);
    }

    /// <summary>Whether <paramref name="cpu"/>'s L1I holds <paramref name="physAddr"/>'s line.</summary>
    public bool InInstructionCache(int cpu, uint physAddr) => _ports[cpu].I.Find(physAddr >> _lineShift) >= 0;

    /// <summary>Whether the L2 holds <paramref name="physAddr"/>'s line.</summary>
    public bool InL2(uint physAddr) => FindL2(physAddr >> _lineShift) >= 0;

    /// <summary>The CPUs whose L1D holds <paramref name="physAddr"/>'s line, as a bitmap.</summary>
    public ulong DataSharers(uint physAddr)
    {
        int i = FindL2(physAddr >> _lineShift);
        return i < 0 ? 0 : _l2Sharers[i].Data;
    }

    /// <summary>
    /// What an access by <paramref name="cpu"/> to <paramref name="physAddr"/> would meet now,
    /// without making it (no state or counter changes): for explaining an access before it runs.
    /// The latency is the hierarchy's part (write-backs of evicted lines not included).
    /// </summary>
    public (string Outcome, int Latency) Predict(int cpu, uint physAddr, bool write)
    {
        uint line = physAddr >> _lineShift;
        L1Array d = _ports[cpu].D;
        int slot = d.Find(line);
        var state = slot < 0 ? MesiState.Invalid : (MesiState)(d.Tags[slot] & 3);
        int l2 = FindL2(line);
        ulong others = l2 < 0 ? 0 : _l2Sharers[l2].Data & ~_ports[cpu].Bit;
        string Cpus(ulong mask) => string.Join(", ", Enumerable.Range(0, _ports.Length).Where(i => (mask >> i & 1) != 0).Select(i => $"CPU {i}"));
        if (state != MesiState.Invalid)
        {
            if (!write || state is MesiState.Modified or MesiState.Exclusive)
            {
                return ($"L1D hit ({state})", _l1Hit);
            }

            return ($"L1D hit (Shared), write: upgrade, invalidates {Cpus(others)}", _l1Hit + _invalidate);
        }

        int fill = l2 >= 0 ? _l2Hit : _dram;
        string from = l2 >= 0 ? "L2 hit" : "L2 miss, from DRAM";
        if (BitOperations.PopCount(others) == 1)
        {
            int owner = BitOperations.TrailingZeroCount(others);
            L1Array od = _ports[owner].D;
            if ((od.Tags[od.Find(line)] & 3) == (uint)MesiState.Modified)
            {
                return ($"L1D miss: Modified in CPU {owner}'s L1D, cache-to-cache transfer{(write ? ", CPU " + owner + "'s copy invalidated" : ", both Shared")}", _transfer);
            }
        }

        if (write && others != 0)
        {
            return ($"L1D miss, {from}, invalidates {Cpus(others)}", fill + _invalidate);
        }

        return ($"L1D miss, {from}{(others != 0 ? ", Shared with " + Cpus(others) : string.Empty)}", fill);
    }

    /// <summary>The lines with the most coherence events, all CPUs together.</summary>
    public IReadOnlyList<(uint LineAddress, LineContention Total)> TopContendedLines(int count)
    {
        var totals = new Dictionary<uint, LineContention>();
        foreach (CachePort p in _ports)
        {
            foreach ((uint line, LineContention c) in p.Counters.ContendedLines)
            {
                ref LineContention t = ref CollectionsMarshal.GetValueRefOrAddDefault(totals, line, out _);
                t.InvalidationsSent += c.InvalidationsSent;
                t.InvalidationsReceived += c.InvalidationsReceived;
                t.TransfersReceived += c.TransfersReceived;
                t.TransfersSent += c.TransfersSent;
                t.Upgrades += c.Upgrades;
                t.Cycles += c.Cycles;
                t.WrittenBytes |= c.WrittenBytes;
            }
        }

        return totals.OrderByDescending(kv => kv.Value.Cycles).ThenByDescending(kv => kv.Value.Events).ThenBy(kv => kv.Key)
            .Take(count).Select(kv => (kv.Key, kv.Value)).ToList();
    }

    /// <summary>Empties every cache (contents only; counters are kept).</summary>
    public void Clear()
    {
        foreach (CachePort p in _ports)
        {
            p.D.Clear();
            p.I.Clear();
            p.ForgetMru();
        }

        Array.Clear(_l2Tags);
        Array.Clear(_l2Stamps);
        Array.Clear(_l2Sharers);
        _l2Clock = 0;
    }

    // ---------------------------------------------------------------- slow paths

    /// <summary>An L1D miss (read or write).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal int DataMiss(CachePort port, uint line, bool write)
    {
        CpuTimingCounters c = port.Counters;
        c.L1DMisses++;
        int mem = 0;
        int coh = 0;
        int l2 = LookupOrFillL2(port, line, ref mem);
        ulong others = _l2Sharers[l2].Data & ~port.Bit;
        MesiState state;
        if (!write)
        {
            state = others == 0 && _l2Sharers[l2].Code == 0 ? MesiState.Exclusive : MesiState.Shared;
            if (BitOperations.PopCount(others) == 1)
            {
                CachePort owner = _ports[BitOperations.TrailingZeroCount(others)];
                int slot = owner.D.Find(line);
                uint ownerState = owner.D.Tags[slot] & 3;
                if (ownerState == (uint)MesiState.Modified)
                {
                    // Cache-to-cache transfer: the owner supplies the line, writes it back and keeps it Shared.
                    _l2Tags[l2] |= L2Dirty;
                    owner.Counters.WriteBacks++;
                    Transfer(port, owner, line);
                    mem = 0;
                    coh = _transfer;
                }

                if (ownerState >= (uint)MesiState.Exclusive)
                {
                    owner.D.Tags[slot] = (line << 2) | (uint)MesiState.Shared;
                    owner.ForgetData();
                }
            }
        }
        else
        {
            state = MesiState.Modified;
            bool invalidated = false;
            if (BitOperations.PopCount(others) == 1)
            {
                // One other copy (a contended line's usual case): its slot is looked up once,
                // for the transfer and the invalidation, which is done here exactly as
                // InvalidateCopies would do it, and in the same order (then the L1I copies).
                CachePort owner = _ports[BitOperations.TrailingZeroCount(others)];
                L1Array od = owner.D;
                int slot = od.Find(line);
                if ((od.Tags[slot] & 3) == (uint)MesiState.Modified)
                {
                    // The Modified copy moves here (ownership with it), then it is dropped.
                    Transfer(port, owner, line);
                    mem = 0;
                    coh = _transfer;
                }

                od.Tags[slot] = 0;
                owner.ForgetData();
                owner.GoneLine = line;
                Invalidated(port, owner, line << _lineShift);
                _l2Sharers[l2].Data &= ~others;
                others = 0;
                invalidated = true;
            }

            invalidated |= InvalidateCopies(port, line, l2, others, _l2Sharers[l2].Code);
            if (invalidated && coh == 0)
            {
                coh = _invalidate;
            }
        }

        FillL1(port, port.D, line, l2, state, ref mem);
        _l2Sharers[l2].Data |= port.Bit;
        return Charge(port, line, mem, coh);
    }

    /// <summary>A write hit on a Shared line: invalidate the other copies and become Modified.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal int Upgrade(CachePort port, uint line, int slot)
    {
        CpuTimingCounters c = port.Counters;
        c.L1DHits++;
        c.Upgrades++;
        port.Counters.Line(line << _lineShift).Upgrades++;
        int l2 = port.D.L2Slot[slot];
        Debug.Assert(l2 == FindL2(line), "the L2 is inclusive, and an L1 slot knows its line's L2 slot");
        InvalidateCopies(port, line, l2, _l2Sharers[l2].Data & ~port.Bit, _l2Sharers[l2].Code);
        port.D.Tags[slot] = (line << 2) | (uint)MesiState.Modified;
        port.D.Touch(slot, line);
        port.MruRead = port.MruWrite = line;
        return Charge(port, line, _l1Hit, _invalidate);
    }

    /// <summary>An L1I miss.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal int FetchMiss(CachePort port, uint line)
    {
        port.Counters.L1IMisses++;
        int mem = 0;
        int coh = 0;
        int l2 = LookupOrFillL2(port, line, ref mem);
        ulong holders = _l2Sharers[l2].Data;
        if (BitOperations.PopCount(holders) == 1)
        {
            // A single L1D copy may be Exclusive or Modified: it becomes Shared (written back if Modified).
            CachePort owner = _ports[BitOperations.TrailingZeroCount(holders)];
            int slot = owner.D.Find(line);
            uint ownerState = owner.D.Tags[slot] & 3;
            if (ownerState == (uint)MesiState.Modified)
            {
                _l2Tags[l2] |= L2Dirty;
                owner.Counters.WriteBacks++;
                if (owner != port)
                {
                    Transfer(port, owner, line);
                    mem = 0;
                    coh = _transfer;
                }
                else
                {
                    mem += _writeBack;
                }
            }

            if (ownerState >= (uint)MesiState.Exclusive)
            {
                owner.D.Tags[slot] = (line << 2) | (uint)MesiState.Shared;
                owner.ForgetData();
            }
        }

        FillL1(port, port.I, line, l2, MesiState.Shared, ref mem);
        _l2Sharers[l2].Code |= port.Bit;
        return Charge(port, line, mem, coh);
    }

    /// <summary>
    /// Told of every access that pays coherence cycles (a transfer or an invalidation): CPU,
    /// line address, coherence cycles (the timeline); null when nobody listens. Only the
    /// coherence branch of a miss or upgrade tests it, never a hit.
    /// </summary>
    public Action<int, uint, int>? CoherenceStall;

    private int Charge(CachePort port, uint line, int mem, int coh)
    {
        port.Counters.MemoryCycles += mem;
        if (coh != 0)
        {
            port.Counters.CoherenceCycles += coh;
            port.Counters.Line(line << _lineShift).Cycles += coh;
            CoherenceStall?.Invoke(port.Id, line << _lineShift, coh);
        }

        return mem + coh;
    }

    private void Transfer(CachePort to, CachePort from, uint line)
    {
        uint address = line << _lineShift;
        to.Counters.TransfersReceived++;
        from.Counters.TransfersSent++;
        to.Counters.Line(address).TransfersReceived++;
        from.Counters.Line(address).TransfersSent++;
    }

    /// <summary>
    /// Invalidates the L1D copies in <paramref name="data"/> and the L1I copies in
    /// <paramref name="code"/> on behalf of <paramref name="requester"/> (whose own L1I copy is
    /// dropped too, uncounted: a store to code it may have fetched). True when any other CPU's
    /// copy was invalidated.
    /// </summary>
    private bool InvalidateCopies(CachePort requester, uint line, int l2, ulong data, ulong code)
    {
        bool any = false;
        uint address = line << _lineShift;
        for (ulong m = data; m != 0; m &= m - 1)
        {
            CachePort p = _ports[BitOperations.TrailingZeroCount(m)];
            p.D.Tags[p.D.Find(line)] = 0;
            p.ForgetData();
            p.GoneLine = line;
            Invalidated(requester, p, address);
            any = true;
        }

        for (ulong m = code; m != 0; m &= m - 1)
        {
            CachePort p = _ports[BitOperations.TrailingZeroCount(m)];
            p.I.Tags[p.I.Find(line)] = 0;
            p.ForgetFetch();
            if (p != requester)
            {
                Invalidated(requester, p, address);
                any = true;
            }
        }

        _l2Sharers[l2].Data &= ~data;
        _l2Sharers[l2].Code &= ~code;
        return any;
    }

    private static void Invalidated(CachePort by, CachePort victim, uint address)
    {
        by.Counters.InvalidationsSent++;
        victim.Counters.InvalidationsReceived++;
        by.Counters.Line(address).InvalidationsSent++;
        victim.Counters.Line(address).InvalidationsReceived++;
    }

    /// <summary>
    /// Puts <paramref name="line"/> (in L2 slot <paramref name="l2Slot"/>) in <paramref name="cache"/>
    /// (of <paramref name="port"/>), evicting the set's LRU line.
    /// </summary>
    private void FillL1(CachePort port, L1Array cache, uint line, int l2Slot, MesiState state, ref int mem)
    {
        int slot = cache.Victim(line);
        uint old = cache.Tags[slot];
        if (old != 0)
        {
            // The evicted line's L2 slot is remembered (no scan of its L2 set).
            int l2 = cache.L2Slot[slot];
            Debug.Assert(l2 == FindL2(old >> 2), "the L2 is inclusive, and an L1 slot knows its line's L2 slot");
            if (cache == port.D)
            {
                _l2Sharers[l2].Data &= ~port.Bit;
                if ((old & 3) == (uint)MesiState.Modified)
                {
                    _l2Tags[l2] |= L2Dirty;
                    port.Counters.WriteBacks++;
                    mem += _writeBack;
                }
            }
            else
            {
                _l2Sharers[l2].Code &= ~port.Bit;
            }
        }

        cache.Tags[slot] = (line << 2) | (uint)state;
        cache.L2Slot[slot] = l2Slot;
        cache.Touch(slot, line);

        // The filled line is its cache's most recently used; the other L1's filter stays.
        if (cache == port.I)
        {
            port.MruFetch = line;
        }
        else
        {
            port.MruRead = line;
            port.MruWrite = state == MesiState.Modified ? line : CachePort.NoLine;
            if (port.GoneLine == line)
            {
                port.GoneLine = CachePort.NoLine;
            }
        }
    }

    private int FindL2(uint line)
    {
        // Every L1 miss runs this: no bounds checks (the set is within the array by construction).
        ref uint tags = ref MemoryMarshal.GetArrayDataReference(_l2Tags);
        int w = (int)(line & _l2SetMask) * _l2Ways;
        int end = w + _l2Ways;
        uint want = line << 2;
        for (; w < end; w++)
        {
            uint t = Unsafe.Add(ref tags, w);
            if ((t & ~3u) == want && t != 0)
            {
                return w;
            }
        }

        return -1;
    }

    /// <summary>The L2 slot of <paramref name="line"/> after an L1 miss: an L2 hit, or a DRAM fill (evicting, back-invalidating).</summary>
    private int LookupOrFillL2(CachePort port, uint line, ref int mem)
    {
        // One pass over the set's tags finds the line or, failing that, the first empty way;
        // only a miss in a full set then reads the stamps (no second pass over the tags). The
        // victim is the one the two-pass form chose: the first empty way, else the first way
        // with the smallest stamp. No bounds checks: the set is within the arrays by construction.
        ref uint tags = ref MemoryMarshal.GetArrayDataReference(_l2Tags);
        ref ulong stamps = ref MemoryMarshal.GetArrayDataReference(_l2Stamps);
        int first = (int)(line & _l2SetMask) * _l2Ways;
        int end = first + _l2Ways;
        uint want = line << 2;
        int slot = -1;
        for (int w = first; w < end; w++)
        {
            uint t = Unsafe.Add(ref tags, w);
            if (t == 0)
            {
                if (slot < 0)
                {
                    slot = w;
                }
            }
            else if ((t & ~3u) == want)
            {
                port.Counters.L2Hits++;
                Unsafe.Add(ref stamps, w) = ++_l2Clock;
                mem += _l2Hit;
                return w;
            }
        }

        port.Counters.L2Misses++;
        mem += _dram;
        if (slot < 0)
        {
            slot = first;
            ulong best = Unsafe.Add(ref stamps, first);
            for (int w = first + 1; w < end; w++)
            {
                ulong stamp = Unsafe.Add(ref stamps, w);
                if (stamp < best)
                {
                    slot = w;
                    best = stamp;
                }
            }
        }

        uint old = _l2Tags[slot];
        if (old != 0)
        {
            uint oldLine = old >> 2;
            for (ulong m = _l2Sharers[slot].Data; m != 0; m &= m - 1)
            {
                CachePort p = _ports[BitOperations.TrailingZeroCount(m)];
                int s = p.D.Find(oldLine);
                if ((p.D.Tags[s] & 3) == (uint)MesiState.Modified)
                {
                    old |= L2Dirty;
                    p.Counters.WriteBacks++;
                }

                p.D.Tags[s] = 0;
                p.ForgetData();
                p.Counters.BackInvalidations++;
            }

            for (ulong m = _l2Sharers[slot].Code; m != 0; m &= m - 1)
            {
                CachePort p = _ports[BitOperations.TrailingZeroCount(m)];
                p.I.Tags[p.I.Find(oldLine)] = 0;
                p.ForgetFetch();
                p.Counters.BackInvalidations++;
            }

            if ((old & L2Dirty) != 0)
            {
                port.Counters.WriteBacks++;
                mem += _writeBack;
            }
        }

        _l2Tags[slot] = (line << 2) | L2Valid;
        _l2Sharers[slot] = default;
        _l2Stamps[slot] = ++_l2Clock;
        return slot;
    }
}
