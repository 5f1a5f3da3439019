using System.Numerics;
using Emulator.Cpu;
using Emulator.Devices;
using Emulator.Platform;

namespace Emulator.Interrupts;

/// <summary>
/// A local xAPIC (SDM Vol. 3, ch. 10), one per CPU: the register file behind the 0xFEE00000
/// window, interrupt acceptance and priority (IRR, ISR, TMR, TPR, PPR, APR), EOI, the interrupt
/// command register that sends IPIs, the local vector table (timer, thermal, performance
/// counter, LINT0, LINT1, error) and the timer. It is its CPU's <see cref="IInterruptSource"/>.
/// </summary>
/// <remarks>
/// <para>
/// Messages (IPIs, IOAPIC interrupts) are delivered at once: the ICR and LVT delivery-status
/// bits always read 0. The timer counts a bus clock of <see cref="ApicSystem.CyclesPerBusTick"/>
/// CPU cycles per tick, read from the CPU's cycle clock, and raises its interrupt from an
/// <see cref="EventQueue"/> event due at the exact expiry cycle.
/// </para>
/// <para>
/// NMIs are not maskable interrupts: the CPU loop takes them with <see cref="TakeNmi"/> (vector 2).
/// While the APIC is globally disabled (IA32_APIC_BASE bit 11, see <see cref="SetGloballyEnabled"/>)
/// LINT0 acts as the CPU's INTR pin (the 8259 through <see cref="ApicSystem.ExtIntController"/>) and
/// LINT1 as its NMI pin, as on a processor without a local APIC.
/// </para>
/// </remarks>
public sealed class LocalApic : IInterruptSource, INmiSource
{
    public const int RegId = 0x20;
    public const int RegVersion = 0x30;
    public const int RegTpr = 0x80;
    public const int RegApr = 0x90;
    public const int RegPpr = 0xA0;
    public const int RegEoi = 0xB0;
    public const int RegRrd = 0xC0;
    public const int RegLdr = 0xD0;
    public const int RegDfr = 0xE0;
    public const int RegSvr = 0xF0;
    public const int RegIsr = 0x100;
    public const int RegTmr = 0x180;
    public const int RegIrr = 0x200;
    public const int RegEsr = 0x280;
    public const int RegIcrLow = 0x300;
    public const int RegIcrHigh = 0x310;
    public const int RegLvtTimer = 0x320;
    public const int RegLvtThermal = 0x330;
    public const int RegLvtPerf = 0x340;
    public const int RegLvtLint0 = 0x350;
    public const int RegLvtLint1 = 0x360;
    public const int RegLvtError = 0x370;
    public const int RegTimerInitial = 0x380;
    public const int RegTimerCurrent = 0x390;
    public const int RegTimerDivide = 0x3E0;

    /// <summary>Version 0x14 (an integrated xAPIC), maximum LVT entry 5 (six entries).</summary>
    public const uint VersionValue = 0x00050014;

    /// <summary>The LVT mask bit.</summary>
    public const uint LvtMask = 1u << 16;

    /// <summary>LVT timer bit 17: periodic mode (clear: one-shot).</summary>
    public const uint TimerPeriodic = 1u << 17;

    /// <summary>SVR bit 8: APIC software enable.</summary>
    public const uint SvrEnable = 1u << 8;

    public const uint EsrSendIllegalVector = 1u << 5;
    public const uint EsrReceiveIllegalVector = 1u << 6;
    public const uint EsrIllegalRegister = 1u << 7;

    private const int LvtTimer = 0;
    private const int LvtLint0 = 3;
    private const int LvtLint1 = 4;
    private const int LvtError = 5;
    private const int LvtCount = 6;
    private const uint LvtRemoteIrr = 1u << 14;
    private const uint LvtLevel = 1u << 15;

    // Writable bits per LVT entry: timer; thermal; performance; LINT0; LINT1; error.
    private static readonly uint[] LvtWritable = [0x000300FF, 0x000107FF, 0x000107FF, 0x0001A7FF, 0x0001A7FF, 0x000100FF];

    private readonly ApicSystem _system;
    private readonly IApicCpu _cpu;
    private readonly uint[] _irr = new uint[8];
    private readonly uint[] _isr = new uint[8];
    private readonly uint[] _tmr = new uint[8];
    private readonly uint[] _lvt = new uint[LvtCount];
    private readonly bool[] _lintLevel = new bool[2];

