using System.Text;
using Emulator.Platform;
using Emulator.Tests.Platform;

namespace Emulator.Tests.Integration;

/// <summary>
/// Boots the hello Multiboot guest (guest-images/hello) and compares its serial transcript with
/// the one real QEMU produced for the same image (guest-images/hello/expected-serial.txt).
/// </summary>
public class HelloGuestTests
{
    /// <summary>Lines whose content depends on the platform (RAM layout, firmware, loader name), not on the CPU.</summary>
    private static bool PlatformDependent(string line) =>
        line.StartsWith("mmap:", StringComparison.Ordinal) || line.StartsWith("mem:", StringComparison.Ordinal);

    private static (Machine Machine, Func<string> Output) Boot(string cmdline)
    {
        var serial = new StringBuilder();
        var m = new Machine(new MachineConfig { CommandLine = cmdline, MaxInstructions = 50_000_000 }, b => serial.Append((char)b));
        m.Load("guest-images/build/hello.elf", File.ReadAllBytes(RepoPaths.GuestImage("hello")));
        return (m, serial.ToString);
    }

    /// <summary>Also checks that a second run is bit for bit identical (state hash, counters, transcript).</summary>
    [Fact]
    public void TranscriptMatchesQemuAndEveryCheckPasses()
    {
        string serial = string.Empty;
        var (m, result) = Determinism.RunTwice(() =>
        {
            var (machine, output) = Boot("hello world");
            return (machine, () => serial = output());
        });
        m.Dispose();
        Assert.Equal(StopReason.GuestExit, result.Reason);
        Assert.Equal(1, result.GuestExitStatus); // 0 failed checks -> (0 << 1) | 1

        string[] expected = File.ReadAllLines(RepoPaths.File("guest-images", "hello", "expected-serial.txt"));
        string[] actual = serial.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expected.Where(l => !PlatformDependent(l)), actual.Where(l => !PlatformDependent(l)));
        Assert.Contains("mem: lower=639 KiB upper=130048 KiB", actual);
    }
}
