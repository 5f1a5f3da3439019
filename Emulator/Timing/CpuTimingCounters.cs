using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Emulator.Timing;

/// <summary>Coherence events on one cache line, as seen by one CPU (see <see cref="CpuTimingCounters.ContendedLines"/>).</summary>
public struct LineContention
{
    /// <summary>Other CPUs' copies this CPU invalidated (by writes, upgrades, locked accesses).</summary>
    public long InvalidationsSent;

    /// <summary>This CPU's copies invalidated by other CPUs.</summary>
    public long InvalidationsReceived;

    /// <summary>Cache-to-cache transfers this CPU received (it missed on a line another CPU held Modified).</summary>
    public long TransfersReceived;

    /// <summary>Cache-to-cache transfers this CPU supplied (its Modified copy was read or taken).</summary>
    public long TransfersSent;

    /// <summary>Shared-to-Modified upgrades this CPU made.</summary>
    public long Upgrades;

    /// <summary>Coherence cycles this CPU spent on the line.</summary>
    public long Cycles;

    /// <summary>
    /// The bytes of the line this CPU wrote with writes that took the line from other CPUs (bit
    /// i = byte i; for lines longer than 64 bytes, bit i covers 1/64 of the line). Two CPUs with
    /// disjoint masks on one line are false sharing.
    /// </summary>
    public ulong WrittenBytes;

    public readonly long Events => InvalidationsSent + InvalidationsReceived + TransfersReceived + TransfersSent + Upgrades;
}

/// <summary>
/// One CPU's timing counters. The cache hierarchy updates the cache, coherence, memory and
/// coherence-cycle fields itself; the CPU's hooks update the others. Plain fields so that a
/// hook's update is one add.
/// </summary>
public sealed class CpuTimingCounters
{
    /// <summary>Cycles on this CPU's clock (kept by the CPU; in cycle mode equal to <see cref="BreakdownTotal"/>).</summary>
    public long Cycles;

    /// <summary>Instructions retired (kept by the CPU).</summary>
    public long Instructions;

    public long L1IHits;
    public long L1IMisses;
    public long L1DHits;
    public long L1DMisses;

    /// <summary>L1 misses (instruction or data) served by the L2.</summary>
    public long L2Hits;

    /// <summary>L1 misses that went to DRAM.</summary>
    public long L2Misses;

    /// <summary>Other CPUs' L1 copies (data or instruction) this CPU's writes invalidated.</summary>
    public long InvalidationsSent;

    /// <summary>This CPU's L1 copies invalidated by other CPUs' writes.</summary>
    public long InvalidationsReceived;

    /// <summary>Cache-to-cache transfers this CPU received (misses served by another CPU's Modified line).</summary>
    public long TransfersReceived;

    /// <summary>Cache-to-cache transfers this CPU's L1D supplied.</summary>
    public long TransfersSent;

    /// <summary>Writes to a Shared line (Shared to Modified upgrades).</summary>
    public long Upgrades;

    /// <summary>Modified lines this CPU wrote back (evicted, or supplied to a reader), plus dirty L2 lines its fills evicted.</summary>
    public long WriteBacks;

    /// <summary>This CPU's L1 lines dropped because the inclusive L2 evicted them.</summary>
    public long BackInvalidations;

    /// <summary>Locked read-modify-write accesses.</summary>
    public long LockedAccesses;

    /// <summary>Cycles of instructions' base costs (<see cref="CoreTimingTable.BaseCost"/>).</summary>
    public long BaseCycles;

    /// <summary>Cycles the memory hierarchy charged for hits, misses and write-backs.</summary>
    public long MemoryCycles;

    /// <summary>Cycles the memory hierarchy charged for cache-to-cache transfers, invalidations and upgrades.</summary>
    public long CoherenceCycles;

    /// <summary>Cycles of LOCK penalties (explicit prefixes and implicitly locked XCHG).</summary>
    public long LockedCycles;

    /// <summary>Cycles of I/O port access penalties.</summary>
    public long IoCycles;

    /// <summary>Cycles spent halted (the clock skipped forward while waiting for an interrupt).</summary>
    public long HaltedCycles;

    /// <summary>Cycles of the other documented penalties: taken branches, segment loads, far transfers, interrupt delivery, page walks.</summary>
    public long PenaltyCycles;

    /// <summary>Uncached accesses (device memory: the local APIC, the IOAPIC), each charged a DRAM latency.</summary>
    public long UncachedAccesses;