    private uint _id;
    private uint _tpr;
    private uint _ldr;
    private uint _dfr;
    private uint _svr;
    private uint _esr;
    private uint _esrPending;
    private bool _signallingError;
    private uint _icrLow;
    private uint _icrHigh;
    private uint _divide;
    private bool _nmiPending;
    private bool _extIntPending;
    private bool _globallyEnabled = true;

    // HasPendingInterrupt is read by the CPU loop before every block: it is kept up to date
    // after each change instead of being computed from IRR/ISR on every read.
    private bool _pending;

    // Timer: counting started at _timerStart from _timerStartCount; after reaching 0 a periodic
    // timer reloads _timerInitial.
    private uint _timerInitial;
    private long _timerStart;
    private uint _timerStartCount;
    private bool _timerRunning;
    private EventQueue.Event? _timerEvent;

    internal LocalApic(ApicSystem system, IApicCpu cpu, int index)
    {
        _system = system;
        _cpu = cpu;
        Index = index;
        Lint0 = new LintPin(this, 0);
        Lint1 = new LintPin(this, 1);
        _id = (uint)cpu.ApicId << 24;
        ResetState();
    }

    /// <summary>The CPU this APIC belongs to.</summary>
    public IApicCpu Cpu => _cpu;

    /// <summary>Position in <see cref="ApicSystem.LocalApics"/>.</summary>
    public int Index { get; }

    /// <summary>The APIC ID (ID register bits 24-31).</summary>
    public int ApicId => (int)(_id >> 24);

    /// <summary>The LINT0 input pin (the 8259's INTR on the bootstrap processor).</summary>
    public IInterruptLine Lint0 { get; }

    /// <summary>The LINT1 input pin (NMI on a PC).</summary>
    public IInterruptLine Lint1 { get; }

    /// <summary>IA32_APIC_BASE bit 11.</summary>
    public bool GloballyEnabled => _globallyEnabled;

    /// <summary>SVR bit 8 (and the APIC globally enabled).</summary>
    public bool SoftwareEnabled => _globallyEnabled && (_svr & SvrEnable) != 0;

    public int SpuriousVector => (int)(_svr & 0xFF);

    /// <summary>True while an NMI waits for the CPU to take it (<see cref="TakeNmi"/>).</summary>
    public bool NmiPending => _nmiPending;

    /// <summary>Task priority register.</summary>
    public int Tpr => (int)_tpr;

    /// <summary>Processor priority: TPR, or the class of the highest in-service vector if higher.</summary>
    public int Ppr
    {
        get
        {
            int isrClass = Math.Max(Highest(_isr), 0) & 0xF0;
            return (int)(_tpr & 0xF0) >= isrClass ? (int)_tpr : isrClass;
        }
    }

    /// <summary>
    /// Arbitration priority (SDM figure 10-15): TPR when its class is at least the highest
    /// requested and above the highest in-service class, otherwise the highest of the three classes.
    /// </summary>
    public int Apr
    {
        get
        {
            int tprClass = (int)(_tpr & 0xF0);
            int irrClass = Math.Max(Highest(_irr), 0) & 0xF0;
            int isrClass = Math.Max(Highest(_isr), 0) & 0xF0;
            if (tprClass >= irrClass && tprClass > isrClass)
            {
                return (int)_tpr;
            }

            return Math.Max(tprClass, Math.Max(irrClass, isrClass));
        }
    }

    /// <summary>
    /// True when the CPU has a maskable interrupt to take: ExtINT from the 8259, or the highest
    /// requested vector's class above the processor priority.
    /// </summary>
    public bool HasPendingInterrupt => _pending;

    /// <summary>What <see cref="HasPendingInterrupt"/> caches, computed from the registers.</summary>
    internal bool ComputePendingInterrupt()
    {
        if (!_globallyEnabled)
        {
            return _lintLevel[0] && _system.ExtIntController is not null;
        }

        return ExtIntActive || HighestDeliverable() >= 0;
    }

    /// <summary>Recomputes <see cref="HasPendingInterrupt"/> after a change outside this APIC (the ExtINT controller).</summary>
    internal void Recompute() => _pending = ComputePendingInterrupt();

