using Emulator.Timing;

namespace Emulator.Tests.Timing;

/// <summary>
/// The cache model alone: hits, misses, LRU, inclusion, MESI transitions, the counters, and the
/// costs the per-CPU data lesson relies on (ping-pong and false sharing cost far more than
/// private lines).
/// </summary>
public class CacheHierarchyTests
{
    /// <summary>L1s of 4 sets x 2 ways (512 B), an L2 of 16 sets x 4 ways (4 KiB), 64-byte lines.</summary>
    private static readonly CacheConfig Small = new()
    {
        L1ISize = 512,
        L1IWays = 2,
        L1DSize = 512,
        L1DWays = 2,
        L2Size = 4096,
        L2Ways = 4,
    };

    private static readonly CacheConfig D = CacheConfig.Default;

    // Lines that map to L1 set 0 of the small configuration (4 sets of 64 bytes: a stride of 256).
    private const uint A = 0x0000;
    private const uint B = 0x0100;
    private const uint C = 0x0200;

    [Fact]
    public void ReadMissGoesToDramThenHits()
    {
        var h = new CacheHierarchy(1, Small);
        Assert.Equal(D.DramLatency, h.Access(0, 0x1234, CacheAccessKind.Read));
        Assert.Equal(D.L1HitLatency, h.Access(0, 0x1238, CacheAccessKind.Read));
        CpuTimingCounters c = h.Counters(0);
        Assert.Equal(1, c.L1DMisses);
        Assert.Equal(1, c.L2Misses);
        Assert.Equal(0, c.L2Hits);
        Assert.Equal(1, c.L1DHits);
        Assert.Equal(D.DramLatency + D.L1HitLatency, c.MemoryCycles);
        Assert.Equal(0, c.CoherenceCycles);
    }

    [Fact]
    public void LruEvictsTheLeastRecentlyUsedWay()
    {
        var h = new CacheHierarchy(1, Small);
        h.Access(0, A, CacheAccessKind.Read);
        h.Access(0, B, CacheAccessKind.Read);
        h.Access(0, A, CacheAccessKind.Read); // A is now the most recently used
        h.Access(0, C, CacheAccessKind.Read); // evicts B
        Assert.Equal(MesiState.Exclusive, h.DataState(0, A));
        Assert.Equal(MesiState.Invalid, h.DataState(0, B));
        Assert.Equal(D.L1HitLatency, h.Access(0, A, CacheAccessKind.Read));
        Assert.Equal(D.L2HitLatency, h.Access(0, B, CacheAccessKind.Read)); // still in the L2
        Assert.Equal(1, h.Counters(0).L2Hits);
    }

    [Fact]
    public void DirtyEvictionIsAWriteBack()
    {
        var h = new CacheHierarchy(1, Small);
        h.Access(0, A, CacheAccessKind.Write);
        h.Access(0, B, CacheAccessKind.Read);
        Assert.Equal(D.DramLatency + D.WriteBackLatency, h.Access(0, C, CacheAccessKind.Read)); // evicts A, Modified
        Assert.Equal(1, h.Counters(0).WriteBacks);
    }

    [Fact]
    public void TheL2IsInclusive()
    {
        var h = new CacheHierarchy(2, Small);
        h.Access(0, A, CacheAccessKind.Write);

        // CPU 1 fills L2 set 0 (16 sets: a stride of 1 KiB) with four other lines: A, least recently
        // used in the L2 (CPU 0's L1 hits do not touch it), leaves the L2 and so CPU 0's L1D.
        for (uint i = 1; i <= 4; i++)
        {
            h.Access(0, A, CacheAccessKind.Read);
            h.Access(1, A + (i * 1024), CacheAccessKind.Read);
        }

        Assert.False(h.InL2(A));
        Assert.Equal(MesiState.Invalid, h.DataState(0, A));
        Assert.Equal(1, h.Counters(0).BackInvalidations);
        Assert.Equal(1, h.Counters(0).WriteBacks); // CPU 0's Modified copy
        Assert.Equal(1, h.Counters(1).WriteBacks); // the dirty L2 line CPU 1's fill evicted
    }

