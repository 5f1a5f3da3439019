namespace Emulator.Devices;

/// <summary>
/// A National Semiconductor 16550A UART (the PC's COM port) at eight consecutive ports.
/// </summary>
/// <remarks>
/// <para>
/// Registers by offset from the base port: 0 RBR (read) / THR (write), or DLL when LCR.DLAB is
/// set; 1 IER, or DLM when LCR.DLAB is set; 2 IIR (read) / FCR (write); 3 LCR; 4 MCR; 5 LSR;
/// 6 MSR; 7 SCR.
/// </para>
/// <para>
/// Transmission is instantaneous: there is no baud-rate timing, so a byte written to THR goes
/// to the output sink (or, in loopback, into the receiver) during the write, and THRE/TEMT are
/// set again before the write returns. The THRE interrupt a THR write clears is therefore
/// raised again at once, so the interrupt line drops and rises within the write (one fresh
/// edge per byte, as a real UART gives one per character time). The receiver's character
/// timeout likewise takes no time: in FIFO mode a non-empty receive FIFO below the trigger
/// level reports the timeout interrupt at once.
/// </para>
/// <para>
/// No modem is attached: outside loopback the modem status inputs read as CTS, DSR and DCD
/// asserted and RI deasserted. There are no parity, framing or break errors, so LSR bits 2-4
/// and 7 always read 0; only overrun (OE) can occur.
/// </para>
/// <para>
/// LCR's word length, stop bits, parity and break are stored but not applied: characters are
/// always 8 bits (as in QEMU), because the power-on LCR of 0 selects 5-bit words and a guest that
/// never programs LCR would otherwise have its output truncated.
/// </para>
/// <para>
/// The interrupt output models a PC serial card, where the UART's OUT2 pin gates its interrupt
/// onto the IRQ line: the line is high while an interrupt is pending in IIR, MCR.OUT2 is set and
/// loopback is off (in loopback the datasheet forces the OUT2 pin inactive).
/// </para>
/// <para>
/// Threading: <see cref="EnqueueInput"/> may be called from any thread. Everything else,
/// including the port accesses, the output sink and the interrupt line, runs on the emulator
/// thread.
/// </para>
/// </remarks>
public sealed class Uart16550 : BytePortDevice
{
    /// <summary>The conventional base ports of COM1 and COM2.</summary>
    public const ushort Com1Base = 0x3F8;
    public const ushort Com2Base = 0x2F8;

    /// <summary>Depth of the receive FIFO.</summary>
    public const int FifoSize = 16;

    // IER
    private const byte IerRda = 0x01;
    private const byte IerThre = 0x02;
    private const byte IerRls = 0x04;
    private const byte IerMsi = 0x08;

    // IIR interrupt identification (bits 0-3) and FIFO-enabled bits
    private const byte IirNone = 0x01;
    private const byte IirRls = 0x06;
    private const byte IirRda = 0x04;
    private const byte IirTimeout = 0x0C;
    private const byte IirThre = 0x02;
    private const byte IirMsi = 0x00;
    private const byte IirFifosEnabled = 0xC0;

    // FCR
    private const byte FcrEnable = 0x01;
    private const byte FcrClearRx = 0x02;
    private const byte FcrStored = 0xC9; // enable, DMA mode select, trigger level

    // LCR
    private const byte LcrDlab = 0x80;

    // MCR
    private const byte McrDtr = 0x01;
    private const byte McrRts = 0x02;
    private const byte McrOut1 = 0x04;
    private const byte McrOut2 = 0x08;
    private const byte McrLoop = 0x10;

    // LSR
    private const byte LsrDr = 0x01;
    private const byte LsrOe = 0x02;
    private const byte LsrThre = 0x20;
    private const byte LsrTemt = 0x40;

    // MSR
    private const byte MsrDcts = 0x01;
    private const byte MsrDdsr = 0x02;
    private const byte MsrTeri = 0x04;
    private const byte MsrDdcd = 0x08;
    private const byte MsrCts = 0x10;
    private const byte MsrDsr = 0x20;
    private const byte MsrRi = 0x40;
    private const byte MsrDcd = 0x80;
    private const byte MsrNoModem = MsrCts | MsrDsr | MsrDcd;

