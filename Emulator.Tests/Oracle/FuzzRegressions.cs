using Emulator.Cpu;
using Emulator.Platform;
using Emulator.Tests.Cpu;
using Emulator.Tests.Integration;

namespace Emulator.Tests.Oracle;

/// <summary>
/// Programs the fuzzer once found failing (and hand-picked hard cases), kept as regression
/// tests: each must run in its environment without a .NET exception, end, and leave every CPU
/// consistent. New failures saved by tools/run-fuzz.sh (FUZZ_SAVE_DIR/fuzz-failures.txt) are
/// added as lines to fuzz-corpus.txt beside this file, which <see cref="CorpusCaseEndsCleanly"/>
/// replays; FUZZ_REPLAY=FILE replays another file of the same format too (run-fuzz.sh uses it
/// to show that what it saved reproduces).
/// </summary>
public class FuzzRegressions
{
    public static string CorpusFile => RepoPaths.File("Emulator.Tests", "Oracle", "fuzz-corpus.txt");

    /// <summary>Every case of the corpus (and of FUZZ_REPLAY when set), as file, line and case.</summary>
    public static TheoryData<string, int, string> Corpus()
    {
        var data = new TheoryData<string, int, string>();
        string? replay = Environment.GetEnvironmentVariable("FUZZ_REPLAY");
        foreach (string file in string.IsNullOrEmpty(replay) ? [CorpusFile] : new[] { CorpusFile, replay })
        {
            foreach (var (fuzz, line) in FuzzCase.ReadFile(file))
            {
                data.Add(Path.GetFileName(file), line, fuzz.Format());
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void CorpusCaseEndsCleanly(string file, int line, string fuzzCase)
    {
        string? problem = FuzzTests.RunWithWatchdog(FuzzCase.Parse(fuzzCase)!);
        Assert.True(problem is null, $"{file}:{line}: {problem}");
    }

    /// <summary>A failing case appended to a save file reads back as the same case, and replays.</summary>
    [Fact]
    public void SavedCaseReadsBackAndReplays()
    {
        string dir = Directory.CreateTempSubdirectory("emu-fuzz-").FullName;
        try
        {
            string file = Path.Combine(dir, "fuzz-failures.txt");
            var fuzz = new FuzzCase(TimingMode.Cycle, [new FuzzCpu(FuzzEnv.Ring3Paging, [0x0F, 0x0B]), new FuzzCpu(FuzzEnv.Real, [0xCD, 0x03, 0xF4]), new FuzzCpu(FuzzEnv.Ring0, [0x90, 0xEB, 0xFE])]);
            var other = new FuzzCase(TimingMode.Functional, [new FuzzCpu(FuzzEnv.Smp2, [0xFA, 0xF4])]);
            fuzz.AppendTo(file, "CPU 1: exception 13 left # pending\n   at Some.Frame()");
            other.AppendTo(file, "machine stopped with HostRequest");
            var read = FuzzCase.ReadFile(file).ToList();
            Assert.Equal(2, read.Count);
            Assert.Equal(fuzz.Format(), read[0].Case.Format());
            Assert.Equal(other.Format(), read[1].Case.Format());
            Assert.Equal(4, read[1].Line);
            Assert.StartsWith("# CPU 1: exception 13 left", File.ReadAllLines(file)[0]);
            foreach (var (c, _) in read)
            {
                string? problem = FuzzTests.RunWithWatchdog(c);
                Assert.True(problem is null, problem);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("Cycle")]
    [InlineData("Cycle Ring0")]
    [InlineData("Cycle Ring9:00")]
    [InlineData("Slow Ring0:00")]
    [InlineData("Cycle Ring0:0G")]
    public void MalformedCorpusLinesAreRejected(string line) =>
        Assert.ThrowsAny<FormatException>(() => FuzzCase.Parse(line));

    [Theory]
    [InlineData(FuzzEnv.Ring0, "F4")]
    [InlineData(FuzzEnv.Ring3, "FA")]
    [InlineData(FuzzEnv.Real, "CD03")]

    // The AP (real mode) ends up at CS:IP = 0120:FFFF on a two-byte instruction that crosses
    // the segment limit, and IVT[13] points there too: a #GP storm that retired nothing and did
    // not advance the clock, so the machine never stopped (fixed: delivery costs a cycle).
    [InlineData(FuzzEnv.Smp2, "84471B113795198FA0CFE7E53FA2E9F0969953CE22E2B9AB64E4D6E4E2A21E86C7465BF542D75F72A2611477B50876B28984300F57BC8AA18E70AD53BE35ACFD")]
    public void ProgramEndsCleanly(FuzzEnv env, string hex)
    {
        string? problem = FuzzTests.RunWithWatchdog(env, Convert.FromHexString(hex));
        Assert.True(problem is null, problem);
    }

    /// <summary>An exception storm (the #UD handler is itself a UD2) still advances the clock, so a cycle limit ends the run.</summary>
    [Fact]
    public async Task ExceptionStormAdvancesTheClock()
    {
        using var h = CpuHarness.Real16(a => a.ud2());
        h.Memory.Write(0x2000, [0x0F, 0x0B]); // ud2
        h.Memory.Write32(6 * 4, 0x2000);      // IVT[6] = 0000:2000
        var run = Task.Run(() => h.Cpu.Run(h.Cpu.Cycles + 500));
        var first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(first == run, "Run did not return: delivering exceptions does not advance the clock");
        Assert.Equal(0, await run);
        Assert.True(h.Cpu.Cycles >= 500);
        Assert.Equal(RunState.Running, h.Cpu.State);
        Assert.True(h.Cpu.ExceptionCounts[6] >= 500);
    }
}
