using Emulator.Cpu;
using Emulator.Devices;
using Emulator.Memory;

namespace Emulator.Interrupts;

/// <summary>
/// The PC's two cascaded 8259A programmable interrupt controllers: the master at ports
/// 0x20/0x21 (IRQ0-7) and the slave at 0xA0/0xA1 (IRQ8-15) on the master's IRQ2, plus the
/// edge/level control registers (ELCR) at 0x4D0/0x4D1. Its INTR output drives
/// <see cref="Output"/> (the bootstrap processor's LINT0); as an <see cref="IInterruptSource"/>
/// it answers the INTA cycle with a vector.
/// </summary>
/// <remarks>
/// <para>
/// Modelled: the ICW1-ICW4 initialisation sequence (ICW1 single mode and ICW3 are stored; the
/// cascade is always on IRQ2), OCW1 masks, OCW2 non-specific and specific EOI, rotation (on
/// non-specific EOI, on specific EOI, set priority, rotate in automatic EOI mode), OCW3 IRR/ISR
/// read select, poll and special mask mode, ICW4 automatic EOI and special fully nested mode.
/// 8080/8085 mode (ICW4 bit 0 clear) is treated as 8086 mode. Buffered mode is ignored.
/// </para>
/// <para>
/// Inputs are edge-triggered unless their ELCR bit (or ICW1's LTIM) makes them level-triggered:
/// a rising edge latches the request in IRR until INTA; a level-triggered request follows the
/// line. The cascade input (master IRQ2) is latched whenever the slave's INTR output is high,
/// not only on its rising edge, so a slave request still pending after an INTA is not lost for
/// want of a new edge; it stays latched when the slave's INTR drops (a slave request masked or
/// withdrawn before INTA gives a spurious IRQ15). ELCR bits for IRQ0, 1, 2, 8 and 13 read 0, as
/// on the PIIX.
/// </para>
/// <para>
/// INTA with no request pending returns the master's IRQ7 vector (spurious IRQ7, ISR unchanged);
/// when the master selects the cascade but the slave has nothing, it returns the slave's IRQ15
/// vector (spurious IRQ15) with the master's IRQ2 in service, as the hardware does.
/// </para>
/// </remarks>
public sealed class Pic8259Pair : IInterruptSource
{
    public const ushort MasterBase = 0x20;
    public const ushort SlaveBase = 0xA0;
    public const ushort ElcrBase = 0x4D0;
    public const int CascadeIrq = 2;

    private readonly Chip _master = new(isMaster: true, elcrMask: 0xF8);
    private readonly Chip _slave = new(isMaster: false, elcrMask: 0xDE);
    private readonly IInterruptLine[] _pins = new IInterruptLine[16];
    private readonly PortWindow _masterPorts;
    private readonly PortWindow _slavePorts;
    private readonly PortWindow _elcrPorts;
    private bool _intr;

    public Pic8259Pair(IInterruptLine? output = null)
    {
        Output = output;
        for (int i = 0; i < 16; i++)
        {
            _pins[i] = new Pin(this, i);
        }

        _masterPorts = new PortWindow(MasterBase, 2, o => ReadChip(_master, o), (o, v) => WriteChip(_master, o, v));
        _slavePorts = new PortWindow(SlaveBase, 2, o => ReadChip(_slave, o), (o, v) => WriteChip(_slave, o, v));
        _elcrPorts = new PortWindow(ElcrBase, 2, o => (o == 0 ? _master : _slave).Elcr, WriteElcr);
    }

    /// <summary>The INTR output (driven only when its level changes); wire it to the BSP's LINT0.</summary>
    public IInterruptLine? Output { get; set; }

    /// <summary>The INTR output level.</summary>
    public bool HasPendingInterrupt => _intr;

    /// <summary>INTA cycles that found no request (spurious IRQ7 or IRQ15).</summary>
    public long SpuriousCount { get; private set; }

