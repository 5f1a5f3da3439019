using Emulator.Cli;
using Emulator.Tests.Loading;

namespace Emulator.Tests.Integration;

/// <summary>
/// Bad input to every command that boots a machine (run, trace, percpu, gdt, gdb, bench):
/// corrupt, truncated and hostile images, bad option values, unknown names, a guest that loops
/// or triple-faults. Each case must give its documented exit status (<see cref="ExitCodes"/>,
/// docs/running.md) and messages that start with "emulator:", never a .NET stack trace.
/// Arguments starting with '@' name a file of <see cref="Files"/>.
/// </summary>
public class BadInputTests
{
    /// <summary>Commands taking an image, with the arguments they need after it (percpu: a variable).</summary>
    public static readonly string[][] ImageCommands = [["run"], ["trace"], ["gdt"], ["gdb"], ["debug"], ["percpu", "@IMAGE", "cpu_number"]];

    /// <summary>Bad images: each is rejected before anything runs, in one line, with status 2.</summary>
    public static readonly string[] BadImages =
        ["@missing", "@dir", "@empty", "@junk", "@truncated", "@phnum", "@phoff", "@hole", "@overlap", "@outside-ram", "@huge-bss", "@symtab", "@bad-multiboot"];

    /// <summary>Bad values of the options every machine-booting command shares.</summary>
    public static readonly string[][] BadMachineOptions =
    [
        ["--cpus", "0"], ["--cpus", "65"], ["--cpus", "x"], ["--memory", "lots"], ["--memory", "1K"], ["--memory", "4G"],
        ["--quantum", "0"], ["--timing", "warp"], ["--max-instructions", "-5"], ["--max-cycles", "0"],
        ["--cache-config", "@missing"], ["--cache-config", "@bad-cache"], ["--no-such-option"],
    ];

    public static TheoryData<string[]> BadImageCases()
    {
        var data = new TheoryData<string[]>();
        foreach (var command in ImageCommands)
        {
            foreach (string image in BadImages)
            {
                data.Add(command.Length == 1 ? [command[0], image] : [.. command.Select(a => a == "@IMAGE" ? image : a)]);
            }
        }

        return data;
    }

    public static TheoryData<string[]> BadOptionCases()
    {
        var data = new TheoryData<string[]>();
        foreach (var command in ImageCommands)
        {
            foreach (var option in BadMachineOptions)
            {
                data.Add([.. command.Where(a => a != "@IMAGE"), .. option]);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadImageCases))]
    [MemberData(nameof(BadOptionCases))]

    // Options of one command.
    [InlineData("run", "--stats-json", "@missing/stats.json")]
    [InlineData("run", "@hello", "extra-argument")]
    [InlineData("run", "--cmdline")]
    [InlineData("run", "embedded:nosuch")]
    [InlineData("trace", "embedded:hello", "--cpu", "9")]
    [InlineData("trace", "embedded:hello", "--cpu", "-1")]
    [InlineData("trace", "embedded:hello", "--limit", "0")]
    [InlineData("trace", "embedded:hello", "--range", "zz-1")]
    [InlineData("trace", "embedded:hello", "--range", "5-1")]
    [InlineData("trace", "embedded:hello", "--segment", "xs")]
    [InlineData("trace", "embedded:hello", "--symbol", "nosuch")]
    [InlineData("trace", "embedded:hello", "--start-at", "nosuch")]
    [InlineData("trace", "embedded:hello", "--stop-at", "nosuch")]
    [InlineData("percpu")]
    [InlineData("percpu", "embedded:percpu", "no_such_variable")]
    [InlineData("percpu", "embedded:hello", "cpu_number")]
    [InlineData("percpu", "--at", "nosuch", "cpu_number")]
    [InlineData("gdt", "--cpu", "9")]
    [InlineData("gdt", "--cpu", "-1")]
    [InlineData("gdt", "--at", "nosuch")]
    [InlineData("gdb", "--port", "70000")]
    [InlineData("gdb", "--port", "-1")]
    [InlineData("gdb", "--port", "http")]
    [InlineData("bench", "--workload", "nope")]
    [InlineData("bench", "--iterations", "0")]
    [InlineData("bench", "--iterations", "-1")]
    [InlineData("bench", "--cpus", "0")]
    [InlineData("bench", "--cpus", "99")]
    [InlineData("bench", "--cpus", "1,x")]
    [InlineData("bench", "--timing", "fast")]
    [InlineData("bench", "--walk-size", "1T")]
    [InlineData("bench", "--memory", "x")]
    [InlineData("bench", "--quantum", "0")]
    [InlineData("bench", "--cache-config", "@bad-cache")]
    [InlineData("bench", "--no-such-option")]
    [InlineData("frobnicate")]

