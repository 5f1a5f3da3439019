using Emulator.Debugging;
using Emulator.Platform;
using Emulator.Tests.Platform;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Debugging;

/// <summary>
/// Write watchpoints see writes the instruction's explicit operand does not show: a push, a
/// call's return address, a string store (caught by the value they change).
/// </summary>
public class ExecutionControlWatchTests
{
    private const uint Stack = 0x300000;
    private const uint Buffer = 0x310000;

    private static (ExecutionControl Control, Machine Machine) Boot()
    {
        var m = FlatGuest.Boot(new MachineConfig { Cpus = 1, MemoryBytes = 16u << 20 }, a =>
        {
            var callee = a.CreateLabel();
            a.mov(esp, Stack);
            a.mov(eax, 0x11223344);
            a.nop();
            a.push(eax);              // writes Stack - 4
            a.call(callee);           // writes Stack - 8
            a.mov(edi, Buffer);
            a.mov(ecx, 4);
            a.mov(al, 0x5A);
            a.cld();
            a.rep.stosb();            // writes Buffer .. Buffer + 3
            a.mov(al, 0x21);
            a.@out(0xF4, al);
            a.hlt();
            a.Label(ref callee);
            a.ret();
        });
        return (new ExecutionControl(m), m);
    }

    private static DebugStop Continue(ExecutionControl c) => c.Resume([ResumeAction.Continue]);

    [Fact]
    public void PushCallAndStringStoresHitWriteWatchpoints()
    {
        var (c, m) = Boot();
        c.AddWatchpoint(WatchSpace.Linear, Stack - 4, 4, WatchKind.Write, "pushed value");
        c.AddWatchpoint(WatchSpace.Linear, Stack - 8, 4, WatchKind.Write, "return address");
        c.AddWatchpoint(WatchSpace.Physical, Buffer + 2, 1, WatchKind.Write, "third byte");

        var stop = Continue(c);
        Assert.Equal(DebugStopKind.Watchpoint, stop.Kind);
        Assert.Equal("pushed value", stop.Watchpoint!.Label);
        Assert.Equal(Stack - 4, m.Cpus[0].Esp);
        Assert.Equal(0x11223344u, m.Memory.Read32(Stack - 4));

        stop = Continue(c);
        Assert.Equal("return address", stop.Watchpoint!.Label);
        Assert.Equal(Stack - 8, m.Cpus[0].Esp);

        stop = Continue(c);
        Assert.Equal("third byte", stop.Watchpoint!.Label);
        Assert.Equal(0x5Au, m.Memory.Read8(Buffer + 2));

        stop = Continue(c);
        Assert.Equal(DebugStopKind.MachineStopped, stop.Kind);
        Assert.Equal(StopReason.GuestExit, stop.Result!.Reason);
    }

    [Fact]
    public void ReadWatchpointsIgnoreWrites()
    {
        // The push writes Stack - 4 and nothing reads it (the ret reads Stack - 8).
        var (c, _) = Boot();
        c.AddWatchpoint(WatchSpace.Linear, Stack - 4, 4, WatchKind.Read, "reads only");
        var stop = Continue(c);
        Assert.Equal(DebugStopKind.MachineStopped, stop.Kind);
        Assert.Equal(StopReason.GuestExit, stop.Result!.Reason);
    }
}
