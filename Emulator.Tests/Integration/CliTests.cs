using Emulator.Cli;


namespace Emulator.Tests.Integration;

/// <summary>The `run` command end to end, in-process: exit statuses and one-line errors.</summary>
public class CliTests
{
    [Fact]
    public void RunWithNoImageBootsTheEmbeddedGuest()
    {
        var (code, output, err) = CliRunner.Run("run");
        Assert.Equal(1, code);
        Assert.Contains("smp: Brought up 1 node, 4 CPUs", output);
        Assert.Contains("percpu: done: 4 CPUs, 0 demo failures, 0 self-check failures", output);

        // ...and, with no arguments at all, the statistics of the run (standard error).
        Assert.StartsWith("statistics: embedded:percpu, 4 CPU(s), --timing cycle", err);
        Assert.Contains("FALSE SHARING", err);
        Assert.DoesNotContain("emulator:", err);

        var (_, _, quiet) = CliRunner.Run("run", "--stats", "false", "--max-instructions", "1000");
        Assert.DoesNotContain("statistics:", quiet);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void RunWithCpusBootsTheEmbeddedGuestOnThatManyCpus(int cpus)
    {
        var (code, output, err) = CliRunner.Run("run", "--cpus", cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), "--timing", "functional", "--stats", "false");
        Assert.True(code == 1, err);
        Assert.Contains($"smp: Brought up 1 node, {cpus} CPU{(cpus == 1 ? "" : "s")}", output);
        Assert.Contains($"percpu: done: {cpus} CPUs, 0 demo failures, 0 self-check failures", output);
        Assert.Equal(string.Empty, err);
    }

    [Fact]
    public void RunBootsAnImageFileWithACommandLine()
    {
        var (code, output, _) = CliRunner.Run("run", RepoPaths.GuestImage("hello"), "--cmdline", "abc def", "--memory", "64M");
        Assert.Equal(1, code);
        Assert.Contains($"cmdline: {RepoPaths.GuestImage("hello")} abc def", output);
        Assert.Contains("upper=64512 KiB", output);
    }

    [Fact]
    public void InstructionLimitStopsWithItsOwnStatus()
    {
        var (code, _, err) = CliRunner.Run("run", "embedded:hello", "--max-instructions", "1000");
        Assert.Equal(ExitCodes.LimitReached, code);
        Assert.Contains("instruction limit 1000", err);
    }

    [Theory]
    [InlineData("run", "--cpus", "0")]
    [InlineData("run", "--cpus", "65")]
    [InlineData("run", "--memory", "lots")]
    [InlineData("run", "--quantum", "0")]
    [InlineData("run", "--no-such-option")]
    [InlineData("run", "no/such/file.elf")]
    [InlineData("frobnicate")]
    public void BadInputGivesOneLineAndStatusTwo(params string[] args)
    {
        var (code, _, err) = CliRunner.Run(args);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("emulator: ", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void TruncatedAndNonX86ImagesAreRejectedCleanly()
    {
        byte[] image = File.ReadAllBytes(RepoPaths.GuestImage("hello"));
        string dir = Directory.CreateTempSubdirectory("emu-cli-").FullName;
        try
        {
            string truncated = Path.Combine(dir, "truncated.elf");
            File.WriteAllBytes(truncated, image[..100]);
            string junk = Path.Combine(dir, "junk.bin");
            File.WriteAllBytes(junk, [.. Enumerable.Range(0, 9000).Select(i => (byte)(i * 7))]);
            foreach (string path in new[] { truncated, junk })
            {
                var (code, _, err) = CliRunner.Run("run", path);
                Assert.Equal(ExitCodes.BadInput, code);
                Assert.StartsWith("emulator: ", err);
                Assert.DoesNotContain("   at ", err);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TripleFaultIsReportedWithAStateDump()
    {
        string dir = Directory.CreateTempSubdirectory("emu-cli-").FullName;
        try
        {
            // A flat Multiboot binary (address-fields form) whose code is an x87 instruction, which
            // this core does not implement: it raises #UD (and is reported), and with no IDT the
            // #UD cannot be delivered, so the CPU double- and then triple-faults.
            var img = new List<byte>();
            void U32(uint v) => img.AddRange(BitConverter.GetBytes(v));
            const uint flags = 1u << 16;
            U32(0x1BADB002);
            U32(flags);
            U32(unchecked(0u - 0x1BADB002u - flags));
            U32(0x100000); // header_addr
            U32(0x100000); // load_addr
            U32(0);        // load_end_addr: whole file
            U32(0);        // bss_end_addr: none
            U32(0x100020); // entry_addr
            img.AddRange([0xDB, 0xE3]); // fninit
            string path = Path.Combine(dir, "ud2.bin");
            File.WriteAllBytes(path, [.. img]);
            var (code, _, err) = CliRunner.Run("run", path);
            Assert.Equal(ExitCodes.TripleFault, code);
            Assert.Contains("triple fault on CPU 0", err);
            Assert.Contains("eip=", err);
            Assert.Contains("does not implement (each raised #UD): fninit x1", err);
            Assert.DoesNotContain("   at ", err);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