    private bool ExtIntActive =>
        _system.ExtIntController is not null &&
        (_extIntPending || (_lintLevel[0] && (_lvt[LvtLint0] & (LvtMask | 0x700)) == 0x700));

    /// <summary>
    /// INTA: an ExtINT takes its vector from the 8259; otherwise the highest deliverable requested
    /// vector moves from IRR to ISR. With nothing deliverable, returns the spurious vector.
    /// </summary>
    public int AcknowledgeInterrupt()
    {
        int vector = Acknowledge();
        Recompute();
        return vector;
    }

    private int Acknowledge()
    {
        var pic = _system.ExtIntController;
        if (!_globallyEnabled)
        {
            return pic?.AcknowledgeInterrupt() ?? SpuriousVector;
        }

        if (ExtIntActive)
        {
            _extIntPending = false;
            return pic!.AcknowledgeInterrupt();
        }

        int v = HighestDeliverable();
        if (v < 0)
        {
            return SpuriousVector;
        }

        _irr[v >> 5] &= ~(1u << (v & 31));
        _isr[v >> 5] |= 1u << (v & 31);
        return v;
    }

    /// <summary>Takes a pending NMI (the CPU then delivers vector 2); false when none.</summary>
    public bool TakeNmi()
    {
        bool pending = _nmiPending;
        _nmiPending = false;
        return pending;
    }

    /// <summary>
    /// IA32_APIC_BASE bit 11. Clearing it disables the APIC: it accepts no messages, its window
    /// reads all-ones, LINT0/LINT1 become INTR/NMI, and its registers return to their power-up
    /// state (SDM 10.4.3 allows losing them). Setting it again leaves the APIC software-disabled.
    /// </summary>
    public void SetGloballyEnabled(bool enabled)
    {
        if (enabled == _globallyEnabled)
        {
            return;
        }

        _globallyEnabled = enabled;
        if (!enabled)
        {
            ResetState();
        }

        Notify();
    }

    /// <summary>Whether this APIC is a destination of a message's (non-shorthand) destination field.</summary>
    public bool MatchesDestination(bool logical, byte destination)
    {
        if (!logical)
        {
            return destination == 0xFF || destination == (byte)(_id >> 24);
        }

        byte ldr = (byte)(_ldr >> 24);
        if ((_dfr >> 28) == 0xF)
        {
            return (ldr & destination) != 0; // flat: a bit mask of eight APICs
        }

        // Cluster: high nibble selects the cluster (15 = all clusters), low nibble the APICs in it.
        bool cluster = (destination >> 4) == 0xF || (destination >> 4) == (ldr >> 4);
        return cluster && (ldr & destination & 0xF) != 0;
    }

    /// <summary>Reads a register by its offset in the window (16-byte aligned).</summary>
    public uint ReadRegister(int offset)
    {
        switch (offset)
        {
            case RegId: return _id;
            case RegVersion: return VersionValue;
            case RegTpr: return _tpr;
            case RegApr: return (uint)Apr;
            case RegPpr: return (uint)Ppr;
            case RegEoi: return 0;
            case RegRrd: return 0;
            case RegLdr: return _ldr;
            case RegDfr: return _dfr;
            case RegSvr: return _svr;
            case RegEsr: return _esr;
            case RegIcrLow: return _icrLow;
            case RegIcrHigh: return _icrHigh;
            case RegTimerInitial: return _timerInitial;
            case RegTimerCurrent: return CurrentCount(_cpu.Cycles);
            case RegTimerDivide: return _divide;
        }

        if (offset >= RegIsr && offset < RegEsr)
        {
            int i = (offset - RegIsr) >> 4;
            return i < 8 ? _isr[i] : i < 16 ? _tmr[i - 8] : _irr[i - 16];
        }

        if (offset >= RegLvtTimer && offset <= RegLvtError)
        {
            return _lvt[(offset - RegLvtTimer) >> 4];
        }

        RecordError(EsrIllegalRegister);
        return 0;
    }