    private readonly IInterruptLine _interrupt;
    private readonly Action<byte> _output;

    // Bytes from the host waiting to be received; shared with the host's input thread.
    private readonly Queue<byte> _hostInput = new();
    private readonly object _hostInputLock = new();
    private int _hostInputCount;

    // Receive FIFO (capacity 1 when FIFOs are disabled: the 16450 receiver buffer register).
    private readonly byte[] _rx = new byte[FifoSize];
    private int _rxHead;
    private int _rxCount;
    private byte _rbr;

    private byte _ier;
    private byte _fcr;
    private byte _lcr;
    private byte _mcr;
    private byte _dll;
    private byte _dlm;
    private byte _scr;
    private bool _overrun;
    private bool _thrInterrupt;
    private byte _modemInputs;
    private byte _modemDeltas;
    private bool _lineLevel;

    /// <param name="basePort">First of the eight ports (<see cref="Com1Base"/> for COM1).</param>
    /// <param name="interrupt">The IRQ line (IRQ4 for COM1), driven level-wise.</param>
    /// <param name="output">Receives each transmitted byte, on the emulator thread.</param>
    public Uart16550(ushort basePort, IInterruptLine interrupt, Action<byte> output)
        : base(basePort, 8)
    {
        ArgumentNullException.ThrowIfNull(interrupt);
        ArgumentNullException.ThrowIfNull(output);
        _interrupt = interrupt;
        _output = output;
        Reset();
    }

    /// <summary>Whether the UART currently drives its IRQ line high.</summary>
    public bool InterruptAsserted => _lineLevel;

    /// <summary>The baud-rate divisor (DLM:DLL) the guest programmed. It has no effect on timing.</summary>
    public ushort Divisor => (ushort)(_dll | (_dlm << 8));

    /// <summary>
    /// Puts the UART in its power-on state: the master-reset values from the datasheet
    /// (IER, FCR, LCR, MCR = 0; IIR = 0x01; LSR = 0x60; MSR = 0xB0 as no modem is attached;
    /// both FIFOs empty) and, for the registers reset leaves undefined, zero (DLL, DLM, SCR, RBR).
    /// Host input not yet received stays queued: it is on the line, not in the chip.
    /// </summary>
    public void Reset()
    {
        _rxHead = 0;
        _rxCount = 0;
        _rbr = 0;
        _ier = 0;
        _fcr = 0;
        _lcr = 0;
        _mcr = 0;
        _dll = 0;
        _dlm = 0;
        _scr = 0;
        _overrun = false;
        _thrInterrupt = false;
        _modemInputs = MsrNoModem;
        _modemDeltas = 0;
        DrainHostInput();
        UpdateInterrupt();
    }

    /// <summary>
    /// Queues bytes arriving on the serial input, e.g. from the host terminal. Safe to call from
    /// any thread. The bytes enter the receive FIFO on the emulator thread (at the next port
    /// access or <see cref="PollInput"/>), only as fast as the FIFO has room, so host input is
    /// never lost to overrun. Outside loopback only: in loopback the serial input is disconnected
    /// and the bytes wait.
    /// </summary>
    public void EnqueueInput(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        lock (_hostInputLock)
        {
            foreach (byte b in data)
            {
                _hostInput.Enqueue(b);
            }

            Volatile.Write(ref _hostInputCount, _hostInput.Count);
        }
    }

    /// <summary>Whether host input is queued (cheap, any thread): <see cref="PollInput"/> does nothing without it.</summary>
    public bool HasHostInput => Volatile.Read(ref _hostInputCount) != 0;

    /// <summary>
    /// Moves queued host input into the receive FIFO and updates the interrupt line. The machine
    /// calls this periodically (e.g. while the CPU is halted) on the emulator thread.
    /// </summary>
    public void PollInput()
    {
        if (!HasHostInput)
        {
            return;
        }

        if (DrainHostInput())
        {
            UpdateInterrupt();
        }
    }