    // Names are checked against the image before it runs: on a guest that would otherwise loop
    // until the limit or triple-fault (another line and status 4 or 6), a bad name gives only
    // its own line and status 2.
    [InlineData("percpu", "@triple-fault-elf", "no_such_variable")]
    [InlineData("gdt", "@triple-fault-elf", "--cpu", "1")]
    [InlineData("percpu", "@percpu-loop", "no_such_variable", "--max-instructions", "20000000")]
    [InlineData("percpu", "@loop", "cpu_number", "--max-instructions", "20000000")]
    [InlineData("gdt", "@loop", "--cpu", "1", "--max-instructions", "20000000")]
    [InlineData("gdt", "@loop", "--at", "nosuch", "--max-instructions", "20000000")]
    [InlineData("trace", "@loop", "--cpu", "1", "--max-instructions", "20000000")]
    public void BadInputGivesOneLineAndStatusTwo(params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.True(code == ExitCodes.BadInput, $"status {code}, expected {ExitCodes.BadInput}: {err}");
        AssertOneLine(err);
    }

    /// <summary>A guest that loops forever, stopped by a limit: one line naming the limit, status 4, and (for the views) the state at that point.</summary>
    [Theory]
    [InlineData("run", "@loop", "--max-instructions", "1000")]
    [InlineData("run", "@loop", "--max-cycles", "5000")]
    [InlineData("run", "@loop", "--max-cycles", "5000", "--timing", "functional")]
    [InlineData("trace", "@loop", "--max-instructions", "10")]
    [InlineData("gdt", "@loop", "--max-instructions", "1000")]
    [InlineData("gdt", "@percpu-loop", "--max-cycles", "5000", "--at", "never_reached")]
    [InlineData("percpu", "@percpu-loop", "cpu_number", "--max-instructions", "1000")]
    [InlineData("percpu", "@percpu-loop", "cpu_number", "--max-instructions", "1000", "--at", "never_reached")]
    public void LoopingGuestStopsAtItsLimitWithStatusFour(params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.True(code == ExitCodes.LimitReached, $"status {code}, expected {ExitCodes.LimitReached}: {err}");
        AssertOneLine(err);
        Assert.Matches("(instruction|cycle) limit [0-9]+ reached", err);
    }

