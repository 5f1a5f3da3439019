using Emulator.Cpu;
using Emulator.Memory;
using Emulator.Platform;

namespace Emulator.Interrupts;

/// <summary>
/// The APIC bus: owns one <see cref="LocalApic"/> per CPU and routes interrupt messages (IPIs
/// from the ICRs, IOAPIC interrupts) to the local APICs they address. Delivery takes no time:
/// a message is accepted by its destinations before the write that sent it returns.
/// </summary>
/// <remarks>
/// Destinations are visited in CPU order, and lowest-priority delivery picks the APIC with the
/// lowest arbitration priority (<see cref="LocalApic.Apr"/>), ties going to the lowest APIC ID
/// and then the lowest CPU index, so a run is reproducible.
/// </remarks>
public sealed class ApicSystem
{
    private readonly LocalApic[] _apics;
    private readonly Dictionary<int, LocalApic> _byCpuId = [];
    private readonly List<Action<int>> _eoiListeners = [];
    private readonly List<LocalApic> _targets = [];
    private IInterruptSource? _extIntController;

    /// <param name="events">The machine's event queue (the APIC timers schedule their expiries there).</param>
    /// <param name="cpus">The CPUs, in CPU order.</param>
    /// <param name="cyclesPerBusTick">CPU cycles per APIC bus-clock tick (the timer's input before its divider).</param>
    public ApicSystem(EventQueue events, IReadOnlyList<IApicCpu> cpus, long cyclesPerBusTick = 1)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(cpus);
        ArgumentOutOfRangeException.ThrowIfLessThan(cyclesPerBusTick, 1);
        Events = events;
        CyclesPerBusTick = cyclesPerBusTick;
        _apics = new LocalApic[cpus.Count];
        for (int i = 0; i < cpus.Count; i++)
        {
            _apics[i] = new LocalApic(this, cpus[i], i);
            _byCpuId.Add(cpus[i].Id, _apics[i]);
        }