    [Fact]
    public void StraddlingAccessIsTwoAccesses()
    {
        var h = new CacheHierarchy(1, Small);
        Assert.Equal(2 * D.DramLatency, h.Access(0, 0x3E, 4, CacheAccessKind.Read));
        Assert.Equal(2, h.Counters(0).L1DMisses);
        Assert.Equal(D.L1HitLatency, h.Access(0, 0x3C, 4, CacheAccessKind.Read));
        Assert.Equal(2 * D.L1HitLatency, h.Access(0, 0x3F, 2, CacheAccessKind.Read));
    }

    [Fact]
    public void MesiTransitions()
    {
        var h = new CacheHierarchy(2, Small);
        CpuTimingCounters c0 = h.Counters(0), c1 = h.Counters(1);

        // Read miss with no other copy: Exclusive.
        h.Access(0, A, CacheAccessKind.Read);
        Assert.Equal(MesiState.Exclusive, h.DataState(0, A));

        // A second CPU reads: both Shared, served by the L2 (the Exclusive copy was clean).
        Assert.Equal(D.L2HitLatency, h.Access(1, A, CacheAccessKind.Read));
        Assert.Equal(MesiState.Shared, h.DataState(0, A));
        Assert.Equal(MesiState.Shared, h.DataState(1, A));
        Assert.Equal(0b11ul, h.DataSharers(A));

        // A write to a Shared line: an upgrade to Modified, the other copy invalidated, counted on both sides.
        Assert.Equal(D.L1HitLatency + D.InvalidationLatency, h.Access(1, A, CacheAccessKind.Write));
        Assert.Equal(MesiState.Modified, h.DataState(1, A));
        Assert.Equal(MesiState.Invalid, h.DataState(0, A));
        Assert.Equal(1, c1.Upgrades);
        Assert.Equal(1, c1.InvalidationsSent);
        Assert.Equal(1, c0.InvalidationsReceived);
        Assert.Equal(0b10ul, h.DataSharers(A));

        // A read of a line another CPU holds Modified: a cache-to-cache transfer; the owner writes back and both end Shared.
        Assert.Equal(D.TransferLatency, h.Access(0, A, CacheAccessKind.Read));
        Assert.Equal(MesiState.Shared, h.DataState(0, A));
        Assert.Equal(MesiState.Shared, h.DataState(1, A));
        Assert.Equal(1, c0.TransfersReceived);
        Assert.Equal(1, c1.TransfersSent);
        Assert.Equal(1, c1.WriteBacks);
        Assert.Equal(D.TransferLatency, c0.CoherenceCycles);

        // A write miss on a line another CPU holds Modified: the line moves, the old copy is invalidated.
        h.Access(0, A, CacheAccessKind.Write); // upgrade: 0 Modified, 1 Invalid
        Assert.Equal(D.TransferLatency, h.Access(1, A, CacheAccessKind.Write));
        Assert.Equal(MesiState.Modified, h.DataState(1, A));
        Assert.Equal(MesiState.Invalid, h.DataState(0, A));
        Assert.Equal(1, c1.TransfersReceived);
        Assert.Equal(1, c0.TransfersSent);
    }

    [Fact]
    public void WriteToExclusiveIsSilent()
    {
        var h = new CacheHierarchy(2, Small);
        h.Access(0, A, CacheAccessKind.Read);
        Assert.Equal(D.L1HitLatency, h.Access(0, A, CacheAccessKind.Write));
        Assert.Equal(MesiState.Modified, h.DataState(0, A));
        Assert.Equal(0, h.Counters(0).Upgrades);
        Assert.Equal(0, h.Counters(0).InvalidationsSent);
        Assert.Empty(h.Counters(0).ContendedLines);
    }

    [Fact]
    public void WriteMissInvalidatesSharedCopies()
    {
        var h = new CacheHierarchy(3, Small);
        h.Access(0, A, CacheAccessKind.Read);
        h.Access(1, A, CacheAccessKind.Read);
        Assert.Equal(D.L2HitLatency + D.InvalidationLatency, h.Access(2, A, CacheAccessKind.Write));
        Assert.Equal(2, h.Counters(2).InvalidationsSent);
        Assert.Equal(1, h.Counters(0).InvalidationsReceived);
        Assert.Equal(1, h.Counters(1).InvalidationsReceived);
        Assert.Equal(0b100ul, h.DataSharers(A));
    }

