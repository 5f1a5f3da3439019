using System.Text;
using Emulator.Platform;

namespace Emulator.Tests.Platform;

/// <summary>
/// Everything two runs of the same image with the same options must agree on: the machine's
/// state hash (RAM and every CPU's registers and clocks), how the run stopped, the guest's output,
/// and every CPU's counters (instructions, cycles, exceptions and external interrupts by vector,
/// page walks and, in the cycle mode, the cache, coherence and cycle-breakdown counters).
/// </summary>
public sealed record RunFingerprint(ulong StateHash, StopReason? Reason, int ExitStatus, long Instructions, long Cycles, string Counters, string Output)
{
    public static RunFingerprint Of(Machine m, RunResult r, string output = "") =>
        new(m.StateHash(), r.Reason, r.GuestExitStatus, r.Instructions, r.Cycles, CountersOf(m), output);

    /// <summary>For a machine whose run a helper already ran and checked (its result is not at hand).</summary>
    public static RunFingerprint Of(Machine m, string output = "") =>
        new(m.StateHash(), null, 0, m.TotalInstructions, m.Cpus.Max(c => c.Cycles), CountersOf(m), output);

    private static string CountersOf(Machine m)
    {
        var sb = new StringBuilder();
        foreach (var c in m.Cpus)
        {
            sb.Append($"cpu{c.Id} {c.State} i={c.Instructions} c={c.Cycles} walks={c.PageWalks} ext={c.ExternalInterrupts}");
            for (int v = 0; v < 256; v++)
            {
                if (c.ExceptionCounts[v] != 0)
                {
                    sb.Append($" exc{v}={c.ExceptionCounts[v]}");
                }

                if (c.ExternalInterruptCounts[v] != 0)
                {
                    sb.Append($" irq{v}={c.ExternalInterruptCounts[v]}");
                }
            }

            if (c.Timing is { } t)
            {
                sb.Append($" l1i={t.L1IHits}/{t.L1IMisses} l1d={t.L1DHits}/{t.L1DMisses} l2={t.L2Hits}/{t.L2Misses}");
                sb.Append($" inv={t.InvalidationsSent}/{t.InvalidationsReceived} xfer={t.TransfersSent}/{t.TransfersReceived} up={t.Upgrades} wb={t.WriteBacks} locked={t.LockedAccesses}");
                sb.Append($" base={t.BaseCycles} mem={t.MemoryCycles} coh={t.CoherenceCycles} lockc={t.LockedCycles} io={t.IoCycles} halt={t.HaltedCycles} pen={t.PenaltyCycles}");
            }

            sb.AppendLine();
        }

        sb.Append($"unclaimed ports={string.Join(",", m.Io.UnclaimedAccesses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key:x}:{kv.Value}"))}");
        sb.Append($" pages={string.Join(",", m.Bus.UnclaimedAccesses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key:x}:{kv.Value}"))}");
        return sb.ToString();
    }
}

/// <summary>
/// The determinism check the tests that boot a machine share (issue #9): a second run of the
/// same image and options must give the same <see cref="RunFingerprint"/>. Tests that boot a
/// small guest check every run; tests of the big guest images share one boot per configuration
/// and check it once, so the suite does not pay for every boot twice.
/// </summary>
public static class Determinism
{
    /// <summary>
    /// Boots with <paramref name="boot"/> (a fresh, loaded machine and the function reading its
    /// output so far), runs it, runs a second one the same way, asserts that both fingerprints are
    /// equal and returns the first machine (the caller disposes it) with its result.
    /// </summary>
    public static (Machine Machine, RunResult Result) RunTwice(Func<(Machine Machine, Func<string> Output)> boot)
    {
        var (first, firstOutput) = boot();
        var result = first.Run();
        var expected = RunFingerprint.Of(first, result, firstOutput());
        AssertSecondRunMatches(expected, boot);
        return (first, result);
    }

    /// <summary>As <see cref="RunTwice(Func{ValueTuple{Machine, Func{string}}})"/> for a machine whose output is not captured.</summary>
    public static (Machine Machine, RunResult Result) RunTwice(Func<Machine> boot) => RunTwice(() => (boot(), () => string.Empty));

    /// <summary>Runs a second machine from <paramref name="boot"/> and asserts it ends exactly as <paramref name="expected"/>.</summary>
    public static void AssertSecondRunMatches(RunFingerprint expected, Func<(Machine Machine, Func<string> Output)> boot)
    {
        var (second, output) = boot();
        using (second)
        {
            AssertSame(expected, RunFingerprint.Of(second, second.Run(), output()));
        }
    }

    /// <summary>Asserts two fingerprints are equal, naming the counters or output that differ first.</summary>
    public static void AssertSame(RunFingerprint expected, RunFingerprint actual)
    {
        Assert.Equal(expected.Counters, actual.Counters);
        Assert.Equal(expected.Output, actual.Output);
        Assert.Equal(expected, actual);
    }
}
