using Emulator.Platform;
using static Emulator.Tests.Platform.ProtectedGuest;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Platform;

/// <summary>
/// Two CPUs play IPI ping-pong through their ICRs: the BSP sends fixed IPI 0x40 to APIC 1, the
/// AP's handler counts it and the AP answers with the same vector to APIC 0, N times. Each CPU
/// counts what it sent (in its main loop) and received (in its handler). The result must be the
/// same whatever the timing mode and the quantum; only the interleaving changes.
/// </summary>
public class IpiPingPongTests
{
    private const int RoundTrips = 100;
    private const int Vector = 0x40;
    private const uint Received = 0x6000; // [APIC id]
    private const uint Sent = 0x6010;     // [APIC id]
    private const uint Ready = 0x6020;

    /// <summary>The handler both CPUs share: count under this CPU's APIC ID, EOI.</summary>
    private static byte[] Handler() => FlatGuest.Assemble32(Handlers, h =>
    {
        h.push(eax);
        h.mov(eax, __dword_ptr[ApicId]);
        h.shr(eax, 24);
        h.@lock.inc(__dword_ptr[(eax * 4) + Received]);
        h.mov(__dword_ptr[ApicEoi], 0);
        h.pop(eax);
        h.iretd();
    });

    /// <summary>The AP: enable its APIC, say it is ready, then answer every ping with a pong.</summary>
    private static byte[] ApCodeBytes() => FlatGuest.Assemble32(ApCode, a =>
    {
        var loop = a.CreateLabel();
        ApFlatSegments(a, 0x70000);
        a.mov(__dword_ptr[ApicSvr], 0x1FF);
        a.mov(__dword_ptr[Ready], 1);
        a.xor(ecx, ecx);
        a.Label(ref loop);
        a.inc(ecx);
        WaitForEcx(a, Received + 4);
        a.mov(__dword_ptr[IcrHigh], 0u << 24);
        a.mov(__dword_ptr[IcrLow], 0x4000 | Vector); // fixed, assert, physical destination 0
        a.inc(__dword_ptr[Sent + 4]);
        a.cmp(ecx, RoundTrips);
        a.jne(loop);
        a.cli();
        a.hlt();
    });

    private static Machine Boot(MachineConfig config)
    {
        var m = FlatGuest.Boot(config, a =>
        {
            var waitReady = a.CreateLabel();
            var loop = a.CreateLabel();
            EnterFlat(a, 0x80000);
            SetGate(a, Vector, Handlers);
            a.mov(__dword_ptr[ApicSvr], 0x1FF);
            a.mov(__dword_ptr[IcrHigh], 1u << 24);
            a.mov(__dword_ptr[IcrLow], 0x00004500);  // INIT to APIC 1
            a.mov(__dword_ptr[IcrLow], 0x00004608);  // STARTUP, vector 8 (0x8000)
            a.Label(ref waitReady);
            a.pause();
            a.cmp(__dword_ptr[Ready], 1);
            a.jne(waitReady);
            a.xor(ecx, ecx);
            a.Label(ref loop);
            a.inc(ecx);
            a.mov(__dword_ptr[IcrHigh], 1u << 24);
            a.mov(__dword_ptr[IcrLow], 0x4000 | Vector); // ping APIC 1
            a.inc(__dword_ptr[Sent]);
            WaitForEcx(a, Received);
            a.cmp(ecx, RoundTrips);
            a.jne(loop);
            a.xor(eax, eax);
            a.@out(0xF4, al);
            a.hlt();
        });
        m.Memory.Write(Trampoline, ApTrampoline(ApCode));
        m.Memory.Write(ApCode, ApCodeBytes());
        m.Memory.Write(Handlers, Handler());
        return m;
    }

    [Theory]
    [InlineData(TimingMode.Functional, 1)]
    [InlineData(TimingMode.Functional, 20)]
    [InlineData(TimingMode.Functional, 1000)]
    [InlineData(TimingMode.Functional, 100_000)]
    [InlineData(TimingMode.Cycle, 1)]
    [InlineData(TimingMode.Cycle, 20)]
    [InlineData(TimingMode.Cycle, 1000)]
    [InlineData(TimingMode.Cycle, 100_000)]
    public void EachSideCountsEveryRoundTripAtAnyQuantum(TimingMode timing, long quantum)
    {
        var config = new MachineConfig { Cpus = 2, MemoryBytes = 16u << 20, Timing = timing, QuantumOverride = quantum, MaxInstructions = 10_000_000 };
        var (m, r) = Determinism.RunTwice(() => Boot(config));
        using (m)
        {
            Assert.True(r.Reason == StopReason.GuestExit, $"{r.Reason}: {r.Message}");
            Assert.Equal(1, r.GuestExitStatus);

            // The result in guest memory, identical in content for every timing and quantum.
            uint[] counters = [.. Enumerable.Range(0, 4).Select(i => m.Memory.Read32(Received + (uint)(4 * i))),
                .. Enumerable.Range(0, 2).Select(i => m.Memory.Read32(Sent + (uint)(4 * i)))];
            Assert.Equal(new uint[] { RoundTrips, RoundTrips, 0, 0, RoundTrips, RoundTrips }, counters);

            // Each CPU took exactly the pings (pongs) addressed to it, and nothing else.
            foreach (var cpu in m.Cpus)
            {
                Assert.Equal(RoundTrips, cpu.ExternalInterruptCounts[Vector]);
                Assert.Equal(RoundTrips, cpu.ExternalInterrupts);
            }

            Assert.Equal(Emulator.Cpu.RunState.Halted, m.Cpus[1].State);
        }
    }

    /// <summary>
    /// Another quantum interleaves the CPUs differently (the determinism check sees a different
    /// fingerprint, so it can fail) but the guest's result is the same.
    /// </summary>
    [Fact]
    public void AnotherQuantumChangesTheInterleavingButNotTheResult()
    {
        RunFingerprint Run(long quantum, out uint[] counters)
        {
            using var m = Boot(new MachineConfig { Cpus = 2, MemoryBytes = 16u << 20, QuantumOverride = quantum, MaxInstructions = 10_000_000 });
            var r = m.Run();
            Assert.Equal(StopReason.GuestExit, r.Reason);
            counters = [.. Enumerable.Range(0, 6).Select(i => m.Memory.Read32(Received + (uint)(4 * i)))];
            return RunFingerprint.Of(m, r);
        }

        var fine = Run(1, out uint[] fineCounters);
        var coarse = Run(1000, out uint[] coarseCounters);
        Assert.Equal(fineCounters, coarseCounters);
        Assert.NotEqual(fine.StateHash, coarse.StateHash);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Determinism.AssertSame(fine, coarse));
    }
}
