using System.Text.Json;
using Emulator.Cli;


namespace Emulator.Tests.Integration;

/// <summary>`trace`, `percpu` and `gdt` on the per-CPU teaching kernel, checked against its ELF symbols and memory.</summary>
public class InspectionCommandTests
{
    [Fact]
    public void PercpuShowsEveryCpusCopyAndItsFsBase()
    {
        var boot = PerCpuKernelTests.SharedBoot(4);
        var (code, output, err) = CliRunner.Run("percpu", RepoPaths.GuestImage("percpu"), "cpu_number", "--cpus", "4", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var cpus = doc.RootElement.GetProperty("cpus").EnumerateArray().ToArray();
        Assert.Equal(4, cpus.Length);
        for (int cpu = 0; cpu < 4; cpu++)
        {
            uint offset = boot.PerCpuOffset(cpu);
            Assert.Equal(cpu, cpus[cpu].GetProperty("value").GetInt32());
            Assert.Equal(offset, cpus[cpu].GetProperty("per_cpu_offset").GetUInt32());
            Assert.Equal(offset, cpus[cpu].GetProperty("fs_base").GetUInt32());
            Assert.Equal(boot.Symbol("cpu_number") + offset, cpus[cpu].GetProperty("address").GetUInt32());
        }

        var (textCode, text, _) = CliRunner.Run("percpu", "cpu_number");
        Assert.Equal(0, textCode);
        Assert.Contains("cpu3: __per_cpu_offset=", text);
    }

    [Fact]
    public void GdtAtASymbolShowsEachCpusOwnTableAndPercpuEntry()
    {
        var boot = PerCpuKernelTests.SharedBoot(4);
        var (code, output, err) = CliRunner.Run("gdt", "--cpu", "2", "--at", "demo_run_on_cpus", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var cpu2 = doc.RootElement.GetProperty("cpus").EnumerateArray().Single();
        Assert.Equal(2, cpu2.GetProperty("cpu").GetInt32());
        Assert.Equal(boot.Symbol("gdt_page") + boot.PerCpuOffset(2), cpu2.GetProperty("gdtr_base").GetUInt32());
        var percpu = cpu2.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("index").GetInt32() == 27);
        Assert.Equal(boot.PerCpuOffset(2), percpu.GetProperty("base").GetUInt32());
        Assert.Contains("%fs", percpu.GetProperty("used_by").EnumerateArray().Select(u => u.GetString()));
        Assert.Contains("CPU 0 reached demo_run_on_cpus", doc.RootElement.GetProperty("stopped").GetString());
    }

    [Fact]
    public void TraceExplainsFsLoadsDownToTheCpusCopy()
    {
        var boot = PerCpuKernelTests.SharedBoot(4);
        var (code, output, err) = CliRunner.Run("trace", "--segment", "fs", "--cpu", "1", "--limit", "5", "--json");
        Assert.True(code == 0, err);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        foreach (string line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            Assert.Equal(1, r.GetProperty("cpu").GetInt32());
            var a = r.GetProperty("access");
            Assert.Equal("fs", a.GetProperty("segment").GetString());
            Assert.Equal(0xD8, a.GetProperty("selector").GetInt32());
            Assert.Equal("GDT", a.GetProperty("table").GetString());
            Assert.Equal(27, a.GetProperty("index").GetInt32());
            uint offset = boot.PerCpuOffset(1);
            Assert.Equal(offset, a.GetProperty("base").GetUInt32());
            Assert.Equal(offset + a.GetProperty("offset").GetUInt32(), a.GetProperty("linear").GetUInt32());
            Assert.StartsWith("CPU 1's copy of ", a.GetProperty("target").GetString());
            Assert.Contains("%fs:", r.GetProperty("disasm").GetString());
        }
    }

    [Fact]
    public void TraceTextFiltersBySymbol()
    {
        var (code, output, err) = CliRunner.Run("trace", "embedded:hello", "--symbol", "kmain", "--limit", "3");
        Assert.True(code == 0, err);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.Contains("<kmain", l));
        Assert.StartsWith("cpu0 ", lines[0]);
    }

    [Theory]
    [InlineData("percpu", "no_such_variable")]
    [InlineData("gdt", "--at", "no_such_symbol")]
    [InlineData("trace", "--segment", "xs")]
    [InlineData("gdt", "--cpu", "9")]
    public void BadInspectionInputGivesOneLine(params string[] args)
    {
        var (code, _, err) = CliRunner.Run(args);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.StartsWith("emulator: ", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void TraceInCycleTimingShowsWhatEachFsAccessMeetsInTheCaches()
    {
        var (code, output, err) = CliRunner.Run("trace", "--timing", "cycle", "--segment", "fs", "--limit", "40", "--json");
        Assert.True(code is 0 or ExitCodes.LimitReached, err);
        var caches = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("access").GetProperty("cache").GetString()!)
            .ToList();
        Assert.Equal(40, caches.Count);
        Assert.Contains(caches, c => c.StartsWith("L1D miss", StringComparison.Ordinal));
        Assert.Contains(caches, c => c.StartsWith("L1D hit (Modified): 1 cycle", StringComparison.Ordinal));

        // The functional mode has no caches to describe.
        var (_, functional, _) = CliRunner.Run("trace", "--segment", "fs", "--limit", "3");
        Assert.DoesNotContain("[L1D", functional);
    }
}
