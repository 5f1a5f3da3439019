using Emulator.Devices;
using Emulator.Memory;

namespace Emulator.Tests.Devices;

public class KeyboardControllerResetTests
{
    private static (IoPortBus Bus, Func<int> Resets) Make()
    {
        int resets = 0;
        var bus = new IoPortBus();
        new KeyboardControllerReset(() => resets++).RegisterOn(bus);
        return (bus, () => resets);
    }

    [Fact]
    public void StatusShowsEmptyBuffersSystemFlagAndTheLastWriteKind()
    {
        var (bus, resets) = Make();
        Assert.Equal(0x14u, bus.In(0x64, 1));
        bus.Out(0x64, 1, 0xAE);                 // enable keyboard: accepted, ignored
        Assert.Equal(0x1Cu, bus.In(0x64, 1));
        bus.Out(0x60, 1, 0xF4);
        Assert.Equal(0x14u, bus.In(0x64, 1));
        Assert.Equal(0u, bus.In(0x60, 1));
        Assert.Equal(0, resets());
    }

    [Fact]
    public void PulseCommandsWithBitZeroClearAndOutputPortWritesReset()
    {
        var (bus, resets) = Make();
        bus.Out(0x64, 1, 0xFE);
        Assert.Equal(1, resets());
        bus.Out(0x64, 1, 0xFF);                 // pulses no line
        Assert.Equal(1, resets());
        bus.Out(0x64, 1, 0xF0);                 // pulses all four, reset among them
        Assert.Equal(2, resets());
        bus.Out(0x64, 1, 0xD1);
        bus.Out(0x60, 1, 0x03);                 // reset line kept high (A20 on)
        Assert.Equal(2, resets());
        bus.Out(0x64, 1, 0xD1);
        bus.Out(0x60, 1, 0x02);                 // reset line low
        Assert.Equal(3, resets());
        bus.Out(0x60, 1, 0x00);                 // plain data: not an output port write
        Assert.Equal(3, resets());
    }
}