    [Fact]
    public void InstructionCopiesAreSharedAndInvalidatedByWrites()
    {
        var h = new CacheHierarchy(2, Small);
        Assert.Equal(D.DramLatency, h.Access(0, A, CacheAccessKind.Fetch));
        Assert.True(h.InInstructionCache(0, A));
        Assert.Equal(D.FetchHitLatency, h.Access(0, A, CacheAccessKind.Fetch));

        // A data read of a line some L1I holds is Shared, never Exclusive (a silent store would leave stale code).
        h.Access(1, A, CacheAccessKind.Read);
        Assert.Equal(MesiState.Shared, h.DataState(1, A));

        // Another CPU's store invalidates the instruction copy.
        h.Access(1, A, CacheAccessKind.Write);
        Assert.False(h.InInstructionCache(0, A));
        Assert.Equal(1, h.Counters(0).InvalidationsReceived);

        // Fetching code another CPU has Modified is a transfer.
        Assert.Equal(D.TransferLatency, h.Access(0, A, CacheAccessKind.Fetch));
        Assert.Equal(MesiState.Shared, h.DataState(1, A));
        Assert.Equal(2, h.Counters(0).L1IMisses);
        Assert.Equal(1, h.Counters(0).L1IHits);
    }

    [Fact]
    public void LockedAccessIsAWriteAndCounted()
    {
        var h = new CacheHierarchy(2, Small);
        h.Access(0, A, CacheAccessKind.Read);
        h.Access(1, A, CacheAccessKind.Read);
        h.Access(0, A, CacheAccessKind.LockedRmw);
        Assert.Equal(MesiState.Modified, h.DataState(0, A));
        Assert.Equal(MesiState.Invalid, h.DataState(1, A));
        Assert.Equal(1, h.Counters(0).LockedAccesses);
    }

    /// <summary>Two CPUs taking turns writing one line cost far more per access than each writing its own.</summary>
    [Fact]
    public void PingPongCostsFarMoreThanPrivateLines()
    {
        const int Rounds = 1000;
        double shared = PerAccess(0x1000, 0x1000, Rounds);
        double priv = PerAccess(0x1000, 0x1040, Rounds);
        Assert.True(shared >= 10 * priv, $"ping-pong {shared:F1} vs private {priv:F1} cycles per access");
    }

    /// <summary>False sharing: different words of one line behave like ping-pong; a line apart they are cheap.</summary>
    [Fact]
    public void FalseSharingCostsLikePingPong()
    {
        const int Rounds = 1000;
        double pingPong = PerAccess(0x2000, 0x2000, Rounds);
        double falseSharing = PerAccess(0x2000, 0x2020, Rounds);
        double apart = PerAccess(0x2000, 0x2040, Rounds);
        Assert.Equal(pingPong, falseSharing);
        Assert.True(falseSharing >= 10 * apart, $"false sharing {falseSharing:F1} vs a line apart {apart:F1}");
    }

    /// <summary>A locked increment ping-ponging between CPUs versus per-CPU counters (the lesson's numbers, at the cache level).</summary>
    [Fact]
    public void ContendedLockedCounterVersusPerCpuCounters()
    {
        var shared = new CacheHierarchy(4, D);
        var perCpu = new CacheHierarchy(4, D);
        for (int round = 0; round < 1000; round++)
        {
            for (int cpu = 0; cpu < 4; cpu++)
            {
                shared.Access(cpu, 0x5000, CacheAccessKind.LockedRmw);
                perCpu.Access(cpu, 0x6000 + ((uint)cpu * 64), CacheAccessKind.Read);
                perCpu.Access(cpu, 0x6000 + ((uint)cpu * 64), CacheAccessKind.Write);
            }
        }

        long sharedCycles = Enumerable.Range(0, 4).Sum(c => shared.Counters(c).MemoryCycles + shared.Counters(c).CoherenceCycles);
        long perCpuCycles = Enumerable.Range(0, 4).Sum(c => perCpu.Counters(c).MemoryCycles + perCpu.Counters(c).CoherenceCycles);
        Assert.True(sharedCycles >= 10 * perCpuCycles, $"{sharedCycles} vs {perCpuCycles}");

        // The contended line is the one the statistics name.
        var top = shared.TopContendedLines(1);
        Assert.Equal(0x5000u, top[0].LineAddress);
        Assert.Empty(perCpu.TopContendedLines(10));
        Assert.True(shared.Counters(1).ContendedLines[0x5000].TransfersReceived > 900);
    }