    // Per-line records: an index per line address into a growable array, plus a one-entry
    // cache of the last line, because coherence events come in runs on the same line (a
    // ping-pong moves one line back and forth), which then cost no hash lookup.
    private readonly Dictionary<uint, int> _lineIndex = [];
    private LineContention[] _lines = new LineContention[16];
    private uint[] _lineAddresses = new uint[16];
    private uint _lastLine = uint.MaxValue;
    private int _lastIndex;

    /// <summary>
    /// Per physical line address (the address of the line's first byte) this CPU's coherence
    /// events: filled only on the coherence slow path, never on a hit.
    /// </summary>
    public IReadOnlyDictionary<uint, LineContention> ContendedLines => new LineView(this);

    public long L1Accesses => L1IHits + L1IMisses + L1DHits + L1DMisses;

    /// <summary>The sum of the cycle breakdown.</summary>
    public long BreakdownTotal => BaseCycles + MemoryCycles + CoherenceCycles + LockedCycles + IoCycles + HaltedCycles + PenaltyCycles;

    /// <summary>Records the bytes of a write that caused coherence traffic (see <see cref="LineContention.WrittenBytes"/>).</summary>
    public void RecordCoherentWrite(uint physAddr, int size, int lineSize)
    {
        uint line = physAddr & ~((uint)lineSize - 1);
        int first = (int)(physAddr - line);
        int last = Math.Min(first + size, lineSize) - 1;
        ulong mask = 0;
        if (lineSize <= 64)
        {
            // Bits first..last at once (this runs on every write that stole a line).
            int bits = last - first + 1;
            mask = (bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1) << first;
        }
        else
        {
            for (int b = first; b <= last; b++)
            {
                mask |= 1UL << (b * 64 / lineSize);
            }
        }

        Line(line).WrittenBytes |= mask;
    }

    /// <summary>The mutable record of <paramref name="lineAddress"/> in <see cref="ContendedLines"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref LineContention Line(uint lineAddress)
    {
        // A coherence miss updates the same line's record five or six times (transfer,
        // invalidation, cycles, written bytes, on both CPUs): the repeat is inlined.
        if (lineAddress == _lastLine)
        {
            return ref _lines[_lastIndex];
        }

        return ref LineLookup(lineAddress);
    }

    private ref LineContention LineLookup(uint lineAddress)
    {
        ref int index = ref CollectionsMarshal.GetValueRefOrAddDefault(_lineIndex, lineAddress, out bool exists);
        if (!exists)
        {
            index = _lineIndex.Count - 1;
            if (index == _lines.Length)
            {
                Array.Resize(ref _lines, _lines.Length * 2);
                Array.Resize(ref _lineAddresses, _lines.Length);
            }

            _lineAddresses[index] = lineAddress;
        }

        _lastLine = lineAddress;
        _lastIndex = index;
        return ref _lines[index];
    }

    /// <summary>Zeroes every counter.</summary>
    public void Reset()
    {
        Cycles = Instructions = 0;
        L1IHits = L1IMisses = L1DHits = L1DMisses = L2Hits = L2Misses = 0;
        InvalidationsSent = InvalidationsReceived = TransfersReceived = TransfersSent = Upgrades = WriteBacks = BackInvalidations = 0;
        LockedAccesses = UncachedAccesses = 0;
        BaseCycles = MemoryCycles = CoherenceCycles = LockedCycles = IoCycles = HaltedCycles = PenaltyCycles = 0;
        _lineIndex.Clear();
        Array.Clear(_lines);
        _lastLine = uint.MaxValue;
    }

    /// <summary>A read-only view of the per-line records.</summary>
    private sealed class LineView(CpuTimingCounters c) : IReadOnlyDictionary<uint, LineContention>
    {
        public int Count => c._lineIndex.Count;

        public IEnumerable<uint> Keys => c._lineAddresses.Take(Count);

        public IEnumerable<LineContention> Values => c._lines.Take(Count);

        public LineContention this[uint key] =>
            c._lineIndex.TryGetValue(key, out int i) ? c._lines[i] : throw new KeyNotFoundException($"no coherence events on line 0x{key:x8}");

        public bool ContainsKey(uint key) => c._lineIndex.ContainsKey(key);

        public bool TryGetValue(uint key, out LineContention value)
        {
            bool found = c._lineIndex.TryGetValue(key, out int i);
            value = found ? c._lines[i] : default;
            return found;
        }

        public IEnumerator<KeyValuePair<uint, LineContention>> GetEnumerator()
        {
            for (int i = 0; i < Count; i++)
            {
                yield return new KeyValuePair<uint, LineContention>(c._lineAddresses[i], c._lines[i]);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
