using System.Diagnostics;
using System.Text.RegularExpressions;
using Emulator.Debugging;
using Emulator.Platform;
using Emulator.Tests.Integration;

namespace Emulator.Tests.Debugging;

/// <summary>Stock gdb (Debian's gdb 13) drives the stub: threads, $fs_base, per-CPU expressions, stepi.</summary>
public partial class RealGdbTests
{
    private const string Gdb = "/usr/bin/gdb";

    /// <summary>A fact that is skipped, with a message saying why, when gdb is not installed.</summary>
    public sealed class RealGdbFactAttribute : FactAttribute
    {
        public RealGdbFactAttribute()
        {
            if (!File.Exists(Gdb))
            {
                Skip = $"{Gdb} is not installed (tools/install-gdb.sh installs it): the real-gdb test did not run";
            }
        }
    }

    [RealGdbFact]
    public void GdbSeesEveryCpuAndItsPerCpuArea()
    {
        string elf = RepoPaths.GuestImage("percpu");
        using var m = new Machine(new MachineConfig { Cpus = 4 });
        m.Load("percpu.elf", File.ReadAllBytes(elf));
        using var server = GdbStubServer.Listen(m, 0);
        var serving = new Thread(() => server.Serve()) { IsBackground = true };
        serving.Start();

        string[] commands =
        [
            "set architecture i386",
            $"target remote 127.0.0.1:{server.Port}",
            "info threads",
            "break count_percpu",
            "continue",
            "p $_thread",
            "p *(int *)((unsigned long)&cpu_number + $fs_base)",
            "thread 3",
            "p/x $fs_base",
            "p/x ((unsigned long *)&__per_cpu_offset)[2]",
            "p *(int *)((unsigned long)&cpu_number + ((unsigned long *)&__per_cpu_offset)[2])",
            "p/x $pc",

            // With the breakpoint in place another CPU could reach it first (gdb resumes the others too).
            "delete",
            "stepi",
            "p/x $pc",
            "p $_thread",
            "monitor info version",
            "kill",
        ];
        var start = new ProcessStartInfo(Gdb)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string a in new[] { "-nx", "-batch" })
        {
            start.ArgumentList.Add(a);
        }

        foreach (string c in commands)
        {
            start.ArgumentList.Add("-ex");
            start.ArgumentList.Add(c);
        }

        start.ArgumentList.Add(elf);
        using var gdb = Process.Start(start)!;
        var stderrTask = gdb.StandardError.ReadToEndAsync();
        var stdoutTask = gdb.StandardOutput.ReadToEndAsync();
        if (!gdb.WaitForExit(120_000))
        {
            gdb.Kill();
            Assert.Fail("gdb did not finish in 120 s");
        }

        string output = stdoutTask.Result + stderrTask.Result;
        server.Stop();
        serving.Join(10_000);

        for (int cpu = 0; cpu < 4; cpu++)
        {
            Assert.Contains($"Thread {cpu + 1} (CPU {cpu}, ", output);
        }

        var values = ValueLine().Matches(output).ToDictionary(x => int.Parse(x.Groups[1].Value), x => x.Groups[2].Value.Trim());
        Assert.True(values.Count >= 8, output);
        int stopped = int.Parse(values[1]);
        Assert.Contains($"Thread {stopped} hit Breakpoint 1, ", output);
        Assert.Equal((stopped - 1).ToString(), values[2]);
        Assert.Equal(values[4], values[3]);
        Assert.NotEqual("0x0", values[3]);
        Assert.Equal("2", values[5]);
        Assert.NotEqual(values[6], values[7]);
        Assert.Equal("3", values[8]);
        Assert.Contains(GdbStub.VersionText, output);
        Assert.DoesNotContain("internal-error", output);
    }

    [GeneratedRegex(@"^\$(\d+) = (.*)$", RegexOptions.Multiline)]
    private static partial Regex ValueLine();
}
