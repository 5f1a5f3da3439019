using Emulator.Platform;
using Emulator.Tests.Platform;
using Emulator.Timing;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Timing;

/// <summary>
/// The cycle model wired into the CPUs, checked by relations (never absolute numbers) on small
/// SMP guests: sharing a written line is expensive, per-CPU data through %fs is not.
/// </summary>
public class CycleModelTests
{
    private const int Unroll = 8;

    /// <summary>A loop of <paramref name="increments"/> increments, <see cref="Unroll"/> per iteration.</summary>
    private static Action<Assembler> Loop(int increments, Action<Assembler> increment) => a =>
    {
        var top = a.CreateLabel();
        a.mov(ecx, increments / Unroll);
        a.Label(ref top);
        for (int i = 0; i < Unroll; i++)
        {
            increment(a);
        }

        a.dec(ecx);
        a.jnz(top);
    };

    private static MachineConfig Cycle(int cpus) => new() { Cpus = cpus, Timing = TimingMode.Cycle, MaxInstructions = 50_000_000 };

    [Fact]
    public void SharedLockedCounterCostsTenTimesAPerCpuCounter()
    {
        const int n = 4000;
        Action<Assembler> perCpu = Loop(n, a => a.inc(__dword_ptr.fs[0]));
        Action<Assembler> shared = Loop(n, a => a.@lock.inc(__dword_ptr[SmpTimingGuest.SharedLine]));

        // Phase 0 warms the per-CPU lines up; phase 1 is measured; phase 2 is the shared counter.
        using var m = SmpTimingGuest.Run(Cycle(4), perCpu, perCpu, shared);
        Assert.Equal(4u * n, m.Memory.Read32(SmpTimingGuest.SharedLine));
        for (int cpu = 0; cpu < 4; cpu++)
        {
            Assert.Equal(2u * n, m.Memory.Read32(SmpTimingGuest.PerCpuArea(cpu)));
            double perCpuCost = SmpTimingGuest.PhaseCycles(m, cpu, 1) / (double)n;
            double sharedCost = SmpTimingGuest.PhaseCycles(m, cpu, 2) / (double)n;
            Assert.True(sharedCost >= 10 * perCpuCost, $"CPU {cpu}: shared {sharedCost:F1} vs per-CPU {perCpuCost:F1} cycles per increment");
        }

        // The per-CPU counters' lines never saw coherence traffic; the shared one bounced.
        var caches = m.Caches!;
        for (int cpu = 0; cpu < 4; cpu++)
        {
            uint line = SmpTimingGuest.PerCpuArea(cpu);
            foreach (var p in Enumerable.Range(0, 4))
            {
                Assert.False(caches.Counters(p).ContendedLines.ContainsKey(line), $"CPU {p} saw coherence traffic on CPU {cpu}'s per-CPU line");
            }

            Assert.Equal(MesiState.Modified, caches.DataState(cpu, line));
        }

        var top = caches.TopContendedLines(1);
        Assert.Equal(SmpTimingGuest.SharedLine, top[0].LineAddress);
        Assert.True(top[0].Total.TransfersReceived >= 3 * n, $"only {top[0].Total.TransfersReceived} transfers of the shared line");
        for (int cpu = 0; cpu < 4; cpu++)
        {
            Assert.True(caches.Counters(cpu).LockedAccesses >= n);
        }
    }

    [Fact]
    public void FalseSharingCostsFarMoreThanPaddedCounters()
    {
        const int n = 2000;

        // Phase 0: each CPU increments its own dword, both in one line; phase 1: a line apart.
        Action<Assembler> sameLine = Loop(n, a => a.inc(__dword_ptr[ebp * 4 + SmpTimingGuest.ScratchArea]));
        Action<Assembler> padded = Loop(n, a => a.inc(__dword_ptr[ebp * 8 + (SmpTimingGuest.ScratchArea + 0x1000)]));
        Action<Assembler> paddedLine = a =>
        {
            // 64 bytes apart: index * 64 through a scratch register.
            a.mov(esi, ebp);
            a.shl(esi, 6);
            Loop(n, b => b.inc(__dword_ptr[esi + (SmpTimingGuest.ScratchArea + 0x1000)]))(a);
        };
        _ = padded;
        using var m = SmpTimingGuest.Run(Cycle(2), sameLine, paddedLine);
        for (int cpu = 0; cpu < 2; cpu++)
        {
            Assert.Equal((uint)n, m.Memory.Read32(SmpTimingGuest.ScratchArea + ((uint)cpu * 4)));
            Assert.Equal((uint)n, m.Memory.Read32(SmpTimingGuest.ScratchArea + 0x1000 + ((uint)cpu * 64)));
            double same = SmpTimingGuest.PhaseCycles(m, cpu, 0) / (double)n;
            double apart = SmpTimingGuest.PhaseCycles(m, cpu, 1) / (double)n;
            Assert.True(same >= 5 * apart, $"CPU {cpu}: same line {same:F1} vs a line apart {apart:F1} cycles per increment");
        }

        // Both CPUs wrote the contended line, at different bytes: false sharing, visible in the counters.
        ulong w0 = m.Caches!.Counters(0).ContendedLines[SmpTimingGuest.ScratchArea].WrittenBytes;
        ulong w1 = m.Caches.Counters(1).ContendedLines[SmpTimingGuest.ScratchArea].WrittenBytes;
        Assert.Equal(0xFUL, w0);
        Assert.Equal(0xF0UL, w1);
    }