    /// <summary>The vector bases ICW2 set (master, slave).</summary>
    public (int Master, int Slave) VectorBases => (_master.VectorBase, _slave.VectorBase);

    /// <summary>The interrupt request registers (IRQ0-7 in bits 0-7, IRQ8-15 in bits 8-15).</summary>
    public int Irr => _master.Irr | (_slave.Irr << 8);

    /// <summary>The in-service registers, as <see cref="Irr"/>.</summary>
    public int Isr => _master.Isr | (_slave.Isr << 8);

    /// <summary>The interrupt mask registers, as <see cref="Irr"/>.</summary>
    public int Imr => _master.Imr | (_slave.Imr << 8);

    /// <summary>The input line of IRQ <paramref name="irq"/> (0-15; IRQ2 is the cascade and is not wired to a device).</summary>
    public IInterruptLine GetPin(int irq) => _pins[irq];

    /// <summary>Claims 0x20-0x21, 0xA0-0xA1 and 0x4D0-0x4D1.</summary>
    public void RegisterOn(IoPortBus bus)
    {
        _masterPorts.RegisterOn(bus);
        _slavePorts.RegisterOn(bus);
        _elcrPorts.RegisterOn(bus);
    }

    /// <summary>
    /// The initialisation a PC BIOS performs: master vectors from <paramref name="masterBase"/>,
    /// slave from <paramref name="slaveBase"/>, cascade on IRQ2, every IRQ masked except the cascade.
    /// </summary>
    public void InitializeLikeBios(byte masterBase = 0x08, byte slaveBase = 0x70)
    {
        WriteChip(_master, 0, 0x11);
        WriteChip(_master, 1, masterBase);
        WriteChip(_master, 1, 1 << CascadeIrq);
        WriteChip(_master, 1, 0x01);
        WriteChip(_slave, 0, 0x11);
        WriteChip(_slave, 1, slaveBase);
        WriteChip(_slave, 1, CascadeIrq);
        WriteChip(_slave, 1, 0x01);
        WriteChip(_master, 1, 0xFF & ~(1 << CascadeIrq));
        WriteChip(_slave, 1, 0xFF);
    }

    /// <summary>The state after a machine reset: both chips uninitialised, nothing requested, in service or masked, ELCR 0; input levels are kept.</summary>
    public void Reset()
    {
        _master.Reset();
        _slave.Reset();
        Update();
    }

    /// <summary>INTA: the vector of the highest-priority request, which goes in service (unless in automatic EOI mode).</summary>
    public int AcknowledgeInterrupt()
    {
        int vector;
        int irq = _master.GetIrq();
        if (irq < 0)
        {
            SpuriousCount++;
            vector = _master.VectorBase + 7;
        }
        else
        {
            _master.Acknowledge(irq);
            if (irq != CascadeIrq)
            {
                vector = _master.VectorBase + irq;
            }
            else
            {
                int slaveIrq = _slave.GetIrq();
                if (slaveIrq >= 0)
                {
                    _slave.Acknowledge(slaveIrq);
                    vector = _slave.VectorBase + slaveIrq;
                }
                else
                {
                    SpuriousCount++;
                    vector = _slave.VectorBase + 7;
                }
            }
        }

        Update();
        return vector;
    }

    private void SetIrq(int irq, bool level)
    {
        if (irq < 8)
        {
            if (irq != CascadeIrq)
            {
                _master.SetInput(irq, level);
            }
        }
        else
        {
            _slave.SetInput(irq - 8, level);
        }

        Update();
    }

    /// <summary>A read may be a poll, which acknowledges like INTA.</summary>
    private byte ReadChip(Chip chip, int offset)
    {
        byte value = chip.Read(offset);
        Update();
        return value;
    }

    private void WriteChip(Chip chip, int offset, byte value)
    {
        chip.Write(offset, value);
        Update();
    }

