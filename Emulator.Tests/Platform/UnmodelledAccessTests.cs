using System.Text.Json;
using Emulator.Platform;
using Emulator.Tests.Integration;
using static Emulator.Tests.Platform.ProtectedGuest;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Platform;

/// <summary>
/// What the emulator does not model is visible (issue #9): accesses to unclaimed I/O ports and to
/// physical addresses nothing backs are counted per port / per page, reads apart from writes, and
/// `run --stats` reports them with the external interrupts each CPU took, by vector.
/// </summary>
public class UnmodelledAccessTests
{
    private const uint Unbacked = 0xE0000000; // above RAM, below the IOAPIC: nothing there

    /// <summary>Two reads and one write of port 0x300, one read of 0x301, three reads and two writes of an unbacked page, a read of another one, three self-IPIs.</summary>
    private static byte[] Guest() => FlatGuest.Build(a =>
    {
        const uint handlerAt = FlatGuest.Entry + 2;
        byte[] handler = FlatGuest.Assemble32(handlerAt, h =>
        {
            h.mov(__dword_ptr[ApicEoi], 0);
            h.iretd();
        });
        a.db(0xEB, (byte)handler.Length);          // jmp short over the handler
        a.db(handler);
        EnterFlat(a, 0x80000);
        SetGate(a, 0x41, handlerAt);
        a.mov(dx, 0x300);
        a.@in(al, dx);
        a.@in(ax, dx);
        a.@out(dx, al);
        a.inc(dx);
        a.@in(eax, dx);
        a.mov(eax, __dword_ptr[Unbacked]);
        a.mov(eax, __dword_ptr[Unbacked + 0x10]);
        a.mov(al, __byte_ptr[Unbacked + 0xFFF]);
        a.mov(__dword_ptr[Unbacked + 4], eax);
        a.mov(__word_ptr[Unbacked + 8], ax);
        a.mov(eax, __dword_ptr[Unbacked + 0x1000]);
        a.sti();
        for (int i = 0; i < 3; i++)
        {
            a.mov(__dword_ptr[IcrLow], 0x00044041); // fixed, self, vector 0x41
        }

        a.xor(eax, eax);
        a.@out(0xF4, al);
    });

    [Fact]
    public void BusesCountReadsAndWritesApart()
    {
        using var m = new Machine(new MachineConfig { MemoryBytes = 16u << 20, MaxInstructions = 10_000 });
        m.Load("unmodelled", Guest());
        Assert.Equal(StopReason.GuestExit, m.Run().Reason);
        Assert.Equal(3, m.Io.UnclaimedAccesses[0x300]);
        Assert.Equal(1, m.Io.UnclaimedWrites[0x300]);
        Assert.Equal(1, m.Io.UnclaimedAccesses[0x301]);
        Assert.False(m.Io.UnclaimedWrites.ContainsKey(0x301));
        Assert.Equal(5, m.Bus.UnclaimedAccesses[Unbacked]);
        Assert.Equal(2, m.Bus.UnclaimedWrites[Unbacked]);
        Assert.Equal(1, m.Bus.UnclaimedAccesses[Unbacked + 0x1000]);
        Assert.Equal(3, m.Cpus[0].ExternalInterruptCounts[0x41]);
    }

    [Fact]
    public void RunStatsReportsThemInTextAndJson()
    {
        string image = Path.Combine(Path.GetTempPath(), $"unmodelled-{Guid.NewGuid():N}.bin");
        string json = Path.ChangeExtension(image, ".json");
        File.WriteAllBytes(image, Guest());
        try
        {
            var (code, _, err) = CliRunner.Run("run", image, "--timing", "functional", "--memory", "16M", "--stats", "--stats-json", json);
            Assert.True(code == 1, err);
            Assert.Contains("port 0x0300: 2 reads, 1 write", err);
            Assert.Contains("port 0x0301: 1 read, 0 writes", err);
            Assert.Contains("page 0xe0000000: 3 reads, 2 writes", err);
            Assert.Contains("page 0xe0001000: 1 read, 0 writes", err);
            Assert.Contains("    0  0x41 x3", err);

            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var unmodelled = doc.RootElement.GetProperty("unmodelled");
            var port = unmodelled.GetProperty("io_ports").GetProperty("0x0300");
            Assert.Equal(2, port.GetProperty("reads").GetInt64());
            Assert.Equal(1, port.GetProperty("writes").GetInt64());
            var page = unmodelled.GetProperty("physical_addresses").GetProperty("0xe0000000");
            Assert.Equal(3, page.GetProperty("reads").GetInt64());
            Assert.Equal(2, page.GetProperty("writes").GetInt64());
            var cpu = doc.RootElement.GetProperty("cpus")[0];
            Assert.Equal(3, cpu.GetProperty("interrupts_by_vector").GetProperty("0x41").GetInt64());
            Assert.Equal(16, doc.RootElement.GetProperty("state_hash").GetString()!.Length);

            // A second run reports the same figures and state hash.
            var (code2, _, err2) = CliRunner.Run("run", image, "--timing", "functional", "--memory", "16M", "--stats");
            Assert.Equal(code, code2);
            Assert.Equal(err, err2);
        }
        finally
        {
            File.Delete(image);
            File.Delete(json);
        }
    }
}
