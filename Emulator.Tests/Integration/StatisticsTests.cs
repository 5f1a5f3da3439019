using System.Text.Json;
using Emulator.Cli;
using Emulator.Statistics;


namespace Emulator.Tests.Integration;

/// <summary>`run --stats` and `--stats-json` on the teaching kernel, and the sharing classification.</summary>
public class StatisticsTests
{
    [Fact]
    public void CycleStatisticsNameTheSharedAndFalselySharedCounters()
    {
        string path = Path.Combine(Path.GetTempPath(), $"stats-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output, err) = CliRunner.Run("run", "--stats", "--stats-json", path);
            Assert.Equal(1, code);
            Assert.Contains("demo counters: ok", output);

            // The readable summary (standard error).
            Assert.Contains("--timing cycle, quantum 20 cycles", err);
            Assert.Contains("cycle breakdown", err);
            Assert.Contains("FALSE SHARING", err);
            Assert.Contains("shared_counter", err);

            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            Assert.Equal("cycle", root.GetProperty("timing").GetString());
            var cpus = root.GetProperty("cpus").EnumerateArray().ToList();
            Assert.Equal(4, cpus.Count);
            long instructions = 0;
            foreach (var cpu in cpus)
            {
                long cycles = cpu.GetProperty("cycles").GetInt64();
                long breakdown = cpu.GetProperty("cycle_breakdown").EnumerateObject().Sum(p => p.Value.GetInt64());
                Assert.Equal(cycles, breakdown);
                Assert.True(cpu.GetProperty("caches").GetProperty("transfers_received").GetInt64() > 0);
                instructions += cpu.GetProperty("instructions").GetInt64();
            }

            Assert.Equal(instructions, root.GetProperty("instructions").GetInt64());

            // The hottest line holds shared_counter, written by every CPU at the same bytes.
            var lines = root.GetProperty("contended_lines").EnumerateArray().ToList();
            var top = lines[0];
            Assert.Contains("shared_counter", top.GetProperty("symbols").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("true", top.GetProperty("sharing").GetString());
            Assert.Equal(4, top.GetProperty("writers").GetArrayLength());

            // falseshare_pair: two CPUs, different bytes of one line.
            var pair = lines.Single(l => l.GetProperty("symbols").EnumerateArray().Any(e => e.GetString() == "falseshare_pair"));
            Assert.Equal("false", pair.GetProperty("sharing").GetString());

            // The per-CPU counters never appear: their lines stay in their own CPU's cache.
            Assert.DoesNotContain(lines, l => l.GetProperty("all_symbols").EnumerateArray().Any(e => e.GetString()!.StartsWith("percpu_counter", StringComparison.Ordinal)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FunctionalStatisticsGoToStandardOutputAsJson()
    {
        var (code, output, _) = CliRunner.Run("run", "embedded:hello", "--timing", "functional", "--stats-json", "-");
        Assert.Equal(1, code);
        int start = output.IndexOf("{\n", StringComparison.Ordinal);
        Assert.True(start >= 0, output);
        using var doc = JsonDocument.Parse(output[start..]);
        var cpu = doc.RootElement.GetProperty("cpus")[0];
        Assert.Equal(cpu.GetProperty("instructions").GetInt64(), cpu.GetProperty("cycles").GetInt64());
        Assert.False(cpu.TryGetProperty("caches", out _));
        Assert.Equal(0, doc.RootElement.GetProperty("contended_lines").GetArrayLength());
    }

    [Fact]
    public void UnwritableStatsFileIsAOneLineError()
    {
        var (code, _, err) = CliRunner.Run("run", "embedded:hello", "--stats-json", Path.Combine("no", "such", "dir", "s.json"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.StartsWith("emulator: --stats-json", err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last());
        Assert.DoesNotContain("   at ", err);
    }

    [Theory]
    [InlineData(new ulong[] { 0xF }, SharingKind.ReadShared)]
    [InlineData(new ulong[] { 0xF, 0xF0 }, SharingKind.FalseSharing)]
    [InlineData(new ulong[] { 0xF, 0xF0, 0xF00 }, SharingKind.FalseSharing)]
    [InlineData(new ulong[] { 0xF, 0xF0, 0x18 }, SharingKind.TrueSharing)]
    public void SharingIsTrueWhenTwoWritersShareABytesAndFalseOtherwise(ulong[] masks, SharingKind expected) =>
        Assert.Equal(expected, RunStatistics.Classify(masks.Select((m, i) => (i, m)).ToList()));

    [Theory]
    [InlineData(0xFUL, "0-3")]
    [InlineData(0x1UL, "0")]
    [InlineData(0xF00FUL, "0-3,12-15")]
    [InlineData(0x8000000000000000UL, "63")]
    public void ByteRangesAreCompact(ulong mask, string expected) => Assert.Equal(expected, StatisticsReport.ByteRanges(mask));
}