    protected override byte ReadByte(int offset)
    {
        DrainHostInput();
        byte value;
        switch (offset)
        {
            case 0:
                value = Dlab ? _dll : ReadRbr();
                break;
            case 1:
                value = Dlab ? _dlm : _ier;
                break;
            case 2:
                value = ReadIir();
                break;
            case 3:
                value = _lcr;
                break;
            case 4:
                value = _mcr;
                break;
            case 5:
                value = ReadLsr();
                break;
            case 6:
                value = ReadMsr();
                break;
            default:
                value = _scr;
                break;
        }

        UpdateInterrupt();
        return value;
    }

    protected override void WriteByte(int offset, byte value)
    {
        DrainHostInput();
        switch (offset)
        {
            case 0:
                if (Dlab)
                {
                    _dll = value;
                }
                else
                {
                    WriteThr(value);
                }

                break;
            case 1:
                if (Dlab)
                {
                    _dlm = value;
                }
                else
                {
                    WriteIer(value);
                }

                break;
            case 2:
                WriteFcr(value);
                break;
            case 3:
                _lcr = value;
                break;
            case 4:
                WriteMcr(value);
                break;
            case 5:
            case 6:
                // LSR and MSR are read-only (LSR writes are a factory test mode).
                break;
            default:
                _scr = value;
                break;
        }

        UpdateInterrupt();
    }

    private bool Dlab => (_lcr & LcrDlab) != 0;

    private bool FifosEnabled => (_fcr & FcrEnable) != 0;

    private bool Loopback => (_mcr & McrLoop) != 0;

    private int RxCapacity => FifosEnabled ? FifoSize : 1;

    private int TriggerLevel => (_fcr >> 6) switch { 0 => 1, 1 => 4, 2 => 8, _ => 14 };

    private byte ReadRbr()
    {
        if (_rxCount > 0)
        {
            _rbr = _rx[_rxHead];
            _rxHead = (_rxHead + 1) % FifoSize;
            _rxCount--;
        }

        // An empty receiver reads back the last character received.
        return _rbr;
    }

    private byte ReadIir()
    {
        byte id = PendingInterrupt();
        if (id == IirThre)
        {
            _thrInterrupt = false;
        }

        return (byte)(id | (FifosEnabled ? IirFifosEnabled : 0));
    }

    private byte ReadLsr()
    {
        byte value = LsrThre | LsrTemt;
        if (_rxCount > 0)
        {
            value |= LsrDr;
        }

        if (_overrun)
        {
            value |= LsrOe;
            _overrun = false;
        }

        return value;
    }

    private byte ReadMsr()
    {
        byte value = (byte)(_modemInputs | _modemDeltas);
        _modemDeltas = 0;
        return value;
    }

    private void WriteThr(byte value)
    {
        // The write empties nothing yet: THR is full until the (instant) transmission.
        _thrInterrupt = false;
        UpdateInterrupt();

        if (Loopback)
        {
            Receive(value);
        }
        else
        {
            _output(value);
        }

        // Transmitted: THR and the shift register are empty again.
        _thrInterrupt = (_ier & IerThre) != 0;
    }

    private void WriteIer(byte value)
    {
        byte old = _ier;
        _ier = (byte)(value & 0x0F);
        if ((_ier & IerThre) == 0)
        {
            _thrInterrupt = false;
        }
        else if ((old & IerThre) == 0)
        {
            // Enabling the THRE interrupt while THR is empty raises it at once (THR is always
            // empty here: transmission is instantaneous).
            _thrInterrupt = true;
        }
    }

    private void WriteFcr(byte value)
    {
        bool enable = (value & FcrEnable) != 0;
        if (enable != FifosEnabled)
        {
            // Switching between FIFO and 16450 mode empties the FIFOs.
            ClearRx();
        }

        if (!enable)
        {
            // The other FCR bits are only programmed together with FCR0 = 1.
            _fcr = (byte)(_fcr & ~FcrEnable);
            return;
        }

        _fcr = (byte)(value & FcrStored);
        if ((value & FcrClearRx) != 0)
        {
            ClearRx();
        }

        // FCR bit 2 (clear the transmit FIFO) has nothing to do: transmission is instantaneous,
        // so the transmit FIFO is always empty.
    }