        Mmio = new LocalApicBus(this);
    }

    public EventQueue Events { get; }

    /// <summary>CPU cycles per tick of the APIC timer's bus clock (default 1).</summary>
    public long CyclesPerBusTick { get; }

    public IReadOnlyList<LocalApic> LocalApics => _apics;

    /// <summary>The MMIO device for the local APIC window; it answers each CPU with its own APIC.</summary>
    public LocalApicBus Mmio { get; }

    /// <summary>
    /// The 8259 pair, which answers the INTA of ExtINT interrupts (LINT0 in virtual-wire mode,
    /// IOAPIC ExtINT entries, ExtINT IPIs, and LINT0 as INTR while an APIC is globally disabled).
    /// </summary>
    public IInterruptSource? ExtIntController
    {
        get => _extIntController;
        set
        {
            _extIntController = value;
            foreach (var apic in _apics)
            {
                apic.Recompute();
            }
        }
    }

    /// <summary>Messages with the INIT level de-assert encoding seen (they have no effect).</summary>
    public long InitDeassertCount { get; private set; }

    /// <summary>The local APIC of the CPU whose <see cref="IApicCpu.Id"/> is <paramref name="cpuId"/>, or null.</summary>
    public LocalApic? ForCpu(int cpuId) => _byCpuId.GetValueOrDefault(cpuId);

    /// <summary>Maps the local APIC window at <see cref="PhysicalMap.LocalApicBase"/>.</summary>
    public void MapInto(MemoryBus bus) => bus.Map(PhysicalMap.LocalApicBase, LocalApicBus.WindowSize, Mmio);

    /// <summary>Registers a receiver of level-triggered EOIs (the IOAPIC), called with the vector.</summary>
    public void AddEoiListener(Action<int> listener) => _eoiListeners.Add(listener);

    /// <summary>
    /// What a PC BIOS leaves behind (SeaBIOS does exactly this): the bootstrap processor's APIC
    /// software-enabled with spurious vector 0xFF, LINT0 in ExtINT mode (the 8259 as a virtual
    /// wire) and LINT1 delivering NMI. Machines that load a kernel without firmware call it.
    /// </summary>
    public void ApplyFirmwareDefaults(int bspCpuId = 0)
    {
        var bsp = ForCpu(bspCpuId) ?? throw new ArgumentOutOfRangeException(nameof(bspCpuId));
        bsp.WriteRegister(LocalApic.RegSvr, 0x1FF);
        bsp.WriteRegister(LocalApic.RegLvtLint0, 0x700);
        bsp.WriteRegister(LocalApic.RegLvtLint1, 0x400);
    }

    /// <summary>A machine reset: every local APIC to its power-up state, then the firmware defaults again.</summary>
    public void Reset(int bspCpuId = 0)
    {
        foreach (var apic in _apics)
        {
            apic.Reset();
        }

        ApplyFirmwareDefaults(bspCpuId);
    }

    /// <summary>Delivers a message from outside the local APICs (the IOAPIC, or an MSI-like source).</summary>
    public void Deliver(in ApicMessage message) => Route(null, message);

    internal void BroadcastEoi(int vector)
    {
        foreach (var listener in _eoiListeners)
        {
            listener(vector);
        }
    }

    /// <summary>Told of every IPI a local APIC sends: the sender's CPU index, the message and the CPU indexes it reaches (the timeline); null when nobody listens.</summary>
    public Action<int, ApicMessage, int[]>? IpiSent;

    private void ReportIpi(LocalApic? source, in ApicMessage message, LocalApic? only)
    {
        if (IpiSent is { } sent && source is not null)
        {
            sent(source.Index, message, only is not null ? [only.Index] : _targets.Select(t => t.Index).ToArray());
        }
    }

    /// <summary>Routes a message; <paramref name="source"/> is the sending APIC for IPIs (shorthands refer to it).</summary>
    internal void Route(LocalApic? source, in ApicMessage message)
    {
        var mode = message.Mode;
        if (mode == DeliveryMode.Init && message.LevelTriggered && !message.Assert)
        {
            // INIT level de-assert: a synchronisation message older APICs used to reset their
            // arbitration IDs; nothing to do here.
            InitDeassertCount++;
            return;
        }

        if (mode is DeliveryMode.Smi or DeliveryMode.Reserved3)
        {
            return;
        }

        // Combinations SDM table 10-3 calls invalid are dropped.
        var shorthand = message.Shorthand;
        if ((shorthand == DestinationShorthand.Self && mode is not (DeliveryMode.Fixed or DeliveryMode.LowestPriority)) ||
            (shorthand == DestinationShorthand.AllIncludingSelf && mode is DeliveryMode.Init or DeliveryMode.Startup or DeliveryMode.LowestPriority))
        {
            return;
        }

        _targets.Clear();
        foreach (var apic in _apics)
        {
            bool selected = shorthand switch
            {
                DestinationShorthand.Self => apic == source,
                DestinationShorthand.AllIncludingSelf => true,
                DestinationShorthand.AllExcludingSelf => apic != source,
                _ => apic.MatchesDestination(message.Logical, message.Destination),
            };
            if (selected && apic.GloballyEnabled)
            {
                _targets.Add(apic);
            }
        }

        if (mode == DeliveryMode.LowestPriority && shorthand != DestinationShorthand.Self)
        {
            LocalApic? best = null;
            foreach (var apic in _targets)
            {
                if (apic.SoftwareEnabled && (best is null || IsLowerPriority(apic, best)))
                {
                    best = apic;
                }
            }

            if (best is not null)
            {
                ReportIpi(source, message, best);
            }

            best?.Receive(message);
            return;
        }

        ReportIpi(source, message, null);
        foreach (var apic in _targets)
        {
            apic.Receive(message);
        }
    }

    private static bool IsLowerPriority(LocalApic a, LocalApic b)
    {
        int pa = a.Apr;
        int pb = b.Apr;
        if (pa != pb)
        {
            return pa < pb;
        }

        return a.ApicId != b.ApicId ? a.ApicId < b.ApicId : a.Index < b.Index;
    }
}
