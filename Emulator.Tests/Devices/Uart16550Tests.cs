using Emulator.Devices;
using Emulator.Memory;

namespace Emulator.Tests.Devices;

public class Uart16550Tests
{
    private const ushort Base = Uart16550.Com1Base;
    private const ushort Data = Base;
    private const ushort Ier = Base + 1;
    private const ushort Iir = Base + 2;
    private const ushort Fcr = Base + 2;
    private const ushort Lcr = Base + 3;
    private const ushort Mcr = Base + 4;
    private const ushort Lsr = Base + 5;
    private const ushort Msr = Base + 6;
    private const ushort Scr = Base + 7;

    private readonly RecordingInterruptLine _line = new();
    private readonly List<byte> _output = [];
    private readonly Uart16550 _uart;
    private readonly IoPortBus _bus = new();

    public Uart16550Tests()
    {
        _uart = new Uart16550(Base, _line, _output.Add);
        _uart.RegisterOn(_bus);
    }

    private byte Read(ushort port) => (byte)_bus.In(port, 1);

    private void Write(ushort port, byte value) => _bus.Out(port, 1, value);

    private void WriteBytes(params byte[] values)
    {
        foreach (byte b in values)
        {
            Write(Data, b);
        }
    }

    [Fact]
    public void PowerOnRegisterValues()
    {
        Assert.Equal(0x00, Read(Ier));
        Assert.Equal(0x01, Read(Iir));
        Assert.Equal(0x00, Read(Lcr));
        Assert.Equal(0x00, Read(Mcr));
        Assert.Equal(0x60, Read(Lsr));
        Assert.Equal(0xB0, Read(Msr));
        Assert.Equal(0x00, Read(Scr));
        Assert.Equal(0, _uart.Divisor);
        Assert.Empty(_line.Levels);
    }

    [Fact]
    public void ScratchAndLineControlHoldWhatIsWritten()
    {
        Write(Scr, 0xA5);
        Write(Lcr, 0x1B);
        Assert.Equal(0xA5, Read(Scr));
        Assert.Equal(0x1B, Read(Lcr));
    }

    [Fact]
    public void IerKeepsOnlyBits0To3AndMcrOnlyBits0To4()
    {
        Write(Ier, 0xFF);
        Write(Mcr, 0xFF);
        Assert.Equal(0x0F, Read(Ier));
        Assert.Equal(0x1F, Read(Mcr));
    }

    [Fact]
    public void DlabSwitchesPorts0And1ToTheDivisorLatch()
    {
        Write(Ier, 0x05);
        Write(Lcr, 0x83);
        Write(Data, 0x0C);
        Write(Ier, 0x01);
        Assert.Equal(0x0C, Read(Data));
        Assert.Equal(0x01, Read(Ier));
        Assert.Equal(0x010C, _uart.Divisor);
        Assert.Empty(_output);

        Write(Lcr, 0x03);
        Assert.Equal(0x05, Read(Ier));
        Write(Data, (byte)'x');
        Assert.Equal("x"u8.ToArray(), _output);
        Assert.Equal(0x010C, _uart.Divisor);
    }

    [Fact]
    public void TransmissionIsInstantaneous()
    {
        Write(Lcr, 0x03);
        WriteBytes("ok\n"u8.ToArray());
        Assert.Equal("ok\n"u8.ToArray(), _output);
        Assert.Equal(0x60, Read(Lsr));
    }

    [Fact]
    public void WordLengthIsNotApplied()
    {
        Write(Lcr, 0x02);
        Write(Data, 0xC1);
        Write(Lcr, 0x00); // the power-on 5-bit setting
        Write(Data, 0xFF);
        Assert.Equal([0xC1, 0xFF], _output);
    }

    [Fact]
    public void LoopbackRoutesThrToRbrAndNotToTheOutput()
    {
        Write(Lcr, 0x03);
        Write(Mcr, 0x10);
        Write(Data, (byte)'A');
        Assert.Empty(_output);
        Assert.Equal(0x61, Read(Lsr));
        Assert.Equal((byte)'A', Read(Data));
        Assert.Equal(0x60, Read(Lsr));

        Write(Mcr, 0x00);
        Write(Data, (byte)'B');
        Assert.Equal("B"u8.ToArray(), _output);
        Assert.Equal(0x60, Read(Lsr));
    }

