using Emulator.Memory;

namespace Emulator.Tests;

public class PhysicalMemoryTests
{
    [Fact]
    public void FreshMemoryIsZeroAndRoundTrips()
    {
        using var mem = new PhysicalMemory(2 << 20);
        Assert.Equal(0u, mem.Read32(0x1000));
        mem.Write32(0x1000, 0xDEADBEEF);
        Assert.Equal(0xEFu, mem.Read8(0x1000));
        Assert.Equal(0xDEADBEEFu, mem.Read32(0x1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => mem.Read32((2 << 20) - 2));
    }

    [Fact]
    public void UnclaimedPortsReadAllOnes()
    {
        var bus = new IoPortBus();
        Assert.Equal(0xFFu, bus.In(0x80, 1));
        Assert.Equal(0xFFFFFFFFu, bus.In(0x80, 4));
        bus.Out(0x80, 1, 0x12);
        Assert.Equal(3, bus.UnclaimedAccesses[0x80]);
    }
}
