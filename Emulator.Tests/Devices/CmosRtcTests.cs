using Emulator.Devices;
using Emulator.Memory;

namespace Emulator.Tests.Devices;

public class CmosRtcTests
{
    private const long Second = PitClock.DefaultCyclesPerSecond;

    private readonly IoPortBus _bus = new();
    private long _now;

    private CmosRtc Create(uint ram = 32u << 20, DateTime? start = null, int cpus = 1)
    {
        var rtc = new CmosRtc(() => _now, ram, startTime: start, cpuCount: cpus);
        rtc.RegisterOn(_bus);
        return rtc;
    }

    private byte Read(int index)
    {
        _bus.Out(0x70, 1, (uint)index);
        return (byte)_bus.In(0x71, 1);
    }

    private void Write(int index, byte value)
    {
        _bus.Out(0x70, 1, (uint)index);
        _bus.Out(0x71, 1, value);
    }

    private byte[] ReadTime() =>
        [Read(0x00), Read(0x02), Read(0x04), Read(0x06), Read(0x07), Read(0x08), Read(0x09), Read(0x32)];

    [Fact]
    public void DefaultStartIsY2kInBcd24Hour()
    {
        Create();
        Assert.Equal(new byte[] { 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 }, ReadTime());
        Assert.Equal(0x26, Read(0x0A));
        Assert.Equal(0x02, Read(0x0B));
        Assert.Equal(0x00, Read(0x0C));
        Assert.Equal(0x80, Read(0x0D));
    }

    [Fact]
    public void TimeAdvancesWithTheTimeLineAcrossYearEnd()
    {
        var rtc = Create(start: new DateTime(2023, 12, 31, 23, 59, 58));
        Assert.Equal(new byte[] { 0x58, 0x59, 0x23, 0x01, 0x31, 0x12, 0x23, 0x20 }, ReadTime());

        _now = (2 * Second) - 1;
        Assert.Equal(0x59, Read(0x00));

        _now = 2 * Second;
        Assert.Equal(new byte[] { 0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x24, 0x20 }, ReadTime());
        Assert.Equal(new DateTime(2024, 1, 1, 0, 0, 0), rtc.CurrentTime);

        // A long jump: 40 days and 5 seconds later (leap year February).
        _now += (40L * 86400 + 5) * Second;
        Assert.Equal(new DateTime(2024, 2, 10, 0, 0, 5), rtc.CurrentTime);
        Assert.Equal(0x07, Read(0x06)); // Saturday
    }

    [Fact]
    public void TimeIsAFunctionOfTheCycleCountOnly()
    {
        var a = Create(start: new DateTime(2010, 6, 15, 12, 0, 0));
        _now = 12_345 * Second;
        Assert.Equal(new DateTime(2010, 6, 15, 15, 25, 45), a.CurrentTime);
        _now = (12_346 * Second) - 1;
        Assert.Equal(new DateTime(2010, 6, 15, 15, 25, 45), a.CurrentTime);
    }

    [Fact]
    public void BinaryAnd12HourModesAreHonouredOnReads()
    {
        Create(start: new DateTime(1999, 11, 30, 23, 45, 17));
        Write(0x0B, 0x06); // binary, 24 h
        Assert.Equal(new byte[] { 17, 45, 23, 3, 30, 11, 99, 19 }, ReadTime());

        Write(0x0B, 0x04); // binary, 12 h
        Assert.Equal(0x80 | 11, Read(0x04));

        Write(0x0B, 0x00); // BCD, 12 h
        Assert.Equal(0x91, Read(0x04));

        _now = (15 * 60 * Second) - (17 * Second); // 00:00:00 on 1 December
        Assert.Equal(0x12, Read(0x04)); // 12 AM
        Assert.Equal(0x12, Read(0x08));
        Assert.Equal(0x99, Read(0x09));
        Assert.Equal(0x19, Read(0x32));
    }

    [Fact]
    public void GuestSetsTheClockWithTheSetBit()
    {
        var rtc = Create();
        _now = Second / 2;
        Write(0x0B, 0x82);
        Write(0x04, 0x15);
        Write(0x02, 0x30);
        Write(0x00, 0x00);
        Write(0x07, 0x29);
        Write(0x08, 0x02);
        Write(0x09, 0x24);

        // Stopped while SET is 1.
        _now = 10 * Second;
        Assert.Equal(0x00, Read(0x00));
        Assert.Equal(0, Read(0x0A) & 0x80);

        Write(0x0B, 0x02);
        _now += Second - 1;
        Assert.Equal(new DateTime(2024, 2, 29, 15, 30, 0), rtc.CurrentTime);
        _now += 1;
        Assert.Equal(new DateTime(2024, 2, 29, 15, 30, 1), rtc.CurrentTime);

        // The century byte sets the upper digits of the year.
        Write(0x32, 0x19);
        Assert.Equal(1924, rtc.CurrentTime.Year);
    }