    /// <summary>Writes a register by its offset in the window (16-byte aligned); read-only registers ignore it.</summary>
    public void WriteRegister(int offset, uint value)
    {
        switch (offset)
        {
            case RegId:
                _id = value & 0xFF000000;
                return;
            case RegVersion:
            case RegApr:
            case RegPpr:
            case RegRrd:
            case RegTimerCurrent:
                return;
            case RegTpr:
                _tpr = value & 0xFF;
                Notify();
                return;
            case RegEoi:
                Eoi();
                return;
            case RegLdr:
                _ldr = value & 0xFF000000;
                return;
            case RegDfr:
                _dfr = value | 0x0FFFFFFF;
                return;
            case RegSvr:
                WriteSvr(value);
                return;
            case RegEsr:
                _esr = _esrPending;
                _esrPending = 0;
                return;
            case RegIcrLow:
                _icrLow = value & 0x000CCFFF;
                SendIpi();
                return;
            case RegIcrHigh:
                _icrHigh = value & 0xFF000000;
                return;
            case RegTimerInitial:
                WriteInitialCount(value);
                return;
            case RegTimerDivide:
                WriteDivide(value);
                return;
        }

        if (offset >= RegIsr && offset < RegEsr)
        {
            return;
        }

        if (offset >= RegLvtTimer && offset <= RegLvtError)
        {
            WriteLvt((offset - RegLvtTimer) >> 4, value);
            return;
        }

        RecordError(EsrIllegalRegister);
    }

    /// <summary>Whether <paramref name="vector"/>'s bit is set in IRR.</summary>
    public bool IsRequested(int vector) => (_irr[vector >> 5] & (1u << (vector & 31))) != 0;

    /// <summary>Whether <paramref name="vector"/>'s bit is set in ISR.</summary>
    public bool IsInService(int vector) => (_isr[vector >> 5] & (1u << (vector & 31))) != 0;

    /// <summary>
    /// Accepts a fixed (or lowest-priority) interrupt into IRR; TMR records the trigger mode.
    /// A software-disabled APIC drops it; vectors 0-15 are illegal and set ESR bit 6.
    /// </summary>
    public void AcceptFixed(int vector, bool levelTriggered)
    {
        if (!SoftwareEnabled)
        {
            return;
        }

        if (vector < 16)
        {
            RecordError(EsrReceiveIllegalVector);
            return;
        }

        uint bit = 1u << (vector & 31);
        _irr[vector >> 5] |= bit;
        if (levelTriggered)
        {
            _tmr[vector >> 5] |= bit;
        }
        else
        {
            _tmr[vector >> 5] &= ~bit;
        }

        Notify();
    }

    /// <summary>Receives one message routed by the <see cref="ApicSystem"/>.</summary>
    internal void Receive(in ApicMessage message)
    {
        switch (message.Mode)
        {
            case DeliveryMode.Fixed:
            case DeliveryMode.LowestPriority:
                AcceptFixed(message.Vector, message.LevelTriggered);
                break;
            case DeliveryMode.Nmi:
                RaiseNmi();
                break;
            case DeliveryMode.Init:
                ReceiveInit();
                break;
            case DeliveryMode.Startup:
                _cpu.ApplyStartup(message.Vector & 0xFF);
                break;
            case DeliveryMode.ExtInt:
                if (SoftwareEnabled)
                {
                    _extIntPending = true;
                    Notify();
                }

                break;
        }
    }

    private void RaiseNmi()
    {
        _nmiPending = true;
        _cpu.RequestExit();
        _cpu.Wake(maskable: false);
    }

    /// <summary>A machine reset: the power-up state (ID kept), globally enabled again.</summary>
    public void Reset()
    {
        _globallyEnabled = true;
        ResetState();
        Recompute();
    }

    /// <summary>INIT: the APIC returns to its power-up state (keeping its ID) and the CPU waits for STARTUP.</summary>
    private void ReceiveInit()
    {
        ResetState();
        Recompute();
        _cpu.ApplyInit();
        _cpu.RequestExit();
    }

    /// <summary>The state after power-up or INIT (SDM 10.4.7.1); the ID register is kept.</summary>
    private void ResetState()
    {
        Array.Clear(_irr);
        Array.Clear(_isr);
        Array.Clear(_tmr);
        _tpr = 0;
        _ldr = 0;
        _dfr = 0xFFFFFFFF;
        _svr = 0xFF;
        _esr = 0;
        _esrPending = 0;
        _icrLow = 0;
        _icrHigh = 0;
        for (int i = 0; i < LvtCount; i++)
        {
            _lvt[i] = LvtMask;
        }

        _divide = 0;
        StopTimer();
        _timerInitial = 0;
        _nmiPending = false;
        _extIntPending = false;
    }