    private void WriteElcr(int offset, byte value)
    {
        (offset == 0 ? _master : _slave).WriteElcr(value);
        Update();
    }

    /// <summary>Propagates the slave's INTR to the cascade input and the master's to <see cref="Output"/>.</summary>
    private void Update()
    {
        _master.SetCascade(_slave.GetIrq() >= 0);
        bool intr = _master.GetIrq() >= 0;
        if (intr != _intr)
        {
            _intr = intr;
            Output?.SetLevel(intr);
        }
    }

    private sealed class Pin(Pic8259Pair pair, int irq) : IInterruptLine
    {
        public void SetLevel(bool asserted) => pair.SetIrq(irq, asserted);
    }

    private sealed class PortWindow(ushort basePort, int count, Func<int, byte> read, Action<int, byte> write)
        : BytePortDevice(basePort, count)
    {
        protected override byte ReadByte(int offset) => read(offset);

        protected override void WriteByte(int offset, byte value) => write(offset, value);
    }

    /// <summary>One 8259A.</summary>
    private sealed class Chip(bool isMaster, byte elcrMask)
    {
        public byte Irr;
        public byte Isr;
        public byte Imr;
        public byte Elcr;
        public byte VectorBase;

        private byte _inputs;
        private int _lowestPriority = 7;
        private int _initStep;
        private bool _icw4Needed;
        private bool _single;
        private bool _levelMode;
        private bool _autoEoi;
        private bool _rotateOnAutoEoi;
        private bool _specialFullyNested;
        private bool _specialMask;
        private bool _readIsr;
        private bool _poll;

        private byte LevelMask => _levelMode ? (byte)0xFF : Elcr;

        public void Reset()
        {
            Irr = Isr = Imr = Elcr = VectorBase = 0;
            _lowestPriority = 7;
            _initStep = 0;
            _icw4Needed = _single = _levelMode = _autoEoi = _rotateOnAutoEoi = false;
            _specialFullyNested = _specialMask = _readIsr = _poll = false;
        }

        public void SetInput(int irq, bool level)
        {
            byte bit = (byte)(1 << irq);
            if ((LevelMask & bit) != 0)
            {
                Irr = level ? (byte)(Irr | bit) : (byte)(Irr & ~bit);
            }
            else if (level && (_inputs & bit) == 0)
            {
                Irr |= bit;
            }

            _inputs = level ? (byte)(_inputs | bit) : (byte)(_inputs & ~bit);
        }

        /// <summary>
        /// The master's IRQ2 is set whenever the slave's INTR is high (not only on its rising edge),
        /// and stays latched when INTR drops until INTA takes it.
        /// </summary>
        public void SetCascade(bool level)
        {
            byte bit = 1 << CascadeIrq;
            if (level)
            {
                Irr |= bit;
            }
            else if ((LevelMask & bit) != 0)
            {
                Irr &= (byte)~bit;
            }

            _inputs = level ? (byte)(_inputs | bit) : (byte)(_inputs & ~bit);
        }

        public void WriteElcr(byte value)
        {
            Elcr = (byte)(value & elcrMask);
            Irr = (byte)((Irr & ~LevelMask) | (_inputs & LevelMask));
        }

        /// <summary>Priority rank (0 highest) of the highest set bit of <paramref name="bits"/>, 8 when none.</summary>
        private int Rank(int bits)
        {
            for (int rank = 0; rank < 8; rank++)
            {
                if ((bits & (1 << ((rank + _lowestPriority + 1) & 7))) != 0)
                {
                    return rank;
                }
            }

            return 8;
        }

        private int IrqOfRank(int rank) => (rank + _lowestPriority + 1) & 7;

        /// <summary>The IRQ the chip would signal on INTR now, or -1.</summary>
        public int GetIrq()
        {
            int request = Rank(Irr & ~Imr);
            if (request == 8)
            {
                return -1;
            }

            int inService = Isr;
            if (_specialMask)
            {
                inService &= ~Imr;
            }

            if (_specialFullyNested && isMaster)
            {
                inService &= ~(1 << CascadeIrq);
            }

            return request < Rank(inService) ? IrqOfRank(request) : -1;
        }

