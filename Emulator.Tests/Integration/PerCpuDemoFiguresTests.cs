using System.Globalization;
using System.Text.RegularExpressions;
using Emulator.Platform;
using Emulator.Tests.Platform;

namespace Emulator.Tests.Integration;

/// <summary>
/// The teaching kernel's demos measure themselves with RDTSC; in the cycle mode their figures
/// must tell the story the demos print: a shared locked counter costs far more than a per-CPU
/// one, false sharing far more than padded or per-CPU counters. Relations only.
/// </summary>
public partial class PerCpuDemoFiguresTests
{
    internal static readonly Lazy<(string Serial, Machine Machine, RunResult Result)> CycleBoot = new(() =>
    {
        var (m, serial) = BootCycle();
        var r = m.Run();
        Assert.Equal(StopReason.GuestExit, r.Reason);
        return (serial(), m, r);
    });

    /// <summary>The default `run`: the teaching kernel on 4 CPUs in the cycle mode.</summary>
    internal static (Machine Machine, Func<string> Serial) BootCycle()
    {
        var serial = new System.Text.StringBuilder();
        var m = new Machine(new MachineConfig { Cpus = 4, Timing = TimingMode.Cycle, MaxInstructions = 400_000_000 }, b => serial.Append((char)b));
        m.Load("percpu", Emulator.Cli.GuestImages.TryGet("percpu")!);
        return (m, serial.ToString);
    }

    [GeneratedRegex(@"counters: cpu(\d) this_cpu_inc cycles=(\d+) lock incl cycles=(\d+)")]
    private static partial Regex CountersLine();

    [GeneratedRegex(@"falseshare: cpu(\d) same line cycles=(\d+) padded cycles=(\d+) per-CPU cycles=(\d+)")]
    private static partial Regex FalseShareLine();

    private static long N(Group g) => long.Parse(g.Value, CultureInfo.InvariantCulture);

    [Fact]
    public void SharedCounterCostsTenTimesThePerCpuOneOnEveryCpu()
    {
        var matches = CountersLine().Matches(CycleBoot.Value.Serial);
        Assert.Equal(4, matches.Count);
        foreach (Match m in matches)
        {
            long perCpu = N(m.Groups[2]);
            long shared = N(m.Groups[3]);
            Assert.True(shared >= 10 * perCpu, m.Value);
        }
    }

    [Fact]
    public void FalseSharingCostsFarMoreThanPaddedAndPerCpuCounters()
    {
        var matches = FalseShareLine().Matches(CycleBoot.Value.Serial);
        Assert.Equal(2, matches.Count);
        foreach (Match m in matches)
        {
            long same = N(m.Groups[2]);
            long padded = N(m.Groups[3]);
            long perCpu = N(m.Groups[4]);
            Assert.True(same >= 4 * padded, m.Value);
            Assert.True(perCpu <= padded, m.Value);
        }
    }

    [Fact]
    public void TheCycleModeChangesTimeNotBehaviour()
    {
        // The same transcript as QEMU's (platform lines and cycle figures masked), as in the
        // functional mode: the cycle model changes when things happen, not what happens.
        string[] expected = File.ReadAllLines(RepoPaths.File("guest-images", "percpu", "expected-serial-smp4.txt"));
        string[] actual = CycleBoot.Value.Serial.TrimEnd('\n').Split('\n');
        Assert.Equal(PerCpuKernelTests.Functional(expected), PerCpuKernelTests.Functional(actual));
    }

    [Fact]
    public void EveryDemoPassesInTheCycleModeToo()
    {
        string serial = CycleBoot.Value.Serial;
        Assert.Contains("percpu: done: 4 CPUs, 0 demo failures, 0 self-check failures", serial);
        var m = CycleBoot.Value.Machine;
        foreach (var cpu in m.Cpus)
        {
            Assert.Equal(cpu.Cycles, cpu.Timing!.BreakdownTotal);
        }
    }
}

/// <summary>The determinism check of the cycle-mode boot, in its own class so that its second boot runs in parallel with the figure tests.</summary>
public class PerCpuCycleDeterminismTests
{
    /// <summary>The cycle mode is as deterministic as the functional one: caches, coherence and cycle breakdown included.</summary>
    [Fact]
    public void SecondCycleRunIsBitForBitIdentical()
    {
        // The second boot first: it then runs while the figure tests make the shared one.
        var (second, output) = PerCpuDemoFiguresTests.BootCycle();
        RunFingerprint actual;
        using (second)
        {
            actual = RunFingerprint.Of(second, second.Run(), output());
        }

        var (serial, m, r) = PerCpuDemoFiguresTests.CycleBoot.Value;
        Determinism.AssertSame(RunFingerprint.Of(m, r, serial), actual);
    }
}