    [Fact]
    public void ArrayLargerThanL2MissesFarMoreThanOneThatFitsInL1()
    {
        (long misses, long accesses) Walk(uint bytes, int passes)
        {
            var h = new CacheHierarchy(1, D);
            for (int p = 0; p < passes; p++)
            {
                for (uint a = 0; a < bytes; a += 4)
                {
                    h.Access(0, 0x100000 + a, CacheAccessKind.Read);
                }
            }

            CpuTimingCounters c = h.Counters(0);
            return (c.L1DMisses, c.L1DHits + c.L1DMisses);
        }

        (long bigMisses, long bigAccesses) = Walk(4u << 20, 2); // twice the L2
        (long smallMisses, long smallAccesses) = Walk(16u << 10, 512); // half the L1D, as many accesses
        Assert.Equal(bigAccesses, smallAccesses);
        Assert.Equal(256, smallMisses); // the compulsory misses only
        Assert.Equal(2 * (4 << 20) / 64, bigMisses); // every line, every pass
        Assert.True(bigMisses >= 100 * smallMisses);

        var h2 = new CacheHierarchy(1, D);
        for (uint a = 0; a < 4u << 20; a += 64)
        {
            h2.Access(0, a, CacheAccessKind.Read);
        }

        Assert.Equal((4 << 20) / 64, h2.Counters(0).L2Misses);
    }

    [Fact]
    public void LruStaysExactWhenReadsAndWritesInterleave()
    {
        var h = new CacheHierarchy(1, Small);
        h.Access(0, B, CacheAccessKind.Read);
        h.Access(0, A, CacheAccessKind.Write); // A Modified
        h.Access(0, B, CacheAccessKind.Read); // a lookup hit
        h.Access(0, A, CacheAccessKind.Write); // a filter hit: A must become most recently used
        h.Access(0, C, CacheAccessKind.Read); // must evict B
        Assert.Equal(MesiState.Modified, h.DataState(0, A));
        Assert.Equal(MesiState.Invalid, h.DataState(0, B));
    }

    /// <summary>
    /// The last-line filters (and their per-cache resets) and the lost-line shortcut
    /// (<c>GoneLine</c>) change nothing: random traffic gives exactly the latencies, counters,
    /// contended-line records and cache contents of a hierarchy whose shortcuts are forgotten
    /// before every access (so every access takes the set lookup and the LRU update).
    /// </summary>
    [Fact]
    public void MruFiltersChangeNothing()
    {
        const int Cpus = 4;
        var fast = new CacheHierarchy(Cpus, Small);
        var reference = new CacheHierarchy(Cpus, Small);
        var rng = new Random(4321);

        // Few lines per set, fetches and data mixed on the same lines, runs of repeats: the
        // patterns where a filter answers and where a slow path must reset one.
        uint[] lines = [.. Enumerable.Range(0, 24).Select(i => (uint)i * 64 * 3)];
        var fields = typeof(CpuTimingCounters).GetFields().Where(f => f.FieldType == typeof(long)).ToArray();
        int cpu = 0;
        uint addr = 0;
        var kind = CacheAccessKind.Read;
        for (int step = 0; step < 30000; step++)
        {
            if (rng.Next(3) != 0)
            {
                cpu = rng.Next(Cpus);
                addr = lines[rng.Next(lines.Length)] + (uint)rng.Next(64);
                kind = (CacheAccessKind)rng.Next(4);
            }

            for (int c = 0; c < Cpus; c++)
            {
                reference.Port(c).ForgetMru();
            }

            Assert.Equal(reference.Access(cpu, addr, kind), fast.Access(cpu, addr, kind));
        }

        for (int c = 0; c < Cpus; c++)
        {
            foreach (var f in fields)
            {
                Assert.Equal(f.GetValue(reference.Counters(c)), f.GetValue(fast.Counters(c)));
            }

            Assert.Equal(reference.Counters(c).ContendedLines.OrderBy(kv => kv.Key), fast.Counters(c).ContendedLines.OrderBy(kv => kv.Key));
            foreach (uint line in lines)
            {
                Assert.Equal(reference.DataState(c, line), fast.DataState(c, line));
                Assert.Equal(reference.InInstructionCache(c, line), fast.InInstructionCache(c, line));
            }
        }
    }

