using Emulator.Devices;
using Emulator.Memory;

namespace Emulator.Tests.Devices;

public class BytePortDeviceTests
{
    private sealed class Registers(ushort basePort, int count) : BytePortDevice(basePort, count)
    {
        public byte[] Values { get; } = new byte[count];

        public List<string> Log { get; } = [];

        protected override byte ReadByte(int offset)
        {
            Log.Add($"r{offset}");
            return Values[offset];
        }

        protected override void WriteByte(int offset, byte value)
        {
            Log.Add($"w{offset}={value:x2}");
            Values[offset] = value;
        }
    }

    [Fact]
    public void WideAccessesSplitIntoConsecutiveBytesLowFirst()
    {
        var dev = new Registers(0x100, 4);
        dev.Out(0x100, 4, 0x44332211);
        Assert.Equal(["w0=11", "w1=22", "w2=33", "w3=44"], dev.Log);
        dev.Log.Clear();
        Assert.Equal(0x3322u, dev.In(0x101, 2));
        Assert.Equal(["r1", "r2"], dev.Log);
    }

    [Fact]
    public void BytesPastTheLastPortReadAllOnesAndWritesAreDropped()
    {
        var dev = new Registers(0x100, 2);
        dev.Out(0x101, 4, 0xAABBCCDD);
        Assert.Equal(["w1=dd"], dev.Log);
        Assert.Equal(0xFFFFFFDDu, dev.In(0x101, 4));
    }

    [Fact]
    public void RejectsOddSizesAndRegistersItsPorts()
    {
        var dev = new Registers(0x100, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => dev.In(0x100, 3));
        var bus = new IoPortBus();
        dev.RegisterOn(bus);
        bus.Out(0x102, 1, 0x5A);
        Assert.Equal(0x5Au, bus.In(0x102, 1));
        Assert.Throws<InvalidOperationException>(() => bus.Register(0x102, 1, dev));
    }
}
