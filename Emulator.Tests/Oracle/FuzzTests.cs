using Emulator.Platform;
using Xunit.Abstractions;

namespace Emulator.Tests.Oracle;

/// <summary>
/// Random instruction streams (FUZZ_PROGRAMS programs of FUZZ_BYTES random bytes from FUZZ_SEED;
/// a fixed slice in CI, see <see cref="Programs"/>) in every <see cref="FuzzEnv"/>, in both
/// timing modes, and on several CPUs running different streams on the same memory: no .NET
/// exception may escape the core, every run must end (halt, shutdown or a budget; a watchdog
/// catches hangs) and leave every CPU consistent. A failing case is printed as a corpus line
/// (<see cref="FuzzCase.Format"/>) and, when FUZZ_SAVE_DIR is set, appended to
/// FUZZ_SAVE_DIR/fuzz-failures.txt; <see cref="FuzzRegressions"/> replays such files.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    /// <summary>The number of cases per test: FUZZ_PROGRAMS, else the CI slice given (see docs/testing.md).</summary>
    public static int Programs(int ciSlice) =>
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_PROGRAMS"), out int n) && n > 0 ? n : ciSlice;

    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out int s) ? s : 1234;

    public static int Bytes => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_BYTES"), out int b) && b > 0 ? b : 64;

    /// <summary>How long one program may take before it counts as a hang.</summary>
    public static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(30);

    /// <summary>CPUs of the shared-memory machine.</summary>
    public const int SharedCpus = 3;

    /// <summary>Functional timing: the bare CPU in each mode, and the 2-CPU INIT/SIPI machine.</summary>
    [Theory]
    [InlineData(FuzzEnv.Real)]
    [InlineData(FuzzEnv.Ring0)]
    [InlineData(FuzzEnv.Ring0Paging)]
    [InlineData(FuzzEnv.Ring3)]
    [InlineData(FuzzEnv.Ring3Paging)]
    [InlineData(FuzzEnv.Smp2)]
    public void RandomProgramsEndCleanly(FuzzEnv env) =>
        Campaign(output, $"{env}", unchecked((Seed * 31) + (int)env), Programs(env == FuzzEnv.Smp2 ? 100 : 300), rng => One(TimingMode.Functional, env, rng));

    public static FuzzCase One(TimingMode timing, FuzzEnv env, Random rng) => new(timing, [new FuzzCpu(env, RandomProgram(rng))]);

    public static FuzzCase Shared(TimingMode timing, Random rng)
    {
        FuzzEnv[] modes = [FuzzEnv.Real, FuzzEnv.Ring0, FuzzEnv.Ring0Paging, FuzzEnv.Ring3, FuzzEnv.Ring3Paging];
        var cpus = new FuzzCpu[SharedCpus];
        bool real = false;
        for (int i = 0; i < cpus.Length; i++)
        {
            var env = modes[rng.Next(real ? 1 : 0, modes.Length)];
            real |= env == FuzzEnv.Real;
            cpus[i] = new FuzzCpu(env, RandomProgram(rng));
        }

        return new FuzzCase(timing, cpus);
    }

    private static byte[] RandomProgram(Random rng)
    {
        var program = new byte[Bytes];
        rng.NextBytes(program);
        return program;
    }

    /// <summary>Runs <paramref name="count"/> cases drawn from a generator seeded with <paramref name="seed"/>; fails with every failing case as a corpus line.</summary>
    internal static void Campaign(ITestOutputHelper output, string name, int seed, int count, Func<Random, FuzzCase> next)
    {
        var rng = new Random(seed);
        var failures = new List<string>();
        var slowest = (Time: TimeSpan.Zero, Case: string.Empty);
        for (int i = 0; i < count; i++)
        {
            var fuzz = next(rng);
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            string? problem = RunWithWatchdog(fuzz);
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(start);
            if (took > slowest.Time)
            {
                slowest = (took, fuzz.Format());
            }

            if (problem is not null)
            {
                failures.Add($"program {i}: {problem}\n    {fuzz.Format()}");
                Save(fuzz, problem);
                if (failures.Count >= 10)
                {
                    break;
                }
            }
        }

        // Informational only (never asserted): the slowest case, to keep the CI slice fast.
        output.WriteLine($"{name}: {count} programs of {Bytes} bytes (seed {Seed}), {failures.Count} failures; slowest {slowest.Time.TotalMilliseconds:F0} ms: {slowest.Case}");
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} failing programs (add the lines to Emulator.Tests/Oracle/fuzz-corpus.txt):\n" + string.Join("\n", failures));
    }

    /// <summary>Runs on a worker thread so that a run that never returns fails the test instead of hanging it.</summary>
    public static string? RunWithWatchdog(FuzzEnv env, byte[] program) => RunWithWatchdog(new FuzzCase(TimingMode.Functional, [new FuzzCpu(env, program)]));

    /// <inheritdoc cref="RunWithWatchdog(FuzzEnv, byte[])"/>
    public static string? RunWithWatchdog(FuzzCase fuzz)
    {
        var task = Task.Factory.StartNew(() => FuzzHarness.Run(fuzz), TaskCreationOptions.LongRunning);
        return task.Wait(Watchdog) ? task.Result : $"no return within {Watchdog.TotalSeconds} s (hang)";
    }

    /// <summary>The file failing cases are appended to (FUZZ_SAVE_DIR/fuzz-failures.txt), or null when FUZZ_SAVE_DIR is not set.</summary>
    public static string? SaveFile
    {
        get
        {
            string? dir = Environment.GetEnvironmentVariable("FUZZ_SAVE_DIR");
            return string.IsNullOrEmpty(dir) ? null : Path.Combine(dir, "fuzz-failures.txt");
        }
    }

    private static void Save(FuzzCase fuzz, string problem)
    {
        if (SaveFile is { } file)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            fuzz.AppendTo(file, problem);
        }
    }
}