    [Theory]
    [InlineData(0x01, 0x20)] // DTR -> DSR
    [InlineData(0x02, 0x10)] // RTS -> CTS
    [InlineData(0x04, 0x40)] // OUT1 -> RI
    [InlineData(0x08, 0x80)] // OUT2 -> DCD
    [InlineData(0x0F, 0xF0)]
    [InlineData(0x00, 0x00)]
    public void LoopbackRoutesMcrOutputsToMsrInputs(byte mcr, byte msr)
    {
        Write(Mcr, (byte)(0x10 | mcr));
        Assert.Equal(msr, Read(Msr) & 0xF0);
    }

    [Fact]
    public void MsrDeltaBitsLatchChangesAndClearOnRead()
    {
        // Entering loopback with all outputs off drops CTS, DSR and DCD.
        Write(Mcr, 0x10);
        Assert.Equal(0x0B, Read(Msr));
        Assert.Equal(0x00, Read(Msr));

        // RI's leading edge sets no delta; its trailing edge sets TERI.
        Write(Mcr, 0x14);
        Assert.Equal(0x40, Read(Msr));
        Write(Mcr, 0x10);
        Assert.Equal(0x04, Read(Msr));

        Write(Mcr, 0x13);
        Assert.Equal(0x33, Read(Msr));

        // Leaving loopback: the modemless line has CTS, DSR and DCD asserted.
        Write(Mcr, 0x03);
        Assert.Equal(0xB8, Read(Msr));
        Assert.Equal(0xB0, Read(Msr));
    }

    [Fact]
    public void FifoKeepsOrderAndOverrunDropsTheSeventeenthByte()
    {
        Write(Fcr, 0x07);
        Write(Mcr, 0x10);
        for (int i = 0; i < 17; i++)
        {
            Write(Data, (byte)(0x40 + i));
        }

        Assert.Equal(0x63, Read(Lsr));
        Assert.Equal(0x61, Read(Lsr)); // reading LSR cleared OE
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(0x40 + i, Read(Data));
        }