        public void Acknowledge(int irq)
        {
            byte bit = (byte)(1 << irq);
            if (_autoEoi)
            {
                if (_rotateOnAutoEoi)
                {
                    _lowestPriority = irq;
                }
            }
            else
            {
                Isr |= bit;
            }

            if ((LevelMask & bit) == 0)
            {
                Irr &= (byte)~bit;
            }
        }

        public byte Read(int offset)
        {
            if (_poll)
            {
                _poll = false;
                int irq = GetIrq();
                if (irq < 0)
                {
                    return 0;
                }

                Acknowledge(irq);
                return (byte)(0x80 | irq);
            }

            return offset == 1 ? Imr : _readIsr ? Isr : Irr;
        }

        public void Write(int offset, byte value)
        {
            if (offset == 0)
            {
                if ((value & 0x10) != 0)
                {
                    Icw1(value);
                }
                else if ((value & 0x08) != 0)
                {
                    Ocw3(value);
                }
                else
                {
                    Ocw2(value);
                }

                return;
            }

            switch (_initStep)
            {
                case 0:
                    Imr = value;
                    break;
                case 1:
                    VectorBase = (byte)(value & 0xF8);
                    _initStep = !_single ? 2 : _icw4Needed ? 3 : 0;
                    break;
                case 2:
                    _initStep = _icw4Needed ? 3 : 0;
                    break;
                case 3:
                    _autoEoi = (value & 0x02) != 0;
                    _specialFullyNested = (value & 0x10) != 0;
                    _initStep = 0;
                    break;
            }
        }

        /// <summary>
        /// ICW1 starts initialisation: IMR and ISR cleared, IR7 lowest priority, special mask
        /// mode off, IRR selected for reading, edge requests forgotten (a new edge is needed).
        /// </summary>
        private void Icw1(byte value)
        {
            _icw4Needed = (value & 0x01) != 0;
            _single = (value & 0x02) != 0;
            _levelMode = (value & 0x08) != 0;
            Imr = 0;
            Isr = 0;
            _lowestPriority = 7;
            _specialMask = false;
            _readIsr = false;
            _poll = false;
            _autoEoi = false;
            _rotateOnAutoEoi = false;
            _specialFullyNested = false;
            Irr = (byte)(_inputs & LevelMask);
            _initStep = 1;
        }

        private void Ocw2(byte value)
        {
            int level = value & 7;
            switch (value >> 5)
            {
                case 0: // clear rotate in automatic EOI mode
                    _rotateOnAutoEoi = false;
                    break;
                case 4: // set rotate in automatic EOI mode
                    _rotateOnAutoEoi = true;
                    break;
                case 1: // non-specific EOI
                case 5: // rotate on non-specific EOI
                    int rank = Rank(Isr);
                    if (rank < 8)
                    {
                        int irq = IrqOfRank(rank);
                        Isr &= (byte)~(1 << irq);
                        if ((value >> 5) == 5)
                        {
                            _lowestPriority = irq;
                        }
                    }

                    break;
                case 3: // specific EOI
                    Isr &= (byte)~(1 << level);
                    break;
                case 7: // rotate on specific EOI
                    Isr &= (byte)~(1 << level);
                    _lowestPriority = level;
                    break;
                case 6: // set priority
                    _lowestPriority = level;
                    break;
            }
        }

        private void Ocw3(byte value)
        {
            if ((value & 0x04) != 0)
            {
                _poll = true;
            }

            if ((value & 0x02) != 0)
            {
                _readIsr = (value & 0x01) != 0;
            }

            if ((value & 0x40) != 0)
            {
                _specialMask = (value & 0x20) != 0;
            }
        }
    }
}
