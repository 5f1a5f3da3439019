using System.Text;
using System.Text.RegularExpressions;
using Emulator.Cpu.Segmentation;
using Emulator.Loading;
using Emulator.Platform;
using Emulator.Tests.Platform;

namespace Emulator.Tests.Integration;

/// <summary>
/// Boots the per-CPU teaching kernel (guest-images/percpu) on 1, 2, 4 and 8 CPUs and checks it
/// against real QEMU's transcript and against guest memory read through its ELF symbols.
/// </summary>
public partial class PerCpuKernelTests
{
    private const string ImagePath = "guest-images/build/percpu.elf";

    public sealed class Boot : IDisposable
    {
        public Boot(int cpus, long quantum = MachineConfig.DefaultQuantum)
        {
            var serial = new StringBuilder();
            Machine = new Machine(new MachineConfig { Cpus = cpus, Quantum = quantum, MaxInstructions = 400_000_000 }, b => serial.Append((char)b));
            Image = Machine.Load(ImagePath, File.ReadAllBytes(RepoPaths.GuestImage("percpu")));
            Result = Machine.Run();
            Serial = serial.ToString();
        }

        public Machine Machine { get; }

        public LoadedImage Image { get; }

        public RunResult Result { get; }

        public string Serial { get; }

        public uint Symbol(string name)
        {
            Assert.True(Image.Symbols.TryGetByName(name, out var s), $"no symbol {name}");
            return s.Address;
        }

        public uint Read32(uint addr) => Machine.Memory.Read32(addr);

        public uint PerCpuOffset(int cpu) => Read32(Symbol("__per_cpu_offset") + (uint)(4 * cpu));

        /// <summary>per_cpu(var, cpu): the variable's link address plus that CPU's offset.</summary>
        public uint PerCpu(string var, int cpu) => Read32(Symbol(var) + PerCpuOffset(cpu));

        public void Dispose() => Machine.Dispose();
    }

    // One boot per CPU count serves every test that only reads its outcome (booting is the slow part).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Lazy<Boot>> Shared = new();

    internal static Boot SharedBoot(int cpus) => Shared.GetOrAdd(cpus, n => new Lazy<Boot>(() => new Boot(n))).Value;

    /// <summary>The lines that depend on the platform's firmware and RAM, and the cycle figures, are masked as tools/compare-percpu-with-qemu.sh does.</summary>
    internal static string[] Functional(IEnumerable<string> lines) =>
        lines.Where(l => !PlatformLine().IsMatch(l)).Select(l => Cycles().Replace(l, "cycles=N")).ToArray();

    [GeneratedRegex("^(ACPI|mpparse|MPTABLE|mem|Command line): ")]
    private static partial Regex PlatformLine();

    [GeneratedRegex("cycles=[0-9]+")]
    private static partial Regex Cycles();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void BootsEveryCpuAndMatchesQemu(int cpus)
    {
        var boot = SharedBoot(cpus);
        Assert.Equal(StopReason.GuestExit, boot.Result.Reason);
        Assert.Equal(1, boot.Result.GuestExitStatus); // no failed demo or self-check
        Assert.Contains($"percpu: done: {cpus} CPUs, 0 demo failures, 0 self-check failures", boot.Serial);

        string[] expected = File.ReadAllLines(RepoPaths.File("guest-images", "percpu", $"expected-serial-smp{cpus}.txt"));
        string[] actual = boot.Serial.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        if (actual.Length > 0 && actual[^1].Length == 0)
        {
            actual = actual[..^1];
        }

        Assert.Equal(Functional(expected), Functional(actual));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void GuestMemoryShowsEachCpusPerCpuArea(int cpus)
    {
        var boot = SharedBoot(cpus);
        const uint firstMagic = 0x50435055;
        var offsets = Enumerable.Range(0, cpus).Select(boot.PerCpuOffset).ToArray();
        Assert.Equal(cpus, offsets.Distinct().Count());
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            // cpu_number and this_cpu_off as setup_per_cpu_areas wrote them.
            Assert.Equal((uint)cpu, boot.PerCpu("cpu_number", cpu));
            Assert.Equal(offsets[cpu], boot.PerCpu("this_cpu_off", cpu));

            // The copy of an initialised variable keeps its initial value in every unit.
            Assert.Equal(firstMagic, boot.PerCpu("percpu_first_magic", cpu));

            // That CPU's %fs: selector __KERNEL_PERCPU, its hidden base = __per_cpu_offset[cpu].
            ref var fs = ref boot.Machine.Cpus[cpu].Seg(SegReg.FS);
            Assert.Equal(0xD8, fs.Selector);
            Assert.Equal(offsets[cpu], fs.Base);

            // Its GDT is its own per-CPU gdt_page, and entry 27 holds the same base.
            var gdtr = boot.Machine.Cpus[cpu].Gdtr;
            Assert.Equal(boot.Symbol("gdt_page") + offsets[cpu], gdtr.Base);
            ulong entry = boot.Machine.Memory.Read32(gdtr.Base + (27 * 8)) | ((ulong)boot.Machine.Memory.Read32(gdtr.Base + (27 * 8) + 4) << 32);
            Assert.Equal(offsets[cpu], SegmentCache.DescriptorBase(entry));
            Assert.Equal(100_000u, boot.PerCpu("percpu_counter", cpu));
        }

        uint n = (uint)cpus;
        Assert.Equal(n * 100_000, boot.Read32(boot.Symbol("percpu_counter_sum")));
        Assert.Equal(n * 100_000, boot.Read32(boot.Symbol("shared_counter")));
        Assert.Equal(n * 1000, boot.Read32(boot.Symbol("dynamic_counter_sum")));

        // The preemption hazard: the unprotected this_cpu_ptr() loses updates, get_cpu_var() does not.
        Assert.Equal(1000u, boot.Read32(boot.Symbol("hazard_lost_updates")));
        Assert.Equal(cpus >= 2 ? 1u : 0u, boot.Read32(boot.Symbol("hazard_misplaced_updates")));
        Assert.Equal(0u, boot.Read32(boot.Symbol("hazard_lost_updates_fixed")));
        Assert.Equal(0u, boot.Read32(boot.Symbol("hazard_misplaced_updates_fixed")));
    }

    [Fact]
    public void AnotherQuantumChangesTheInterleavingButNotTheResults()
    {
        var a = SharedBoot(4);
        using var b = new Boot(4, quantum: 37);
        Assert.Equal(1, a.Result.GuestExitStatus);
        Assert.Equal(1, b.Result.GuestExitStatus);
        Assert.NotEqual(a.Machine.StateHash(), b.Machine.StateHash());
        Assert.Equal(Functional(a.Serial.Split('\n')), Functional(b.Serial.Split('\n')));
        Assert.Equal(a.Read32(a.Symbol("shared_counter")), b.Read32(b.Symbol("shared_counter")));
    }
}

/// <summary>
/// The determinism check of the shared boots, in a class of its own so that xunit runs the
/// second boots in parallel with the tests that read the first ones.
/// </summary>
public class PerCpuKernelDeterminismTests
{
    /// <summary>A second boot of each shared configuration ends bit for bit as the first (state hash, every counter, transcript).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void SecondRunIsBitForBitIdentical(int cpus)
    {
        // The second boot first: it then runs while the other class makes the shared one.
        using var b = new PerCpuKernelTests.Boot(cpus);
        var a = PerCpuKernelTests.SharedBoot(cpus);
        Determinism.AssertSame(RunFingerprint.Of(a.Machine, a.Result, a.Serial), RunFingerprint.Of(b.Machine, b.Result, b.Serial));
    }
}