        Assert.Equal(0x60, Read(Lsr));
    }

    [Fact]
    public void In16450ModeOverrunOverwritesTheUnreadByte()
    {
        Write(Mcr, 0x10);
        WriteBytes(0x61, 0x62);
        Assert.Equal(0x63, Read(Lsr));
        Assert.Equal(0x62, Read(Data));
        Assert.Equal(0x60, Read(Lsr));
        Assert.Equal(0x62, Read(Data)); // an empty receiver reads back the last byte
    }

    [Fact]
    public void FcrClearsTheReceiveFifoAndModeChangesEmptyIt()
    {
        Write(Fcr, 0x01);
        Write(Mcr, 0x10);
        WriteBytes(1, 2, 3);
        Write(Fcr, 0x03);
        Assert.Equal(0x60, Read(Lsr));

        WriteBytes(4, 5);
        Write(Fcr, 0x00);
        Assert.Equal(0x60, Read(Lsr));

        Write(Data, 6);
        Write(Fcr, 0x01);
        Assert.Equal(0x60, Read(Lsr));
    }

    [Fact]
    public void IirReportsFifosEnabledInBits6And7()
    {
        Write(Fcr, 0x01);
        Assert.Equal(0xC1, Read(Iir));
        Write(Fcr, 0xC7);
        Assert.Equal(0xC1, Read(Iir));
        Write(Fcr, 0x00);
        Assert.Equal(0x01, Read(Iir));
    }

    [Fact]
    public void IirReportsInterruptsInPriorityOrder()
    {
        Write(Fcr, 0xC1); // trigger level 14
        Write(Mcr, 0x10); // loopback: sets the CTS, DSR and DCD deltas
        Write(Ier, 0x0F);
        for (int i = 0; i < 17; i++)
        {
            Write(Data, (byte)i);
        }

        Assert.Equal(0xC6, Read(Iir)); // line status (overrun)
        Assert.Equal(0xC6, Read(Iir)); // ...until LSR is read
        Assert.Equal(0x63, Read(Lsr));
        Assert.Equal(0xC4, Read(Iir)); // received data at or above the trigger level
        Read(Data);
        Read(Data);
        Assert.Equal(0xC4, Read(Iir));
        Read(Data); // 13 left: below the trigger level
        Assert.Equal(0xCC, Read(Iir)); // character timeout
        for (int i = 0; i < 13; i++)
        {
            Read(Data);
        }

        Assert.Equal(0xC2, Read(Iir)); // THR empty, cleared by this read
        Assert.Equal(0xC0, Read(Iir)); // modem status
        Assert.Equal(0xC0, Read(Iir));
        Read(Msr);
        Assert.Equal(0xC1, Read(Iir));
    }

    [Fact]
    public void ReceivedDataInterruptIn16450ModeAndTriggerLevels()
    {
        Write(Mcr, 0x10);
        Write(Ier, 0x01);
        Write(Data, 1);
        Assert.Equal(0x04, Read(Iir));
        Read(Data);
        Assert.Equal(0x01, Read(Iir));

        Write(Fcr, 0x41); // trigger level 4
        WriteBytes(1, 2, 3);
        Assert.Equal(0xCC, Read(Iir));
        Write(Data, 4);
        Assert.Equal(0xC4, Read(Iir));

        Write(Fcr, 0x83); // trigger level 8, FIFO cleared
        WriteBytes(1, 2, 3, 4, 5, 6, 7);
        Assert.Equal(0xCC, Read(Iir));
        Write(Data, 8);
        Assert.Equal(0xC4, Read(Iir));
    }

    [Fact]
    public void ThreInterruptClearsOnIirReadAndReturnsAfterEachThrWrite()
    {
        Write(Ier, 0x02); // enabling it with THR empty raises it at once
        Assert.Equal(0x02, Read(Iir));
        Assert.Equal(0x01, Read(Iir));
        Write(Data, (byte)'a');
        Assert.Equal(0x02, Read(Iir));
        Write(Ier, 0x00);
        Assert.Equal(0x01, Read(Iir));
        Write(Ier, 0x02);
        Write(Ier, 0x02); // no new edge: still the same pending interrupt
        Assert.Equal(0x02, Read(Iir));
        Assert.Equal(0x01, Read(Iir));
    }

    [Fact]
    public void IirReadDoesNotClearThreWhenAHigherInterruptIsReported()
    {
        Write(Mcr, 0x10);
        Write(Ier, 0x03);
        Write(Data, 0x55);
        Assert.Equal(0x04, Read(Iir));
        Assert.Equal(0x55, Read(Data));
        Assert.Equal(0x02, Read(Iir));
        Assert.Equal(0x01, Read(Iir));
    }

    [Fact]
    public void InterruptLineIsPendingAndOut2()
    {
        Write(Ier, 0x02);
        Assert.Empty(_line.Levels); // OUT2 clear: the line is gated off
        Write(Mcr, 0x08);
        Assert.True(_line.Level);
        Write(Mcr, 0x00);
        Assert.False(_line.Level);
        Write(Mcr, 0x0B);
        Assert.True(_uart.InterruptAsserted);
        Read(Iir); // clears THRE, the only source
        Assert.False(_line.Level);
        Assert.Equal([true, false, true, false], _line.Levels);
    }

    [Fact]
    public void InterruptLineFollowsIer()
    {
        Write(Mcr, 0x08);
        Write(Ier, 0x02);
        Write(Ier, 0x00);
        Write(Ier, 0x0D); // nothing pending for these
        Assert.Equal([true, false], _line.Levels);
    }

    [Fact]
    public void EachThrWriteGivesAFreshEdge()
    {
        Write(Mcr, 0x08);
        Write(Ier, 0x02);
        _line.Levels.Clear();
        WriteBytes((byte)'a', (byte)'b');
        Assert.Equal([false, true, false, true], _line.Levels);
        Assert.Equal("ab"u8.ToArray(), _output);
    }

    [Fact]
    public void LoopbackForcesTheOut2GateOff()
    {
        Write(Mcr, 0x18);
        Write(Ier, 0x0F);
        Write(Data, 1);
        Assert.Equal(0x04, Read(Iir));
        Assert.Empty(_line.Levels);
    }

    [Fact]
    public void LeavingLoopbackRaisesTheModemStatusInterrupt()
    {
        Write(Mcr, 0x10);
        Read(Msr);
        Write(Ier, 0x08);
        Write(Mcr, 0x08); // CTS, DSR and DCD come back
        Assert.Equal(0x00, Read(Iir));
        Assert.True(_line.Level);
        Assert.Equal(0xBB, Read(Msr));
        Assert.False(_line.Level);
        Assert.Equal(0x01, Read(Iir));
    }

    [Fact]
    public void HostInputRaisesTheReceivedDataInterrupt()
    {
        Write(Mcr, 0x08);
        Write(Ier, 0x01);
        _uart.EnqueueInput("hi"u8);
        Assert.Empty(_line.Levels); // waits for the emulator thread
        _uart.PollInput();
        Assert.True(_line.Level);
        Assert.Equal(0x04, Read(Iir));
        Assert.Equal((byte)'h', Read(Data));

        // 16450 mode holds one byte: the next arrives at the next access or poll, a fresh edge.
        Assert.False(_line.Level);
        _uart.PollInput();
        Assert.True(_line.Level);
        Assert.Equal((byte)'i', Read(Data));
        Assert.False(_line.Level);
        Assert.Equal(0x60, Read(Lsr));
        Assert.Equal([true, false, true, false], _line.Levels);

        // With FIFOs, both bytes arrive together.
        Write(Fcr, 0x01);
        _uart.EnqueueInput("hi"u8);
        _uart.PollInput();
        Assert.Equal(0xC4, Read(Iir)); // trigger level 1
        Assert.Equal((byte)'h', Read(Data));
        Assert.True(_line.Level);
        Assert.Equal((byte)'i', Read(Data));
        Assert.False(_line.Level);
    }

    [Fact]
    public void HostInputWaitsForRoomInsteadOfOverrunning()
    {
        Write(Fcr, 0xC1);
        var input = Enumerable.Range(0, 40).Select(i => (byte)i).ToArray();
        _uart.EnqueueInput(input);
        _uart.PollInput();
        var received = new List<byte>();
        while ((Read(Lsr) & 0x01) != 0)
        {
            received.Add(Read(Data));
        }

        Assert.Equal(input, received);

        // 16450 mode: one byte at a time.
        Write(Fcr, 0x00);
        _uart.EnqueueInput("xyz"u8);
        received.Clear();
        while (true)
        {
            byte lsr = Read(Lsr);
            Assert.Equal(0, lsr & 0x02);
            if ((lsr & 0x01) == 0)
            {
                break;
            }

            received.Add(Read(Data));
        }

        Assert.Equal("xyz"u8.ToArray(), received);
    }

    [Fact]
    public void HostInputWaitsWhileInLoopback()
    {
        Write(Mcr, 0x10);
        _uart.EnqueueInput("q"u8);
        _uart.PollInput();
        Assert.Equal(0x60, Read(Lsr));
        Write(Mcr, 0x00);
        Assert.Equal(0x61, Read(Lsr));
        Assert.Equal((byte)'q', Read(Data));
    }

    [Fact]
    public async Task HostInputFromAnotherThreadArrivesInOrder()
    {
        const int Total = 20000;
        Write(Fcr, 0x01);
        var writer = Task.Run(() =>
        {
            for (int i = 0; i < Total; i += 100)
            {
                var chunk = Enumerable.Range(i, 100).Select(n => (byte)n).ToArray();
                _uart.EnqueueInput(chunk);
            }
        });

        int count = 0;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (count < Total && DateTime.UtcNow < deadline)
        {
            _uart.PollInput();
            while ((Read(Lsr) & 0x01) != 0)
            {
                Assert.Equal((byte)count, Read(Data));
                count++;
            }
        }

        await writer;
        Assert.Equal(Total, count);
    }

    [Fact]
    public void WideAccessesAreSplitIntoConsecutivePorts()
    {
        Write(Lcr, 0x80);
        _bus.Out(Data, 2, 0x0180);
        Assert.Equal(0x0180, _uart.Divisor);
        Assert.Equal(0x0180u, _bus.In(Data, 2));
        _bus.Out(Lcr, 2, 0x0B03); // LCR then MCR
        Assert.Equal(0x03, Read(Lcr));
        Assert.Equal(0x0B, Read(Mcr));
        Assert.Equal(0x0B03u, _bus.In(Lcr, 2));
        _bus.Out(Scr, 2, 0x1234); // the high byte belongs to the next port
        Assert.Equal(0xFF34u, _bus.In(Scr, 2));
        Assert.Equal(0x34B0600Bu, _bus.In(Mcr, 4)); // MCR, LSR, MSR, SCR
    }

    [Fact]
    public void ResetRestoresPowerOnValuesAndDropsTheLine()
    {
        Write(Lcr, 0x80);
        Write(Data, 0x01);
        Write(Lcr, 0x1F);
        Write(Fcr, 0xC1);
        Write(Scr, 0x77);
        Write(Mcr, 0x08);
        Write(Ier, 0x0F);
        Assert.True(_line.Level);

        _uart.Reset();
        Assert.False(_line.Level);
        Assert.Equal(0x00, Read(Ier));
        Assert.Equal(0x01, Read(Iir));
        Assert.Equal(0x00, Read(Lcr));
        Assert.Equal(0x00, Read(Mcr));
        Assert.Equal(0x60, Read(Lsr));
        Assert.Equal(0xB0, Read(Msr));
        Assert.Equal(0x00, Read(Scr));
        Assert.Equal(0, _uart.Divisor);
    }
}
