using Xunit.Abstractions;

namespace Emulator.Tests.Oracle;

/// <summary>
/// Random instruction streams (FUZZ_PROGRAMS programs of FUZZ_BYTES random bytes from FUZZ_SEED;
/// a fixed slice of 300 x 64 bytes in CI) in every <see cref="FuzzEnv"/>: no .NET exception may
/// escape the core, every run must end (halt, shutdown or the instruction budget; a watchdog
/// catches hangs) and leave the CPU consistent. A failing program is printed as an InlineData
/// line for <see cref="FuzzRegressions"/> and, when FUZZ_SAVE_DIR is set, appended to a file there.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    public static int Programs(FuzzEnv env) =>
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_PROGRAMS"), out int n) && n > 0 ? n : env == FuzzEnv.Smp2 ? 100 : 300;

    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out int s) ? s : 1234;

    public static int Bytes => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_BYTES"), out int b) && b > 0 ? b : 64;

    /// <summary>How long one program may take before it counts as a hang.</summary>
    public static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(FuzzEnv.Real)]
    [InlineData(FuzzEnv.Ring0)]
    [InlineData(FuzzEnv.Ring0Paging)]
    [InlineData(FuzzEnv.Ring3)]
    [InlineData(FuzzEnv.Ring3Paging)]
    [InlineData(FuzzEnv.Smp2)]
    public void RandomProgramsEndCleanly(FuzzEnv env)
    {
        var rng = new Random(unchecked((Seed * 31) + (int)env));
        int count = Programs(env);
        var failures = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var program = new byte[Bytes];
            rng.NextBytes(program);
            string? problem = RunWithWatchdog(env, program);
            if (problem is not null)
            {
                failures.Add($"program {i}: {problem}\n    {FuzzHarness.AsRegression(env, program)}");
                Save(env, program, problem);
                if (failures.Count >= 10)
                {
                    break;
                }
            }
        }

        output.WriteLine($"{env}: {count} programs of {Bytes} bytes (seed {Seed}), {failures.Count} failures");
        Assert.True(failures.Count == 0, $"{env}: {failures.Count} failing programs (paste the InlineData lines into FuzzRegressions):\n" + string.Join("\n", failures));
    }

    /// <summary>Runs on a worker thread so that a run that never returns fails the test instead of hanging it.</summary>
    public static string? RunWithWatchdog(FuzzEnv env, byte[] program)
    {
        var task = Task.Factory.StartNew(() => FuzzHarness.Run(env, program), TaskCreationOptions.LongRunning);
        return task.Wait(Watchdog) ? task.Result : $"no return within {Watchdog.TotalSeconds} s (hang)";
    }

    private static void Save(FuzzEnv env, byte[] program, string problem)
    {
        string? dir = Environment.GetEnvironmentVariable("FUZZ_SAVE_DIR");
        if (string.IsNullOrEmpty(dir))
        {
            return;
        }

        Directory.CreateDirectory(dir);
        string firstLine = problem.Split('\n')[0];
        File.AppendAllText(Path.Combine(dir, "fuzz-failures.txt"), $"// {env}: {firstLine}\n{FuzzHarness.AsRegression(env, program)}\n");
    }
}
