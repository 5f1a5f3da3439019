using Emulator.Cpu;
using Emulator.Platform;
using Emulator.Tests.Integration;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Platform;

/// <summary>
/// Machine reset: a triple fault stops or resets the machine, guest reset requests (keyboard
/// controller, port 0x92) reset it as a PC does, --max-resets bounds it, and the CMOS shutdown
/// status with the warm-reset vector at 0x467 is honoured. The guests count their boots in RAM
/// outside their image, which a reset keeps (a cold reset loads the image itself again).
/// </summary>
public class MachineResetTests
{
    private const uint BootCount = 0x200000;
    private const uint SavedCr4 = 0x200004;
    private const uint SavedDr7 = 0x200008;
    private const uint SavedMagic = 0x20000C;
    private const uint ZeroIdtr = 0x200010;

    /// <summary>Counts the boot; on boot <paramref name="lastBoot"/> or later exits with status 0x21 (host status 0x43); otherwise runs <paramref name="fail"/>.</summary>
    private static byte[] Guest(int lastBoot, Action<Assembler> fail) => FlatGuest.Build(a =>
    {
        var done = a.CreateLabel();
        a.mov(__dword_ptr[SavedMagic], eax);
        a.inc(__dword_ptr[BootCount]);
        a.cmp(__dword_ptr[BootCount], lastBoot);
        a.jae(done);

        // Leave state a reset must clear: CR4.DE and an armed DR7.
        a.mov(eax, cr4);
        a.or(eax, (int)Cr4Bits.DE);
        a.mov(cr4, eax);
        a.mov(eax, 0x1);
        a.mov(dr7, eax);
        fail(a);
        var spin = a.CreateLabel();
        a.Label(ref spin);
        a.jmp(spin);

        a.Label(ref done);
        a.mov(eax, cr4);
        a.mov(__dword_ptr[SavedCr4], eax);
        a.mov(eax, dr7);
        a.mov(__dword_ptr[SavedDr7], eax);
        a.mov(al, 0x21);
        a.@out(0xF4, al);
        a.hlt();
    });

    private static void TripleFault(Assembler a)
    {
        a.mov(__dword_ptr[ZeroIdtr], 0);
        a.mov(__word_ptr[ZeroIdtr + 4], 0);
        a.lidt(__[ZeroIdtr]);
        a.ud2();                          // #UD with an empty IDT: #GP, then #DF, then shutdown
    }

    private static void KeyboardControllerReset(Assembler a)
    {
        a.mov(al, 0xFE);
        a.@out(0x64, al);
    }

    private static void FastReset(Assembler a)
    {
        a.@in(al, 0x92);
        a.or(al, 1);
        a.@out(0x92, al);
    }

    private static Machine Boot(MachineConfig config, byte[] image)
    {
        var m = new Machine(config with { MaxInstructions = 1_000_000 });
        m.Load("reset-test-guest", image);
        return m;
    }

    [Fact]
    public void TripleFaultStopsByDefault()
    {
        using var m = Boot(new MachineConfig(), Guest(2, TripleFault));
        var r = m.Run();
        Assert.Equal(StopReason.TripleFault, r.Reason);
        Assert.Contains("triple fault on CPU 0", r.Message);
        Assert.Equal(0, m.Resets);
        Assert.Equal(1u, m.Memory.Read32(BootCount));
    }