    private void WriteSvr(uint value)
    {
        _svr = value & 0x3FF;
        if ((_svr & SvrEnable) == 0)
        {
            for (int i = 0; i < LvtCount; i++)
            {
                _lvt[i] |= LvtMask;
            }
        }

        Notify();
    }

    private void WriteLvt(int index, uint value)
    {
        long now = _cpu.Cycles;
        uint count = CurrentCount(now);
        uint old = _lvt[index];
        uint writable = LvtWritable[index];
        uint v = (old & ~writable) | (value & writable);
        if ((_svr & SvrEnable) == 0)
        {
            v |= LvtMask;
        }

        if (index == LvtLint0 && (v & LvtLevel) == 0)
        {
            v &= ~LvtRemoteIrr;
        }

        _lvt[index] = v;
        if (index == LvtTimer && ((old ^ v) & TimerPeriodic) != 0 && _timerRunning)
        {
            StartTimer(now, count);
        }

        if (index == LvtLint0 || index == LvtLint1)
        {
            ServiceLint(index - LvtLint0, rising: false);
        }

        Recompute();
    }

    private void OnLint(int pin, bool asserted)
    {
        bool rising = asserted && !_lintLevel[pin];
        _lintLevel[pin] = asserted;
        if (!_globallyEnabled)
        {
            if (pin == 1 && rising)
            {
                RaiseNmi();
            }

            Notify();
            return;
        }

        ServiceLint(pin, rising);
        Recompute();
    }

    /// <summary>Acts on a LINT pin's level or rising edge as its LVT entry says.</summary>
    private void ServiceLint(int pin, bool rising)
    {
        uint lvt = _lvt[LvtLint0 + pin];
        if ((lvt & LvtMask) != 0)
        {
            return;
        }

        bool level = _lintLevel[pin];
        switch ((DeliveryMode)((lvt >> 8) & 7))
        {
            case DeliveryMode.Fixed:
                if (pin == 0 && (lvt & LvtLevel) != 0)
                {
                    if (level && (lvt & LvtRemoteIrr) == 0)
                    {
                        _lvt[LvtLint0] = lvt | LvtRemoteIrr;
                        AcceptFixed((int)(lvt & 0xFF), levelTriggered: true);
                    }
                }
                else if (rising)
                {
                    AcceptFixed((int)(lvt & 0xFF), levelTriggered: false);
                }

                break;
            case DeliveryMode.Nmi:
                if (rising)
                {
                    RaiseNmi();
                }

                break;
            case DeliveryMode.Init:
                if (rising)
                {
                    ReceiveInit();
                }

                break;
            case DeliveryMode.ExtInt:
                Notify();
                break;
        }
    }

    private void Eoi()
    {
        int v = Highest(_isr);
        if (v < 0)
        {
            return;
        }

        uint bit = 1u << (v & 31);
        _isr[v >> 5] &= ~bit;
        if ((_tmr[v >> 5] & bit) != 0)
        {
            uint lint0 = _lvt[LvtLint0];
            if ((lint0 & LvtRemoteIrr) != 0 && (lint0 & 0xFF) == v)
            {
                _lvt[LvtLint0] = lint0 & ~LvtRemoteIrr;
                ServiceLint(0, rising: false);
            }

            _system.BroadcastEoi(v);
        }

        Notify();
    }

    private void SendIpi()
    {
        int vector = (int)(_icrLow & 0xFF);
        var mode = (DeliveryMode)((_icrLow >> 8) & 7);
        if ((mode is DeliveryMode.Fixed or DeliveryMode.LowestPriority) && vector < 16)
        {
            RecordError(EsrSendIllegalVector);
            return;
        }

        // The trigger-mode bit only matters for INIT (level de-assert); other IPIs are edge-triggered.
        var message = new ApicMessage(
            vector,
            mode,
            Logical: (_icrLow & (1u << 11)) != 0,
            Destination: (byte)(_icrHigh >> 24),
            LevelTriggered: mode == DeliveryMode.Init && (_icrLow & (1u << 15)) != 0,
            Assert: (_icrLow & (1u << 14)) != 0,
            Shorthand: (DestinationShorthand)((_icrLow >> 18) & 3));
        _system.Route(this, message);
    }

