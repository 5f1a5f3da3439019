using Emulator.Devices;
using Emulator.Memory;

namespace Emulator.Tests.Devices;

public class DebugExitPortTests
{
    private sealed class FakeMachine : IMachineControl
    {
        public List<int> Requests { get; } = [];

        public void RequestExit(int status) => Requests.Add(status);
    }

    [Theory]
    [InlineData(0u, 1)]
    [InlineData(1u, 3)]
    [InlineData(0x10u, 0x21)]
    [InlineData(0x7Fu, 0xFF)]
    [InlineData(0xFFu, 0x1FF)]
    [InlineData(0x12345678u, 0x2468ACF1)]
    [InlineData(0x80000000u, 1)]
    [InlineData(0xFFFFFFFFu, -1)]
    public void ExitStatusIsValueShiftedLeftOrOne(uint value, int status)
    {
        Assert.Equal(status, DebugExitPort.ExitStatus(value));
    }

    [Theory]
    [InlineData(1, 1, 0x34u, 0x69)]
    [InlineData(1, 2, 0x1234u, 0x69)]
    [InlineData(1, 4, 0x100u, 1)]
    [InlineData(2, 2, 0x1234u, 0x2469)]
    [InlineData(4, 1, 0x34u, 0x69)]
    [InlineData(4, 2, 0x1234u, 0x2469)]
    [InlineData(4, 4, 0x12345678u, 0x2468ACF1)]
    public void WriteRequestsExitWithTheBytesInsideTheWindow(int ioSize, int accessSize, uint value, int status)
    {
        var machine = new FakeMachine();
        var dev = new DebugExitPort(machine, 0xF4, ioSize);
        var bus = new IoPortBus();
        dev.RegisterOn(bus);
        bus.Out(0xF4, accessSize, value);
        Assert.Equal([status], machine.Requests);
    }

    [Fact]
    public void AnyPortOfTheWindowWorksAndReadsReturnZero()
    {
        var machine = new FakeMachine();
        var dev = new DebugExitPort(machine, 0x501, 2);
        Assert.Equal(0x501, dev.IoBase);
        dev.Out(0x502, 1, 2);
        Assert.Equal([5], machine.Requests);
        Assert.Equal(0u, dev.In(0x501, 1));
        Assert.Equal(0u, dev.In(0x501, 2));
        Assert.Equal(0xFFFF0000u, dev.In(0x501, 4));
        Assert.Equal(0xFFFFFF00u, dev.In(0x502, 4));
        Assert.Single(machine.Requests);
    }

    [Fact]
    public void DefaultsToOnePortAtF4()
    {
        var dev = new DebugExitPort(new FakeMachine());
        Assert.Equal(0xF4, dev.IoBase);
        Assert.Equal(1, dev.IoSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DebugExitPort(new FakeMachine(), 0xF4, 5));
    }
}

public class DebugConsolePortTests
{
    [Fact]
    public void ReadsReturnE9AndWritesGoToTheSink()
    {
        var output = new List<byte>();
        var dev = new DebugConsolePort(output.Add);
        var bus = new IoPortBus();
        dev.RegisterOn(bus);
        Assert.Equal(0xE9u, bus.In(0xE9, 1));
        foreach (char c in "hi\n")
        {
            bus.Out(0xE9, 1, c);
        }

        Assert.Equal("hi\n"u8.ToArray(), output);
    }

    [Fact]
    public void WideAccessesUseOnlyTheLowByte()
    {
        var output = new List<byte>();
        var dev = new DebugConsolePort(output.Add);
        dev.Out(0xE9, 2, 0x4241);
        dev.Out(0xE9, 4, 0x44434243);
        Assert.Equal("AC"u8.ToArray(), output);
        Assert.Equal(0xFFE9u, dev.In(0xE9, 2));
        Assert.Equal(0xFFFFFFE9u, dev.In(0xE9, 4));
    }

    [Fact]
    public void PortAndReadbackAreConfigurable()
    {
        var dev = new DebugConsolePort(_ => { }, 0x402, 0x00);
        Assert.Equal(0x402, dev.BasePort);
        Assert.Equal(0u, dev.In(0x402, 1));
    }
}