    /// <summary>Random traffic from four CPUs: after every access the MESI and directory invariants hold.</summary>
    [Fact]
    public void RandomTrafficKeepsTheInvariants()
    {
        const int Cpus = 4;
        var h = new CacheHierarchy(Cpus, Small);
        var rng = new Random(1234);
        uint[] lines = [.. Enumerable.Range(0, 48).Select(i => (uint)i * 64 * 5)];
        for (int step = 0; step < 20000; step++)
        {
            int cpu = rng.Next(Cpus);
            uint addr = lines[rng.Next(lines.Length)] + (uint)rng.Next(64);
            var kind = (CacheAccessKind)rng.Next(4);
            int latency = h.Access(cpu, addr, kind);
            Assert.True(latency >= 0);
            if (kind == CacheAccessKind.Fetch)
            {
                Assert.True(h.InInstructionCache(cpu, addr));
            }
            else
            {
                MesiState s = h.DataState(cpu, addr);
                Assert.True(kind == CacheAccessKind.Read ? s != MesiState.Invalid : s == MesiState.Modified);
            }

            foreach (uint line in lines)
            {
                ulong holders = 0;
                int owners = 0;
                for (int c = 0; c < Cpus; c++)
                {
                    MesiState s = h.DataState(c, line);
                    if (s != MesiState.Invalid)
                    {
                        holders |= 1ul << c;
                        Assert.True(h.InL2(line), "inclusion");
                    }

                    if (s >= MesiState.Exclusive)
                    {
                        owners++;
                    }

                    if (h.InInstructionCache(c, line))
                    {
                        Assert.True(h.InL2(line), "inclusion");
                        Assert.True(s is MesiState.Invalid or MesiState.Shared || c == cpu, "no E/M copy beside an L1I copy");
                    }
                }

                Assert.Equal(holders, h.DataSharers(line));
                Assert.True(owners == 0 || (owners == 1 && ulong.PopCount(holders) == 1), "an E/M copy is the only one");
            }
        }
    }

    [Fact]
    public void ConfigurationLoadsFromJson()
    {
        CacheConfig c = CacheConfig.FromJson("""{ "l2Size": 1048576, "DramLatency": 150, /* comment */ }""");
        Assert.Equal(1 << 20, c.L2Size);
        Assert.Equal(150, c.DramLatency);
        Assert.Equal(CacheConfig.Default.L1DSize, c.L1DSize);
        Assert.Equal(CacheConfig.Default, CacheConfig.FromJson(CacheConfig.Default.ToJson()));
        Assert.Throws<ArgumentException>(() => CacheConfig.FromJson("""{ "L1DSize": 1000 }"""));
        Assert.Null(CacheConfig.Default.Validate());
    }

    private static double PerAccess(uint addr0, uint addr1, int rounds)
    {
        var h = new CacheHierarchy(2, D);
        for (int i = 0; i < rounds; i++)
        {
            h.Access(0, addr0, CacheAccessKind.Write);
            h.Access(1, addr1, CacheAccessKind.Write);
        }

        long cycles = h.Counters(0).MemoryCycles + h.Counters(0).CoherenceCycles + h.Counters(1).MemoryCycles + h.Counters(1).CoherenceCycles;
        return (double)cycles / (2 * rounds);
    }

    [Fact]
    public void PredictionsMatchWhatTheAccessThenCosts()
    {
        // A random mix of reads and writes by 3 CPUs over a few lines of the default hierarchy
        // (no evictions, so no write-backs): every prediction names the latency the access costs.
        var h = new CacheHierarchy(3, D);
        var rng = new Random(7);
        var outcomes = new HashSet<string>();
        for (int i = 0; i < 2000; i++)
        {
            int cpu = rng.Next(3);
            uint addr = (uint)rng.Next(6) * 64 + (uint)rng.Next(16) * 4;
            bool write = rng.Next(2) == 0;
            var (outcome, latency) = h.Predict(cpu, addr, write);
            var (before, _) = h.Predict(cpu, addr, write);
            Assert.Equal(outcome, before); // predicting changes nothing
            int actual = h.Access(cpu, addr, write ? CacheAccessKind.Write : CacheAccessKind.Read);
            Assert.True(latency == actual, $"step {i}: CPU {cpu} {(write ? "write" : "read")} 0x{addr:x}: predicted '{outcome}' {latency}, cost {actual}");
            outcomes.Add(outcome.Split(',', ':')[0]);
        }

        // Every kind of outcome occurred.
        Assert.Contains("L1D hit (Modified)", outcomes);
        Assert.Contains("L1D hit (Shared)", outcomes);
        Assert.Contains("L1D miss", outcomes);
    }
}