    [Fact]
    public void TripleFaultWithResetBootsAgainWithResetStateAndRunsToACleanExit()
    {
        using var m = Boot(new MachineConfig { Cpus = 2, OnTripleFault = ResetPolicy.Reset }, Guest(2, TripleFault));
        string? told = null;
        m.AfterReset = why => told = why;
        var r = m.Run();
        Assert.Equal(StopReason.GuestExit, r.Reason);
        Assert.Equal(0x43, r.GuestExitStatus);
        Assert.Equal(1, m.Resets);
        Assert.StartsWith("triple fault on CPU 0 (#DF then #GP)", told);
        Assert.Equal(2u, m.Memory.Read32(BootCount));        // RAM kept across the reset
        Assert.Equal(0x2BADB002u, m.Memory.Read32(SavedMagic)); // entered as the loader starts it
        Assert.Equal(0u, m.Memory.Read32(SavedCr4));          // CPU state back to RESET values
        Assert.Equal(0x400u, m.Memory.Read32(SavedDr7));
        Assert.Equal(RunState.WaitForSipi, m.Cpus[1].State);
        Assert.Null(m.Cpus[0].Shutdown);
        Assert.Equal((0x08, 0x70), m.Pic.VectorBases); // the firmware programs the 8259s again
        Assert.Equal(0xFFFB, m.Pic.Imr);
    }

    [Fact]
    public void ResetLimitStopsAGuestThatNeverStopsFaulting()
    {
        using var m = Boot(new MachineConfig { OnTripleFault = ResetPolicy.Reset, MaxResets = 3 }, Guest(100, TripleFault));
        var r = m.Run();
        Assert.Equal(StopReason.ResetLimit, r.Reason);
        Assert.Equal(3, m.Resets);
        Assert.Equal(4u, m.Memory.Read32(BootCount));
        Assert.Contains("--max-resets 3", r.Message);
    }

    [Fact]
    public void KeyboardControllerResetRebootsTheMachine()
    {
        using var m = Boot(new MachineConfig(), Guest(3, KeyboardControllerReset));
        var r = m.Run();
        Assert.Equal(StopReason.GuestExit, r.Reason);
        Assert.Equal(2, m.Resets);
        Assert.Equal(3u, m.Memory.Read32(BootCount));
        Assert.Equal("keyboard controller reset requested by the guest", m.LastResetReason);
    }

    [Fact]
    public void FastResetThroughPort92RebootsTheMachine()
    {
        using var m = Boot(new MachineConfig(), Guest(2, FastReset));
        var r = m.Run();
        Assert.Equal(StopReason.GuestExit, r.Reason);
        Assert.Equal(1, m.Resets);
        Assert.Equal("port 0x92 fast reset requested by the guest", m.LastResetReason);
    }

    [Fact]
    public void ResetRequestCanStopTheMachineInstead()
    {
        using var m = Boot(new MachineConfig { OnResetRequest = ResetPolicy.Stop }, Guest(2, KeyboardControllerReset));
        var r = m.Run();
        Assert.Equal(StopReason.ResetRequest, r.Reason);
        Assert.Equal(0, m.Resets);
        Assert.Equal(1u, m.Memory.Read32(BootCount));
    }

    [Fact]
    public void ColdResetLoadsTheImageAgainAndDropsCodeDecodedFromTheOldBytes()
    {
        // The guest records the immediate of its first instruction, patches that immediate,
        // runs the patched code (so a block decoded from the new bytes is cached), then resets.
        // After the reset the loader has written the image again: the original immediate runs.
        const uint count = 0x200040;
        const uint slots = 0x200044;
        using var m = Boot(new MachineConfig(), FlatGuest.Build(a =>
        {
            var first = a.CreateLabel();
            var second = a.CreateLabel();
            a.mov(ebx, 0x11111111);       // at the entry: BB imm32, the immediate at entry + 1
            a.mov(ecx, __dword_ptr[count]);
            a.mov(__dword_ptr[ecx * 4 + slots], ebx);
            a.inc(__dword_ptr[count]);
            a.cmp(ecx, 0);
            a.je(first);
            a.cmp(ecx, 1);
            a.je(second);
            a.mov(al, 0x21);
            a.@out(0xF4, al);
            a.hlt();
            a.Label(ref first);
            a.mov(__dword_ptr[FlatGuest.Entry + 1], 0x22222222);
            a.jmp(FlatGuest.Entry);
            a.Label(ref second);
            KeyboardControllerReset(a);
            var spin = a.CreateLabel();
            a.Label(ref spin);
            a.jmp(spin);
        }));
        var r = m.Run();
        Assert.Equal(StopReason.GuestExit, r.Reason);
        Assert.Equal(1, m.Resets);
        Assert.Equal(3u, m.Memory.Read32(count));                // RAM outside the image kept
        Assert.Equal(0x11111111u, m.Memory.Read32(slots));
        Assert.Equal(0x22222222u, m.Memory.Read32(slots + 4));   // the patch ran before the reset
        Assert.Equal(0x11111111u, m.Memory.Read32(slots + 8));   // fresh image after it
        Assert.Equal(0x11111111u, m.Memory.Read32(FlatGuest.Entry + 1));
    }