    [Fact]
    public void ArrayLargerThanL2RunsAtLowerIpcThanOneThatFitsL1()
    {
        // A small hierarchy keeps the test short: 4 KiB L1D, 32 KiB L2.
        var cache = new CacheConfig { L1DSize = 4096, L1DWays = 4, L2Size = 32 * 1024, L2Ways = 8 };
        const uint small = 2048;
        const uint large = 256 * 1024;
        Action<Assembler> Walk(uint bytes, int passes) => a =>
        {
            var pass = a.CreateLabel();
            var step = a.CreateLabel();
            a.mov(edx, passes);
            a.Label(ref pass);
            a.mov(esi, SmpTimingGuest.ScratchArea);
            a.Label(ref step);
            a.mov(eax, __dword_ptr[esi]);
            a.add(esi, 64);
            a.cmp(esi, SmpTimingGuest.ScratchArea + bytes);
            a.jb(step);
            a.dec(edx);
            a.jnz(pass);
        };

        using var m = SmpTimingGuest.Run(Cycle(1) with { Cache = cache }, Walk(small, 64), Walk(large, 2));
        double ipcSmall = 4.0 * 64 * (small / 64) / SmpTimingGuest.PhaseCycles(m, 0, 0);
        double ipcLarge = 4.0 * 2 * (large / 64) / SmpTimingGuest.PhaseCycles(m, 0, 1);
        Assert.True(ipcLarge * 4 < ipcSmall, $"IPC {ipcLarge:F3} over 256 KiB vs {ipcSmall:F3} over 2 KiB");
        Assert.True(m.Caches!.Counters(0).L2Misses >= 2 * (large / 64), "every pass over the large array misses the L2");
    }

    [Fact]
    public void EveryCycleIsAccountedForInTheBreakdown()
    {
        Action<Assembler> shared = Loop(800, a => a.@lock.inc(__dword_ptr[SmpTimingGuest.SharedLine]));
        using var m = SmpTimingGuest.Run(Cycle(3), shared);
        foreach (var cpu in m.Cpus)
        {
            var c = cpu.Timing!;
            Assert.Equal(cpu.Cycles, c.BreakdownTotal);
            Assert.True(c.HaltedCycles > 0 || cpu.Id == 0, $"CPU {cpu.Id} waited for its SIPI without halted time");
            Assert.True(c.CoherenceCycles > 0);
            Assert.True(c.LockedCycles >= 800 * CoreTimingTable.LockPenalty);
        }
    }

    [Fact]
    public void CycleModeIsDeterministicAndFunctionalModeIsOneCyclePerInstruction()
    {
        Action<Assembler> shared = Loop(400, a => a.@lock.inc(__dword_ptr[SmpTimingGuest.SharedLine]));
        RunFingerprint first, second;
        using (var m = SmpTimingGuest.Run(Cycle(4), shared))
        {
            first = RunFingerprint.Of(m);
        }

        using (var m = SmpTimingGuest.Run(Cycle(4), shared))
        {
            second = RunFingerprint.Of(m);
        }

        Determinism.AssertSame(first, second);

        using var f = SmpTimingGuest.Run(Cycle(1) with { Timing = TimingMode.Functional }, shared);
        Assert.Null(f.Caches);
        Assert.Null(f.Cpus[0].Timing);
        Assert.Equal(f.Cpus[0].Instructions, f.Cpus[0].Cycles);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(20)]
    [InlineData(100)]
    public void EnablingPagingAtAnySliceBoundaryKeepsRunning(long quantum)
    {
        // Regression: the fetch's page walk right after CR0.PG is set costs cycles; when it used
        // up the slice, an empty block run once read past the start of its micro-op array.
        var output = new System.Text.StringBuilder();
        var config = new MachineConfig
        {
            Timing = TimingMode.Cycle,
            QuantumOverride = quantum,
            MaxInstructions = 5_000_000,
            CommandLine = "work=walk paging=on passes=1 size=64K",
        };
        var (m, r) = Determinism.RunTwice(() =>
        {
            output.Clear();
            var machine = new Machine(config, b => output.Append((char)b));
            machine.Load("bench", Emulator.Cli.GuestImages.TryGet("bench")!);
            return (machine, output.ToString);
        });
        using var disposeMachine = m;
        Assert.True(r.Reason == StopReason.GuestExit, $"{r.Reason}: {r.Message}");
        Assert.Contains("work=walk-paging cpus=1", output.ToString());
        Assert.Contains("check=ok", output.ToString());
    }
}