    /// <summary>A guest that triple-faults: the one-line verdict first (run and trace add a register dump), status 6.</summary>
    [Theory]
    [InlineData("run", "@triple-fault")]
    [InlineData("trace", "@triple-fault")]
    [InlineData("gdt", "@triple-fault")]
    [InlineData("gdt", "@triple-fault-elf", "--at", "never_reached")]
    [InlineData("percpu", "@triple-fault-elf", "cpu_number")]
    public void TripleFaultGivesStatusSix(params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.True(code == ExitCodes.TripleFault, $"status {code}, expected {ExitCodes.TripleFault}: {err}");
        Assert.StartsWith("emulator: ", err);
        Assert.Contains("triple fault on CPU 0", err.Split('\n')[0]);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void ParserMessagesAreOneLineInWords()
    {
        var (_, _, err) = Run("run", "--timing", "warp");
        Assert.Equal("emulator: Cannot parse argument 'warp' for option '--timing'. Did you mean one of the following? Cycle, Functional (see --help)", err.TrimEnd());
        (_, _, err) = Run("run", "--cpus", "x");
        Assert.Equal("emulator: Cannot parse argument 'x' for option '--cpus' as a whole number. (see --help)", err.TrimEnd());
        (_, _, err) = Run("bench", "--walk-size", "1T");
        Assert.StartsWith("emulator: --walk-size: '1T' is not a size", err);
    }

    private static void AssertOneLine(string err)
    {
        string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got {lines.Length}:\n{err}");
        Assert.StartsWith("emulator: ", err);
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Exception", err);
    }

    private static (int Code, string Out, string Err) Run(params string[] args) =>
        CliRunner.Run([.. args.Select(a => a.StartsWith('@') ? Files.Path(a[1..]) : a)]);

    /// <summary>The bad and looping images, written once per test run.</summary>
    private static class Files
    {
        private static readonly string Dir = Create();

        public static string Path(string name) => name switch
        {
            "hello" => RepoPaths.GuestImage("hello"),
            "dir" => Dir,
            _ when name.StartsWith("missing", StringComparison.Ordinal) => System.IO.Path.Combine(Dir, "no-such-dir", name),
            _ => System.IO.Path.Combine(Dir, name),
        };

        private static string Create()
        {
            string dir = Directory.CreateTempSubdirectory("emu-bad-input-").FullName;
            void Write(string name, byte[] bytes) => File.WriteAllBytes(System.IO.Path.Combine(dir, name), bytes);
            byte[] hello = File.ReadAllBytes(RepoPaths.GuestImage("hello"));
            Write("empty", []);
            Write("junk", [.. Enumerable.Range(0, 9000).Select(i => (byte)((i * 131) ^ (i >> 3)))]);
            Write("truncated", hello[..100]);
            Write("phnum", Patched(hello, 0x2C, [0xFF, 0xFF]));
            Write("phoff", Patched(hello, 0x1C, BitConverter.GetBytes(0xFFFFFFF0u)));

            var b = TestImages.Kernel();
            b.Segments[1].PhysicalAddress = 0xB8000; // over the VGA hole
            Write("hole", b.Build().Bytes);
            b = TestImages.Kernel();
            b.Segments[1].PhysicalAddress = TestImages.TextAddress + 0x100;
            Write("overlap", b.Build().Bytes);
            b = TestImages.Kernel();
            b.Segments[1].PhysicalAddress = 0xFEE00000; // the local APIC, far outside RAM
            Write("outside-ram", b.Build().Bytes);
            var f = TestImages.Kernel().Build();
            f.SetProgramHeaderField(1, 20, 0xF0000000); // a 3.75 GiB bss
            Write("huge-bss", f.Bytes);
            f = TestImages.Kernel().Build();
            f.SetSectionHeaderField(f.SymtabIndex, 20, 0xFFFFFFF0); // hundreds of millions of symbols
            Write("symtab", f.Bytes);
            Write("bad-multiboot", [.. MultibootHeaderBytes.Create(1u << 16, checksumError: 1), .. new byte[64]]);

            // A kernel with symbols whose entry loops forever (percpu-loop also has the per-CPU
            // section symbols, so only a limit ends `percpu` on it).
            Write("loop", Flat([0xEB, 0xFE]));
            Write("triple-fault", Flat([0x0F, 0x0B])); // UD2 with no IDT
            Write("percpu-loop", PerCpuKernel([0xEB, 0xFE]));
            Write("triple-fault-elf", PerCpuKernel([0x0F, 0x0B]));
            File.WriteAllText(System.IO.Path.Combine(dir, "bad-cache"), "{\"l1\": {\"size\": -5}");
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try
                {
                    Directory.Delete(dir, true);
                }
                catch (IOException)
                {
                    // Best effort: a temporary folder.
                }
            };
            return dir;
        }

        /// <summary>An ELF kernel with per-CPU section symbols whose entry runs <paramref name="code"/>.</summary>
        private static byte[] PerCpuKernel(byte[] code)
        {
            var b = TestImages.Kernel();
            code.CopyTo(b.Segments[0].Data, (int)(TestImages.Entry - TestImages.TextAddress));
            b.AddSymbol("cpu_number", TestImages.DataAddress + 0x20, 4, ElfBuilder.SttObject, ".data");
            b.AddSymbol("__per_cpu_start", TestImages.DataAddress + 0x20, 0, ElfBuilder.SttNoType, ".data");
            b.AddSymbol("__per_cpu_end", TestImages.DataAddress + 0x40, 0, ElfBuilder.SttNoType, ".data");
            b.AddSymbol("__per_cpu_offset", TestImages.DataAddress + 0x40, 16, ElfBuilder.SttObject, ".data");
            b.AddSymbol("never_reached", TestImages.TextAddress + 0x1F0, 0, ElfBuilder.SttNoType, ".text");
            return b.Build().Bytes;
        }

        private static byte[] Patched(byte[] image, int at, byte[] bytes)
        {
            var copy = (byte[])image.Clone();
            bytes.CopyTo(copy, at);
            return copy;
        }

        /// <summary>A flat Multiboot binary (address-fields form) at 1 MiB whose entry runs <paramref name="code"/>.</summary>
        private static byte[] Flat(byte[] code)
        {
            byte[] header = MultibootHeaderBytes.Create(1u << 16, headerAddr: 0x100000, loadAddr: 0x100000, entryAddr: 0x100020);
            var image = new byte[0x20 + code.Length];
            header.CopyTo(image, 0);
            code.CopyTo(image, 0x20);
            return image;
        }
    }
}
