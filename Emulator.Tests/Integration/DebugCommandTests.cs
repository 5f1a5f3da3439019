using System.Globalization;
using System.Text.RegularExpressions;

namespace Emulator.Tests.Integration;

/// <summary>The interactive `debug` command driven by a script on standard input, on the per-CPU teaching kernel, checked against its ELF symbols and memory.</summary>
public partial class DebugCommandTests
{
    private static (int Code, string Out, string Err) Debug(string script, params string[] extra) =>
        CliRunner.RunWithInput(script, ["debug", RepoPaths.GuestImage("percpu"), "--cpus", "4", .. extra]);

    /// <summary>The debugger's own lines (the guest's serial lines, marked "serial: ", left out).</summary>
    private static string[] Lines(string output) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => !l.StartsWith("serial: ", StringComparison.Ordinal)).ToArray();

    /// <summary>The lines a command printed: from its echoed prompt to the next prompt.</summary>
    private static string[] Section(string output, string command)
    {
        var lines = Lines(output);
        int start = Array.IndexOf(lines, "(emu) " + command);
        Assert.True(start >= 0, $"no '{command}' in:\n{output}");
        return lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("(emu) ", StringComparison.Ordinal)).ToArray();
    }

    [Fact]
    public void PercpuShowsCpuNumberZeroToNMinusOneAtTheCpusCopies()
    {
        var boot = PerCpuKernelTests.SharedBoot(4);
        var (code, output, err) = Debug("break demo_run_on_cpus\ncontinue\npercpu cpu_number\nquit\n");
        Assert.True(code == 0, err);
        var rows = Section(output, "percpu cpu_number").Skip(1).ToArray();
        Assert.Equal(4, rows.Length);
        for (int cpu = 0; cpu < 4; cpu++)
        {
            uint offset = boot.PerCpuOffset(cpu);
            Assert.Contains($"cpu{cpu}: __per_cpu_offset=0x{offset:x8} &cpu_number+offset=0x{boot.Symbol("cpu_number") + offset:x8} value=0x{cpu:x8} ({cpu})", rows[cpu]);
            Assert.EndsWith($"%fs base=0x{offset:x8}", rows[cpu]);
        }
    }

    [Fact]
    public void BreakpointForOneApStopsOnThatCpuAndStepsItsFirstPercpuLoad()
    {
        var boot = PerCpuKernelTests.SharedBoot(4);
        uint entry = boot.Symbol("startup_32_smp");
        var (code, output, err) = Debug("break startup_32_smp cpu 2\ncontinue\nstep 19\nregs\nquit\n");
        Assert.True(code == 0, err);

        // Every AP runs startup_32_smp; only CPU 2's arrival stops, before it ran anything there.
        var stop = Section(output, "continue");
        Assert.Contains("cpu2: breakpoint 1 (startup_32_smp)", stop);
        Assert.Contains(stop, l => l.StartsWith("cpu2 ", StringComparison.Ordinal) && l.Contains($":{entry:x8} <startup_32_smp>", StringComparison.Ordinal));

        // The steps are CPU 2's alone, in order, and end with the load of %fs = __KERNEL_PERCPU.
        var steps = Section(output, "step 19");
        Assert.Equal(19, steps.Length);
        Assert.All(steps, l => Assert.StartsWith("cpu2 ", l));
        Assert.Contains($":{entry:x8} <startup_32_smp>  cld", steps[0]);
        Assert.Contains("mov     %eax,%fs", steps[^1]);

        // The hidden cache of %fs now holds CPU 2's GDT entry 27: base = __per_cpu_offset[2].
        var regs = Section(output, "regs");
        Assert.StartsWith("cpu2 ", regs[0]);
        string fs = regs.Single(l => l.TrimStart().StartsWith("fs ", StringComparison.Ordinal));
        Assert.Matches($@"fs\s+00d8\s+base {boot.PerCpuOffset(2):x8} limit ffffffff data read/write dpl0 32-bit", fs);
        Assert.Contains($"gdtr base {boot.Symbol("gdt_page") + boot.PerCpuOffset(2):x8}", string.Join('\n', regs));
    }

    [Fact]
    public void GdtDiffMarksThePercpuEntryWhoseBasesDifferByTheUnitsOffsets()
    {
        var boot = PerCpuKernelTests.SharedBoot(4);
        var (code, output, err) = Debug("break demo_run_on_cpus\ncontinue\ngdt diff\nquit\n");
        Assert.True(code == 0, err);
        var diff = Section(output, "gdt diff");
        string percpu = diff.Single(l => l.Contains("] 0x00d8 ", StringComparison.Ordinal));
        Assert.StartsWith("*", percpu);
        var bases = BaseColumn().Matches(percpu).Select(m => uint.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Enumerable.Range(0, 4).Select(boot.PerCpuOffset), bases);

        // The kernel code segment is the same on every CPU: not marked.
        string kernelCs = diff.Single(l => l.Contains("] 0x0060 ", StringComparison.Ordinal));
        Assert.StartsWith(" ", kernelCs);
    }

    [Fact]
    public void WatchOnOneCpusCopyStopsAtTheAccessThroughFs()
    {
        var boot = PerCpuKernelTests.SharedBoot(4);
        uint copy = boot.Symbol("cpu_number") + boot.PerCpuOffset(3);
        var (code, output, err) = Debug("break start_secondary cpu 3\ncontinue\nwatch percpu cpu_number cpu 3 read\ncont\nexplain\nquit\n");
        Assert.True(code == 0, err);
        Assert.Contains($"watchpoint 2: reads of linear 0x{copy:x8}-0x{copy + 3:x8} (CPU 3's copy of cpu_number)", output);
        var hit = Section(output, "cont")[^3..];
        Assert.Equal("cpu3: watchpoint 2 (CPU 3's copy of cpu_number) hit by:", hit[0]);
        Assert.Contains($"-> linear 0x{copy:x8}", hit[1]);
        Assert.Contains("= CPU 3's copy of cpu_number -> 0x00000003", hit[1]);
        Assert.Contains("last access: %fs:0x", string.Join('\n', Section(output, "explain")));
    }

    [Fact]
    public void StepAllFollowsTheSchedulerAndMemoryDumpsReadGuestMemory()
    {
        var boot = PerCpuKernelTests.SharedBoot(4);
        var (code, output, err) = Debug("break demo_run_on_cpus\ncontinue\nx/4 physical __per_cpu_offset\nx/2 linear __per_cpu_offset cpu 1\nstep 3 all\ninfo cpus\nquit\n");
        Assert.True(code == 0, err);
        var dump = Section(output, "x/4 physical __per_cpu_offset");
        Assert.StartsWith($"0x{boot.Symbol("__per_cpu_offset"):x8}: " + string.Join(' ', Enumerable.Range(0, 4).Select(c => $"0x{boot.PerCpuOffset(c):x8}")), dump[0]);
        Assert.Contains("<__per_cpu_offset>", dump[0]);
        Assert.StartsWith($"0x{boot.Symbol("__per_cpu_offset"):x8}: 0x{boot.PerCpuOffset(0):x8} 0x{boot.PerCpuOffset(1):x8}", Section(output, "x/2 linear __per_cpu_offset cpu 1")[0]);
        Assert.Equal(3, Section(output, "step 3 all").Length);
        Assert.Equal(4, Section(output, "info cpus").Length);
    }

    [Fact]
    public void BadCommandsGetOneLineErrorsAndTheSessionGoesOn()
    {
        var (code, output, err) = Debug("frobnicate\nstep 0\nbreak no_such_symbol\nstep cpu 9\nx/0 linear 0\nwatch percpu cpu_number cpu 7\npercpu no_such_var\ndelete 42\nstep\nquit\n");
        Assert.True(code == 0, err);
        Assert.Equal(string.Empty, err);
        foreach (string command in new[] { "frobnicate", "step 0", "break no_such_symbol", "step cpu 9", "x/0 linear 0", "watch percpu cpu_number cpu 7", "percpu no_such_var", "delete 42" })
        {
            var lines = Section(output, command);
            Assert.Single(lines);
            Assert.StartsWith("error: ", lines[0]);
        }

        Assert.Contains("<startup_32>  cld", Section(output, "step")[0]);
    }

    [Fact]
    public void ContinueToTheEndReportsTheGuestsExit()
    {
        var (code, output, err) = Debug("continue\ncontinue\n");
        Assert.True(code == 0, err);
        var ends = Lines(output).Where(l => l.StartsWith("the machine stopped: ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, ends.Length);
        Assert.Contains("guest exit through port 0xf4", ends[0]);
        Assert.Equal(ends[0], ends[1]);
    }

    [GeneratedRegex(@"([0-9a-f]{8})/ffffffff")]
    private static partial Regex BaseColumn();
}
