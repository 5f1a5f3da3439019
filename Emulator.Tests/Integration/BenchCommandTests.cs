using System.Text.Json;
using Emulator.Cli;


namespace Emulator.Tests.Integration;

/// <summary>
/// `bench` end to end on a tiny setting (what CI runs to keep it working): the JSON shape and
/// the instruction counts, never the timings.
/// </summary>
public class BenchCommandTests
{
    [Fact]
    public void AluWorkloadReportsItsShapeAndExactCounts()
    {
        var (code, output, err) = CliRunner.Run("bench", "--workload", "alu", "--iterations", "2000", "--timing", "functional", "--json");
        Assert.Equal(0, code);
        Assert.Equal(string.Empty, err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(2000, root.GetProperty("iterations").GetInt64());
        Assert.True(root.GetProperty("host").GetProperty("processors").GetInt32() >= 1);
        Assert.Equal(JsonValueKind.String, root.GetProperty("host").GetProperty("cpu").ValueKind);
        Assert.True(root.TryGetProperty("startup_ms", out _));

        var r = Assert.Single(root.GetProperty("results").EnumerateArray());
        Assert.Equal("alu", r.GetProperty("workload").GetString());
        Assert.Equal("functional", r.GetProperty("timing").GetString());
        Assert.Equal(1, r.GetProperty("cpus").GetInt32());
        Assert.True(r.GetProperty("ok").GetBoolean());

        // 8 instructions per iteration plus the closing marker's two: exact, from both sides.
        Assert.Equal(8 * 2000 + 2, r.GetProperty("guest_region_instructions").GetInt64());
        Assert.Equal(8 * 2000 + 2, r.GetProperty("region_instructions").GetInt64());
        Assert.True(r.GetProperty("instructions").GetInt64() > 8 * 2000);
        foreach (string field in new[] { "seconds", "region_seconds", "setup_ms", "mips", "mips_per_cpu", "region_mips", "peak_rss_bytes", "cycles" })
        {
            Assert.Equal(JsonValueKind.Number, r.GetProperty(field).ValueKind);
        }
    }

    [Fact]
    public void SmpCounterCountsEveryCpusRegion()
    {
        var (code, output, err) = CliRunner.Run("bench", "--workload", "counter", "--cpus", "1,3", "--iterations", "600", "--timing", "functional", "--json");
        Assert.Equal(0, code);
        Assert.Equal(string.Empty, err);
        using var doc = JsonDocument.Parse(output);
        var rows = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([1, 3], rows.Select(r => r.GetProperty("cpus").GetInt32()));
        foreach (var r in rows)
        {
            Assert.True(r.GetProperty("ok").GetBoolean());
            Assert.Equal(r.GetProperty("guest_region_instructions").GetInt64(), r.GetProperty("region_instructions").GetInt64());
        }

        // 8 x 600 instructions in all: 4 per iteration, 1200 iterations split over the CPUs, plus 2 per CPU.
        Assert.Equal((4 * 1200) + 2, rows[0].GetProperty("region_instructions").GetInt64());
        Assert.Equal(3 * ((4 * 400) + 2), rows[1].GetProperty("region_instructions").GetInt64());
    }

    [Fact]
    public void TableListsEveryWorkload()
    {
        var (code, output, _) = CliRunner.Run("bench", "--iterations", "1000", "--cpus", "2", "--timing", "functional", "--walk-size", "64K");
        Assert.Equal(0, code);
        foreach (string w in new[] { "alu ", "walk ", "walk-paging ", "counter " })
        {
            Assert.Contains(w, output);
        }

        Assert.DoesNotContain("FAILED", output);
    }

    [Fact]
    public void TakesTheSharedMachineOptions()
    {
        // --cmdline goes after the workload's words (the guest echoes its command line).
        var (code, output, err) = CliRunner.Run("bench", "--workload", "alu", "--iterations", "500", "--timing", "cycle", "--cmdline", "note=shared", "--memory", "64M", "--quantum", "50", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var row = doc.RootElement.GetProperty("results")[0];
        Assert.EndsWith("note=shared", row.GetProperty("cmdline").GetString());
        Assert.Equal(64u << 20, doc.RootElement.GetProperty("memory_bytes").GetUInt32());

        // A limit stops the workload before its exit: the run fails with bench's status.
        (code, _, err) = CliRunner.Run("bench", "--workload", "alu", "--iterations", "500", "--timing", "functional", "--max-instructions", "1000");
        Assert.Equal(ExitCodes.BenchFailed, code);
        Assert.Contains("instruction limit 1000", err);
    }

    [Theory]
    [InlineData("--max-resets", "-1")]
    [InlineData("--on-triple-fault", "maybe")]
    [InlineData("--workload", "nope")]
    [InlineData("--iterations", "0")]
    [InlineData("--cpus", "1,x")]
    [InlineData("--timing", "fast")]
    public void BadOptionsGiveOneLineAndStatusTwo(params string[] args)
    {
        var (code, _, err) = CliRunner.Run(["bench", .. args]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.StartsWith("emulator: ", err);
    }
}