    [Fact]
    public void CmosShutdownStatusSendsTheBootCpuThroughTheWarmResetVector()
    {
        const uint stub = 0x80000;
        using var m = Boot(new MachineConfig(), Guest(2, a =>
        {
            a.mov(al, 0x0F);
            a.@out(0x70, al);
            a.mov(al, 0x0A);              // shutdown status: jump through 0x467
            a.@out(0x71, al);
            a.mov(__word_ptr[0x467], 0x0000);
            a.mov(__word_ptr[0x469], (ushort)(stub >> 4));
            KeyboardControllerReset(a);
        }));
        m.Memory.Write(stub, FlatGuest.Assemble16(0, a =>
        {
            a.mov(ax, cs);
            a.mov(ds, ax);
            a.mov(__word_ptr[0x100], ax); // DS = CS: 0x80100
            a.mov(al, 0x33);
            a.@out(0xF4, al);
            a.hlt();
        }));
        var r = m.Run();
        Assert.Equal(StopReason.GuestExit, r.Reason);
        Assert.Equal((0x33 << 1) | 1, r.GuestExitStatus);
        Assert.Equal(0x8000u, m.Memory.Read16(stub + 0x100));
        Assert.Equal(0, m.Cmos.ShutdownStatus);
        Assert.Equal(1u, m.Memory.Read32(BootCount));       // the image entry did not run again
    }

    [Fact]
    public void CliOptionsSelectTheResetBehaviourAndExitStatuses()
    {
        string path = Path.Combine(Path.GetTempPath(), $"reset-guest-{Environment.ProcessId}-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(path, Guest(100, TripleFault));
        try
        {
            var stop = CliRunner.Run("run", path, "--timing", "functional");
            Assert.Equal(6, stop.Code);
            Assert.Contains("triple fault", stop.Err);

            var limit = CliRunner.Run("run", path, "--timing", "functional", "--on-triple-fault", "reset", "--max-resets", "2");
            Assert.Equal(12, limit.Code);
            Assert.Contains("emulator: machine reset 2: triple fault", limit.Err);
            Assert.Contains("reset limit reached: 2 resets done, --max-resets 2", limit.Err);

            var bad = CliRunner.Run("run", path, "--on-triple-fault", "reboot");
            Assert.Equal(2, bad.Code);
            var negative = CliRunner.Run("run", path, "--max-resets", "-1");
            Assert.Equal(2, negative.Code);
            Assert.Contains("--max-resets", negative.Err);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CliResetRequestStopExitsZero()
    {
        string path = Path.Combine(Path.GetTempPath(), $"reset-guest-{Environment.ProcessId}-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(path, Guest(2, KeyboardControllerReset));
        try
        {
            var stop = CliRunner.Run("run", path, "--timing", "functional", "--on-reset-request", "stop");
            Assert.Equal(0, stop.Code);
            Assert.Contains("asked for a reset", stop.Err);
            var reset = CliRunner.Run("run", path, "--timing", "functional");
            Assert.Equal(0x43, reset.Code);
            Assert.Contains("emulator: machine reset 1: keyboard controller reset", reset.Err);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