    [Fact]
    public void UpdateInProgressDuringTheLast244MicrosecondsOfEachSecond()
    {
        Create();
        _now = Second - 245_000;
        Assert.Equal(0x26, Read(0x0A));
        Assert.Equal(0x00, Read(0x00));
        _now = Second - 244_000;
        Assert.Equal(0xA6, Read(0x0A));
        Assert.Equal(0x00, Read(0x00));
        _now = Second;
        Assert.Equal(0x26, Read(0x0A));
        Assert.Equal(0x01, Read(0x00));
    }

    [Fact]
    public void RegisterWritesDoNotCrashAndReadOnlyRegistersStay()
    {
        Create();
        Write(0x0A, 0xFF);
        Assert.Equal(0x7F, Read(0x0A) & 0x7F);
        Write(0x0B, 0x7E);
        Assert.Equal(0x7E, Read(0x0B));
        Write(0x0C, 0xFF);
        Write(0x0D, 0x00);
        Assert.Equal(0x00, Read(0x0C));
        Assert.Equal(0x80, Read(0x0D));

        // Setting SET clears UIE.
        Write(0x0B, 0x92);
        Assert.Equal(0x82, Read(0x0B));
    }

    [Fact]
    public void ShutdownStatusRoundTrips()
    {
        var rtc = Create();
        Write(0x0F, 0x0A);
        Assert.Equal(0x0A, Read(0x0F));
        Assert.Equal(0x0A, rtc.ShutdownStatus);
        rtc.ShutdownStatus = 0x00;
        Assert.Equal(0x00, Read(0x0F));
    }

    [Fact]
    public void IndexPortKeepsTheNmiMaskAndReadsAllOnes()
    {
        var rtc = Create();
        _bus.Out(0x70, 1, 0x8F);
        Assert.True(rtc.NmiDisabled);
        Assert.Equal(0x0F, rtc.SelectedIndex);
        Assert.Equal(0xFFu, _bus.In(0x70, 1));
        _bus.Out(0x70, 1, 0x0F);
        Assert.False(rtc.NmiDisabled);
    }

    [Theory]
    [InlineData(4u << 20, 0x0C00, 0x0000)]
    [InlineData(32u << 20, 0x7C00, 0x0100)]
    [InlineData(128u << 20, 0xFFFF, 0x0700)]
    [InlineData(3u << 30, 0xFFFF, 0xBF00)]
    public void MemorySizesAsABiosFillsThem(uint ram, int extendedKib, int above16M64k)
    {
        Create(ram, cpus: 8);
        Assert.Equal(640, Read(0x15) | (Read(0x16) << 8));
        Assert.Equal(extendedKib, Read(0x17) | (Read(0x18) << 8));
        Assert.Equal(extendedKib, Read(0x30) | (Read(0x31) << 8));
        Assert.Equal(above16M64k, Read(0x34) | (Read(0x35) << 8));
        Assert.Equal(7, Read(0x5F));

        int sum = 0;
        for (int i = 0x10; i <= 0x2D; i++)
        {
            sum += Read(i);
        }

        Assert.Equal(sum, (Read(0x2E) << 8) | Read(0x2F));
    }

    [Fact]
    public void OtherBytesArePlainRam()
    {
        Create();
        for (int i = 0x40; i < 0x80; i++)
        {
            if (i != 0x5F)
            {
                Write(i, (byte)(i ^ 0x5A));
            }
        }

        for (int i = 0x40; i < 0x80; i++)
        {
            if (i != 0x5F)
            {
                Assert.Equal((byte)(i ^ 0x5A), Read(i));
            }
        }
    }
}

public class SystemControlPortATests
{
    [Fact]
    public void A20IsAlwaysOnAndBit0RisingRequestsReset()
    {
        int resets = 0;
        var bus = new IoPortBus();
        var port = new SystemControlPortA(() => resets++);
        port.RegisterOn(bus);

        Assert.Equal(0x02u, bus.In(0x92, 1));
        bus.Out(0x92, 1, 0x00);
        Assert.Equal(0x02u, bus.In(0x92, 1));
        Assert.Equal(0, resets);

        bus.Out(0x92, 1, 0x01);
        Assert.Equal(1, resets);
        Assert.Equal(0x03u, bus.In(0x92, 1));
        bus.Out(0x92, 1, 0x03);
        Assert.Equal(1, resets);
        bus.Out(0x92, 1, 0x02);
        bus.Out(0x92, 1, 0x03);
        Assert.Equal(2, resets);

        port.Reset();
        Assert.Equal(0x02u, bus.In(0x92, 1));
        bus.Out(0x92, 1, 0xC0);
        Assert.Equal(0xC2u, bus.In(0x92, 1));
    }
}