    /// <summary>Logs an error in the ESR and raises the LVT error interrupt if it is unmasked.</summary>
    private void RecordError(uint bits)
    {
        _esrPending |= bits;
        uint lvt = _lvt[LvtError];
        if ((lvt & LvtMask) == 0 && !_signallingError)
        {
            _signallingError = true;
            AcceptFixed((int)(lvt & 0xFF), levelTriggered: false);
            _signallingError = false;
        }
    }

    /// <summary>Tells the CPU about a deliverable maskable interrupt so it leaves its block or HLT.</summary>
    private void Notify()
    {
        Recompute();
        if (_pending)
        {
            _cpu.RequestExit();
            _cpu.Wake(maskable: true);
        }
    }

    private int HighestDeliverable()
    {
        int v = Highest(_irr);
        return v >= 0 && (v & 0xF0) > (Ppr & 0xF0) ? v : -1;
    }

    private static int Highest(uint[] bits)
    {
        for (int i = 7; i >= 0; i--)
        {
            if (bits[i] != 0)
            {
                return (i * 32) + 31 - BitOperations.LeadingZeroCount(bits[i]);
            }
        }

        return -1;
    }

    // ---- Timer ----

    /// <summary>The divisor DCR selects: bits 0, 1 and 3 encode 2, 4, 8, 16, 32, 64, 128, 1.</summary>
    public int TimerDivisor
    {
        get
        {
            int code = (int)((_divide & 3) | ((_divide >> 1) & 4));
            return code == 7 ? 1 : 2 << code;
        }
    }

    /// <summary>CPU cycles per timer tick.</summary>
    private long TickCycles => _system.CyclesPerBusTick * TimerDivisor;

    /// <summary>The current-count register at CPU cycle <paramref name="now"/>.</summary>
    public uint CurrentCount(long now)
    {
        if (!_timerRunning)
        {
            return 0;
        }

        long ticks = Math.Max(0, now - _timerStart) / TickCycles;
        if (ticks < _timerStartCount)
        {
            return (uint)(_timerStartCount - ticks);
        }

        if ((_lvt[LvtTimer] & TimerPeriodic) == 0)
        {
            return 0;
        }

        long after = ticks - _timerStartCount;
        return (uint)(_timerInitial - (after % _timerInitial));
    }

    /// <summary>The cycle at which the timer next reaches zero, or null when it is stopped.</summary>
    public long? TimerDeadline => _timerEvent?.Time;

    private void WriteInitialCount(uint value)
    {
        _timerInitial = value;
        if (value == 0)
        {
            StopTimer();
            return;
        }

        StartTimer(_cpu.Cycles, value);
    }

    private void WriteDivide(uint value)
    {
        long now = _cpu.Cycles;
        uint count = CurrentCount(now);
        _divide = value & 0xB;
        if (_timerRunning)
        {
            StartTimer(now, count);
        }
    }

    private void StartTimer(long now, uint count)
    {
        EventQueue.Cancel(_timerEvent);
        _timerRunning = true;
        _timerStart = now;
        _timerStartCount = count;
        _timerEvent = _system.Events.Schedule(now + (count * TickCycles), EventQueue.Priorities.Timer, TimerExpired);
    }

    private void StopTimer()
    {
        EventQueue.Cancel(_timerEvent);
        _timerEvent = null;
        _timerRunning = false;
    }

    private void TimerExpired(long due)
    {
        _timerEvent = null;
        uint lvt = _lvt[LvtTimer];
        if ((lvt & TimerPeriodic) != 0 && _timerInitial != 0)
        {
            StartTimer(due, _timerInitial);
        }
        else
        {
            _timerRunning = false;
        }

        if ((lvt & LvtMask) == 0)
        {
            AcceptFixed((int)(lvt & 0xFF), levelTriggered: false);
        }
    }

    private sealed class LintPin(LocalApic apic, int pin) : IInterruptLine
    {
        public void SetLevel(bool asserted) => apic.OnLint(pin, asserted);
    }
}