    private void WriteMcr(byte value)
    {
        bool wasLoopback = Loopback;
        _mcr = (byte)(value & 0x1F);
        UpdateModemInputs();
        if (wasLoopback && !Loopback)
        {
            // The serial input is connected again: host input may flow.
            DrainHostInput();
        }
    }

    /// <summary>
    /// Recomputes the modem status inputs (the MCR outputs in loopback, a modemless line
    /// otherwise) and latches the delta bits for the ones that changed.
    /// </summary>
    private void UpdateModemInputs()
    {
        byte inputs = MsrNoModem;
        if (Loopback)
        {
            inputs = 0;
            if ((_mcr & McrRts) != 0)
            {
                inputs |= MsrCts;
            }

            if ((_mcr & McrDtr) != 0)
            {
                inputs |= MsrDsr;
            }

            if ((_mcr & McrOut1) != 0)
            {
                inputs |= MsrRi;
            }

            if ((_mcr & McrOut2) != 0)
            {
                inputs |= MsrDcd;
            }
        }

        int changed = inputs ^ _modemInputs;
        if ((changed & MsrCts) != 0)
        {
            _modemDeltas |= MsrDcts;
        }

        if ((changed & MsrDsr) != 0)
        {
            _modemDeltas |= MsrDdsr;
        }

        if ((_modemInputs & MsrRi) != 0 && (inputs & MsrRi) == 0)
        {
            // Trailing edge of ring indicator: RI went from asserted to deasserted.
            _modemDeltas |= MsrTeri;
        }

        if ((changed & MsrDcd) != 0)
        {
            _modemDeltas |= MsrDdcd;
        }

        _modemInputs = inputs;
    }

    /// <summary>A character arrives in the receiver (from the serial input or the loopback).</summary>
    private void Receive(byte ch)
    {
        if (_rxCount < RxCapacity)
        {
            _rx[(_rxHead + _rxCount) % FifoSize] = ch;
            _rxCount++;
        }
        else if (FifosEnabled)
        {
            // FIFO full: the new character stays in the shift register and is lost.
            _overrun = true;
        }
        else
        {
            // 16450 mode: the new character overwrites the unread one.
            _rx[_rxHead] = ch;
            _overrun = true;
        }
    }

    private void ClearRx()
    {
        _rxHead = 0;
        _rxCount = 0;
    }

    /// <summary>Moves host input into the receiver while it has room; returns whether any moved.</summary>
    private bool DrainHostInput()
    {
        if (Volatile.Read(ref _hostInputCount) == 0 || Loopback || _rxCount >= RxCapacity)
        {
            return false;
        }

        bool moved = false;
        lock (_hostInputLock)
        {
            while (_rxCount < RxCapacity && _hostInput.TryDequeue(out byte b))
            {
                Receive(b);
                moved = true;
            }

            Volatile.Write(ref _hostInputCount, _hostInput.Count);
        }

        return moved;
    }

    /// <summary>The IIR bits 0-3 of the highest-priority pending interrupt, or <see cref="IirNone"/>.</summary>
    private byte PendingInterrupt()
    {
        if ((_ier & IerRls) != 0 && _overrun)
        {
            return IirRls;
        }

        if ((_ier & IerRda) != 0 && _rxCount > 0)
        {
            return !FifosEnabled || _rxCount >= TriggerLevel ? IirRda : IirTimeout;
        }

        if ((_ier & IerThre) != 0 && _thrInterrupt)
        {
            return IirThre;
        }

        if ((_ier & IerMsi) != 0 && _modemDeltas != 0)
        {
            return IirMsi;
        }

        return IirNone;
    }

    private void UpdateInterrupt()
    {
        bool level = PendingInterrupt() != IirNone && (_mcr & (McrOut2 | McrLoop)) == McrOut2;
        if (level != _lineLevel)
        {
            _lineLevel = level;
            _interrupt.SetLevel(level);
        }
    }
}
