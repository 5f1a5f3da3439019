using Emulator.Cpu;
using Emulator.Cpu.Decode;
using Emulator.Devices;
using Emulator.Interrupts;
using Emulator.Loading;
using Emulator.Memory;
using Emulator.Platform.Firmware;
using Emulator.Timing;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Platform;

/// <summary>Why <see cref="Machine.Run"/> returned.</summary>
public enum StopReason
{
    /// <summary>The guest wrote the debug-exit port.</summary>
    GuestExit,

    /// <summary>Every CPU halted with nothing left that could wake it (a clean halt).</summary>
    Halted,

    InstructionLimit,

    CycleLimit,

    TripleFault,

    /// <summary>The host asked the machine to stop (Ctrl-C, a debugger).</summary>
    HostRequest,

    /// <summary>A CPU reached a breakpoint (it has not executed the instruction there yet).</summary>
    Breakpoint,

    /// <summary>The guest asked for a reset (port 0x92, the keyboard controller) and the machine is set to stop on it.</summary>
    ResetRequest,

    /// <summary>A reset (a triple fault, a guest request) would have exceeded <see cref="MachineConfig.MaxResets"/>.</summary>
    ResetLimit,
}

/// <summary>The outcome of a run.</summary>
public sealed record RunResult(StopReason Reason, int GuestExitStatus, long Instructions, long Cycles, string Message)
{
    /// <summary>The CPU concerned (the one at a breakpoint), or -1.</summary>
    public int Cpu { get; init; } = -1;
}

/// <summary>
/// A PC: RAM, the port and memory buses, the shared code cache, the vCPUs, the devices and the
/// deterministic scheduler. The CPUs run in the order of their own cycle clocks (lowest first,
/// ties to the lowest id), each for at most a quantum, so a run is reproducible bit for bit.
/// </summary>
public sealed class Machine : IDisposable, IMachineControl
{
    private readonly Action<byte> _serialOut;

    // The configuration's scheduling values, read every slice: plain fields rather than the
    // record's nullable properties.
    private readonly long _maxCycles;
    private readonly long _quantum;
    private int? _exitStatus;
    private volatile bool _stopRequested;
    private CpuCore? _sliceCpu;
    private long _sliceEnd;
    private long _now;

    /// <summary>Set when a CPU shut down (a triple fault); only a CPU's own run can cause it.</summary>
    private bool _shutdown;

    /// <summary>Why the guest asked for a reset, until the machine acts on it at the next scheduling point.</summary>
    private string? _resetRequest;

    private readonly SystemControlPortA _portA;
    private readonly SystemControlPortB _portB;
    private readonly KeyboardControllerReset _keyboardController;

    public Machine(MachineConfig config, Action<byte>? serialOut = null)
    {
        string? error = config.Validate();
        if (error is not null)
        {
            throw new ArgumentException(error);
        }

        Config = config;
        _maxCycles = config.MaxCycles ?? long.MaxValue;
        _quantum = config.Quantum;
        _serialOut = serialOut ?? (_ => { });
        Memory = new PhysicalMemory(config.MemoryBytes);
        Bus = new MemoryBus(Memory);
        Io = new IoPortBus();
        Code = new CodeCache(Bus);
        Events = new EventQueue();
        Cpus = new CpuCore[config.Cpus];
        for (int i = 0; i < Cpus.Length; i++)
        {
            Cpus[i] = new CpuCore(i, Bus, Io, Code)
            {
                ApicId = i,
                LogicalProcessorCount = 1,
                JitThreshold = CpuCore.ForcedJitThreshold ?? (config.Jit ? CpuCore.DefaultJitThreshold : 0),
            };
        }

        if (config.Timing == TimingMode.Cycle)
        {
            // The cycle model: every CPU charges its accesses through its port into one
            // coherent hierarchy (docs/timing.md).
            Caches = new CacheHierarchy(config.Cpus, config.Cache);
            foreach (var c in Cpus)
            {
                c.AttachCache(Caches.Port(c.Id), config.Cache);
            }
        }

        // Interrupt controllers: a local APIC per CPU, one IOAPIC, and the 8259 pair wired to the
        // boot CPU's LINT0 (virtual wire), as a PC with an MP table has them.
        Apics = new ApicSystem(Events, Cpus.Select(c => (IApicCpu)new CpuApicAdapter(c)).ToArray());
        Apics.MapInto(Bus);
        IoApic = new IoApic(Apics);
        IoApic.MapInto(Bus);
        Pic = new Pic8259Pair(Apics.LocalApics[0].Lint0);
        Pic.RegisterOn(Io);

        // As the firmware leaves it (SeaBIOS's pic_reset): vectors 0x08-0x0F and 0x70-0x77,
        // every IRQ masked except the cascade. There is no BIOS code here to serve the IRQs
        // SeaBIOS then unmasks for itself (timer, keyboard), so they stay masked: an ISA IRQ a
        // kernel routes through the IOAPIC is not also taken through the virtual wire, and a
        // kernel that enables interrupts before programming the 8259 cannot take an IRQ on an
        // exception vector (docs/interrupts.md).
        Pic.InitializeLikeBios(0x08, 0x70);
        Apics.ExtIntController = Pic;
        Apics.ApplyFirmwareDefaults();
        foreach (var c in Cpus)
        {
            var apic = Apics.ForCpu(c.Id)!;
            c.Interrupts = apic;
            c.Nmi = apic;
            c.BecameRunnable = OnCpuRunnable;
            c.ApicEnableChanged = apic.SetGloballyEnabled;
        }

        // ISA devices; IRQ n goes to 8259 input n and IOAPIC pin n, except IRQ0 on pin 2 (the
        // interrupt source override the firmware tables declare, as QEMU wires it).
        PitClock = new PitClock();
        Pit = new Pit8254(() => Now, Events, PitClock, IsaIrq(0));
        Pit.RegisterOn(Io);
        _portB = new SystemControlPortB(Pit);
        _portB.RegisterOn(Io);
        Cmos = new CmosRtc(() => Now, config.MemoryBytes, PitClock.CyclesPerSecond, cpuCount: config.Cpus);
        Cmos.RegisterOn(Io);
        _portA = new SystemControlPortA(() => RequestReset("port 0x92 fast reset"));
        _portA.RegisterOn(Io);
        _keyboardController = new KeyboardControllerReset(() => RequestReset("keyboard controller reset"));
        _keyboardController.RegisterOn(Io);
        new PostCodePort().RegisterOn(Io);
        Com1 = new Uart16550(Uart16550.Com1Base, IsaIrq(4), b => _serialOut(b));
        Com1.RegisterOn(Io);
        DebugExit = new DebugExitPort(this);
        DebugExit.RegisterOn(Io);
        DebugConsole = new DebugConsolePort(b => _serialOut(b));
        DebugConsole.RegisterOn(Io);
    }

    /// <summary>Machine resets done so far (triple faults with <see cref="ResetPolicy.Reset"/>, guest reset requests).</summary>
    public int Resets { get; private set; }

    /// <summary>Why the last reset happened, or null when there was none.</summary>
    public string? LastResetReason { get; private set; }

    /// <summary>Told after each machine reset (with the reason), e.g. so a command can say so; null when nobody listens.</summary>
    public Action<string>? AfterReset { get; set; }

    private IInterruptLine IsaIrq(int irq) =>
        new FanOutInterruptLine(Pic.GetPin(irq), IoApic.GetPin(irq == 0 ? 2 : irq));

    /// <summary>The coherent cache hierarchy of the cycle timing mode; null in the functional mode.</summary>
    public CacheHierarchy? Caches { get; }

    /// <summary>Device events (timers) on the global time line.</summary>
    public EventQueue Events { get; }

    public ApicSystem Apics { get; }

    public IoApic IoApic { get; }

    public Pic8259Pair Pic { get; }

    public PitClock PitClock { get; }

    public Pit8254 Pit { get; }

    public CmosRtc Cmos { get; }

    /// <summary>Where the firmware tables were put (after <see cref="Load"/>).</summary>
    public FirmwareLayout? Firmware { get; private set; }

    /// <summary>
    /// The global time line: the clock of the CPU running now (the scheduler always runs the CPU
    /// with the lowest clock, so this is the time every device event before it has reached).
    /// </summary>
    public long Now => _sliceCpu?.Cycles ?? _now;

    public MachineConfig Config { get; }

    public PhysicalMemory Memory { get; }

    public MemoryBus Bus { get; }

    public IoPortBus Io { get; }

    public CodeCache Code { get; }

    public CpuCore[] Cpus { get; }

    public Uart16550 Com1 { get; }

    public DebugExitPort DebugExit { get; }

    public DebugConsolePort DebugConsole { get; }

    /// <summary>The loaded image (symbols, entry), once <see cref="Load"/> ran.</summary>
    public LoadedImage? Image { get; private set; }

    public long TotalInstructions
    {
        get
        {
            long n = 0;
            foreach (var c in Cpus)
            {
                n += c.Instructions;
            }

            return n;
        }
    }

    /// <summary>Loads a Multiboot (or plain ELF32) kernel and puts the boot CPU at its entry; APs wait for SIPI.</summary>
    public LoadedImage Load(string displayName, ReadOnlySpan<byte> image)
    {
        // Kept for a cold reset, which loads the image again as QEMU's -kernel (a ROM) does.
        _imageName = displayName;
        _imageBytes = image.ToArray();
        var loaded = LoadIntoMemory();
        Image = loaded;
        Cpus[0].SetMultibootEntryState(loaded.EntryPoint, loaded.Eax, loaded.Ebx);
        for (int i = 1; i < Cpus.Length; i++)
        {
            Cpus[i].Reset();
            Cpus[i].State = RunState.WaitForSipi;
        }

        return loaded;
    }

    private string _imageName = "";

    private byte[]? _imageBytes;

    /// <summary>
    /// What the firmware and the boot loader put in RAM: the firmware tables, then the image's
    /// segments (its .bss zeroed) and the Multiboot information.
    /// </summary>
    private LoadedImage LoadIntoMemory()
    {
        // As QEMU's -kernel and GRUB do, the Multiboot command line starts with the kernel's name.
        string cmdline = Config.CommandLine.Length > 0 ? $"{_imageName} {Config.CommandLine}" : _imageName;
        Firmware = FirmwareTables.Build(Memory, Cpus.Length);
        var options = new LoadOptions
        {
            CommandLine = cmdline,
            BootLoaderName = "Emulator",
            ReservedRegions = LoadOptions.DefaultReservedRegions,
        };
        return MultibootLoader.Load(_imageName, _imageBytes, Memory, options);
    }

    /// <summary>The debug-exit device asks the machine to stop with a host exit status.</summary>
    public void RequestExit(int status)
    {
        _exitStatus = status;
        foreach (var c in Cpus)
        {
            c.EndSlice();
        }
    }

    /// <summary>
    /// A device asks for a machine reset (port 0x92 bit 0, keyboard controller 0xFE). The
    /// running slice ends after the current instruction; the machine then resets or stops, as
    /// <see cref="MachineConfig.OnResetRequest"/> says.
    /// </summary>
    public void RequestReset(string reason)
    {
        _resetRequest ??= reason;
        foreach (var c in Cpus)
        {
            c.EndSlice();
        }
    }

    /// <summary>Asks a running <see cref="Run"/> to stop at the next scheduling point (thread-safe).</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        foreach (var c in Cpus)
        {
            c.EndSlice();
        }
    }

    /// <summary>Runs until the guest exits, halts for good, faults fatally, or a limit is reached.</summary>
    public RunResult Run()
    {
        while (true)
        {
            var result = Advance(long.MaxValue);
            if (result is not null)
            {
                return result;
            }
        }
    }

    /// <summary>
    /// Told after each run of a CPU within <see cref="Advance"/>: the CPU (its clock and state
    /// now), the clock and CS:EIP where that run began (the timeline); null when nobody
    /// listens. Once per slice, never per instruction.
    /// </summary>
    public Action<CpuCore, long, uint>? SliceRan;

    /// <summary>The CPU whose scheduling slice is in progress, if any (the one a step would run).</summary>
    public CpuCore? CurrentCpu => _sliceCpu;

    /// <summary>
    /// Runs at most <paramref name="maxInstructions"/> instructions (over all CPUs) and returns
    /// null when that budget is used up, or the result when the machine stops. Slices are kept
    /// across calls: running one instruction at a time (tracing, debugging) gives exactly the
    /// same interleaving as one long run.
    /// </summary>
    public RunResult? Advance(long maxInstructions)
    {
        long maxTotal = Config.MaxInstructions ?? long.MaxValue;
        long budget = maxInstructions;

        // A CPU may have been shut down from outside a slice (a test, the debugger); within the
        // loop only the CPU that ran can shut down, and the loop checks it after each slice.
        _shutdown |= AnyShutdown();

        // Shape for speed: under the cycle mode's 20-cycle quantum a slice is about one loop
        // iteration of a contended guest, so this loop runs every couple of blocks. The rare
        // conditions (an exit, stop or reset request, a shutdown) are one inlined test, and a
        // slice that goes on costs one test before the CPU runs again.
        while (budget > 0)
        {
            if (_exitStatus is not null || _stopRequested || _resetRequest is not null || _shutdown)
            {
                var stop = CheckStop();
                if (stop is not null)
                {
                    _sliceCpu = null;
                    return stop;
                }
            }

            if (_sliceCpu is not { State: RunState.Running } running || running.Cycles >= _sliceEnd)
            {
                var noSlice = StartSlice();
                if (noSlice is not null)
                {
                    return noSlice;
                }
            }

            // Summing the CPUs' counts is only needed under an instruction limit (a slice may
            // be a handful of instructions under contention: keep the loop lean).
            long total = maxTotal == long.MaxValue ? 0 : TotalInstructions;
            if (total >= maxTotal)
            {
                _sliceCpu = null;
                return Result(StopReason.InstructionLimit, 0, $"instruction limit {maxTotal} reached");
            }

            var cpu = _sliceCpu!; // EnsureSlice returned null: a slice is running
            long startCycle = cpu.Cycles;
            uint startPc = SliceRan is null ? 0 : cpu.Seg(Emulator.Cpu.Segmentation.SegReg.CS).Base + cpu.Eip;
            long ran = cpu.Run(_sliceEnd, maxTotal == long.MaxValue ? budget : Math.Min(budget, maxTotal - total));
            SliceRan?.Invoke(cpu, startCycle, startPc);
            if (cpu.State == RunState.Shutdown)
            {
                _shutdown = true;
            }

            _now = Math.Max(_now, cpu.Cycles);
            budget -= ran;
            if (cpu.BreakpointHit)
            {
                // Resuming (any later Advance) executes the instruction at the breakpoint first.
                cpu.ResumeFromBreakpoint();
                return Result(StopReason.Breakpoint, 0, $"CPU {cpu.Id} reached the breakpoint at 0x{cpu.Seg(Emulator.Cpu.Segmentation.SegReg.CS).Base + cpu.Eip:x8}") with { Cpu = cpu.Id };
            }
        }

        return null;
    }

    /// <summary>
    /// The CPU that the next <see cref="Advance"/> step will run (starting a new slice if the
    /// current one is over, exactly as Advance would), or null when the machine cannot run on
    /// (then Advance reports why). Lets tracers look at an instruction before it executes.
    /// </summary>
    public CpuCore? PrepareStep()
    {
        if (_exitStatus is not null || _stopRequested || AnyShutdown())
        {
            return null;
        }

        if (EnsureSlice() is not null)
        {
            return null;
        }

        return TotalInstructions >= (Config.MaxInstructions ?? long.MaxValue) ? null : _sliceCpu;
    }

    /// <summary>
    /// Keeps the current slice, or starts the next one (the lowest-clock CPU, for at most a
    /// quantum and never past the next device event). Returns why no slice can start, or null.
    /// </summary>
    private RunResult? EnsureSlice()
    {
        if (_sliceCpu is { State: RunState.Running } running && running.Cycles < _sliceEnd)
        {
            return null;
        }

        return StartSlice();
    }

    /// <summary>Starts the next slice (the current one is over); returns why none can start, or null.</summary>
    private RunResult? StartSlice()
    {
        long maxCycles = _maxCycles;
        var cpu = PickNext(out bool alone, out long nextEvent);
        _sliceCpu = cpu;
        if (cpu is null)
        {
            return Result(StopReason.Halted, 0, "all CPUs halted");
        }

        if (cpu.Cycles >= maxCycles)
        {
            _sliceCpu = null;
            return Result(StopReason.CycleLimit, 0, $"cycle limit {maxCycles} reached");
        }

        // A CPU running alone (every other one halted or waiting for STARTUP) needs no
        // quantum: nothing can interleave with it until a device event or until it wakes
        // another CPU, which shortens the slice to a quantum (OnCpuRunnable). This keeps
        // single-CPU phases free of scheduling overhead, whatever the quantum.
        long span = alone ? AloneSlice : _quantum;
        _sliceEnd = Math.Min(Math.Min(cpu.Cycles + span, maxCycles), nextEvent);

        // PollInput does nothing without queued host input: the test is inlined, the call is not
        // paid per slice.
        if (Com1.HasHostInput)
        {
            Com1.PollInput();
        }

        return null;
    }

    /// <summary>The longest slice of a CPU running alone (bounds the latency of host input polling).</summary>
    public const long AloneSlice = 1_000_000;

    private bool AnyShutdown()
    {
        foreach (var c in Cpus)
        {
            if (c.State == RunState.Shutdown)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Another CPU woke up (an IPI, INIT/STARTUP, an interrupt): the running slice ends within a quantum.</summary>
    private void OnCpuRunnable(CpuCore woken)
    {
        if (_sliceCpu is { } running && running != woken)
        {
            long end = running.Cycles + _quantum;
            if (end < _sliceEnd)
            {
                _sliceEnd = end;
                running.LimitSlice(end);
            }
        }
    }

    private RunResult? CheckStop()
    {
        if (_exitStatus is int status)
        {
            _exitStatus = null;
            return Result(StopReason.GuestExit, status, $"guest exit through port 0x{DebugExit.IoBase:x}");
        }

        if (_stopRequested)
        {
            _stopRequested = false;
            return Result(StopReason.HostRequest, 0, "stopped by request");
        }

        if (_resetRequest is string why)
        {
            _resetRequest = null;
            if (Config.OnResetRequest == ResetPolicy.Stop)
            {
                return Result(StopReason.ResetRequest, 0, $"the guest asked for a reset ({why}); stopped as --on-reset-request stop says");
            }

            return ResetOrStop($"{why} requested by the guest");
        }

        if (!_shutdown)
        {
            return null;
        }

        foreach (var c in Cpus)
        {
            if (c.State == RunState.Shutdown)
            {
                var s = c.Shutdown;
                string detail = s is null ? "shutdown" :
                    $"{s.Reason} on CPU {c.Id} ({Vectors.Mnemonic(s.FirstVector)} then {Vectors.Mnemonic(s.SecondVector)}) at {s.Cs:x4}:{s.Eip:x8}";
                if (Config.OnTripleFault == ResetPolicy.Reset)
                {
                    return ResetOrStop(detail);
                }

                return Result(StopReason.TripleFault, 0, detail);
            }
        }

        return null;
    }

    /// <summary>Resets the machine, or stops it when that would exceed <see cref="MachineConfig.MaxResets"/>.</summary>
    private RunResult? ResetOrStop(string why)
    {
        if (Resets >= Config.MaxResets)
        {
            return Result(StopReason.ResetLimit, 0, $"reset limit reached: {Resets} resets done, --max-resets {Config.MaxResets} (this one: {why})");
        }

        Reset(why);
        return null;
    }

    /// <summary>
    /// A hardware reset, as a PC's RESET line does it: every CPU to its RESET state (clocks and
    /// counters keep running), the local APICs, IOAPIC, 8259s, PIT, UART and system ports to
    /// their power-up state, RAM and the CMOS kept. Then what the firmware does: with CMOS
    /// shutdown status 0x05 or 0x0A the boot CPU jumps through the warm-reset vector at 0x467
    /// (real mode, the status is cleared, nothing is reloaded); otherwise the firmware tables
    /// and the image are loaded again (as QEMU reloads its -kernel) and its entry runs in the
    /// Multiboot entry state; the rest of RAM keeps what the guest left. The application
    /// processors wait for STARTUP.
    /// </summary>
    public void Reset(string why)
    {
        Resets++;
        LastResetReason = why;
        _shutdown = false;
        _resetRequest = null;
        _sliceCpu = null;
        foreach (var c in Cpus)
        {
            c.ResetKeepingClock();
            c.State = c.Id == 0 ? RunState.Running : RunState.WaitForSipi;
        }

        // Time goes on: the boot CPU starts again at the machine's present time.
        Cpus[0].Cycles = Math.Max(Cpus[0].Cycles, _now);
        Apics.Reset();
        IoApic.Reset();
        Pic.Reset();

        // The firmware programs the 8259 pair again before it boots (or jumps through the
        // warm-reset vector), as at power-up.
        Pic.InitializeLikeBios(0x08, 0x70);
        Pit.Reset();
        Com1.Reset();
        _portA.Reset();
        _portB.Reset();
        _keyboardController.Reset();

        byte shutdownStatus = Cmos.ShutdownStatus;
        if (shutdownStatus is 0x05 or 0x0A)
        {
            Cmos.ShutdownStatus = 0;
            ushort ip = (ushort)Memory.Read16(0x467);
            ushort cs = (ushort)Memory.Read16(0x469);
            var bsp = Cpus[0];
            bsp.Seg(Emulator.Cpu.Segmentation.SegReg.CS) = Emulator.Cpu.Segmentation.SegmentCache.RealModeData(cs);
            bsp.Eip = ip;
        }
        else if (_imageBytes is not null)
        {
            // A cold boot: the firmware builds its tables and the loader loads the image again,
            // so its code and initialised data are fresh (the rest of RAM keeps what the guest
            // left). The loader's writes invalidate the blocks decoded from the old bytes, as
            // every physical write does.
            var image = LoadIntoMemory();
            Cpus[0].SetMultibootEntryState(image.EntryPoint, image.Eax, image.Ebx);
        }

        AfterReset?.Invoke(why);
    }

    /// <summary>
    /// Chooses the next CPU: the runnable one with the lowest clock (ties to the lowest id), after
    /// firing every device event due by then. When no CPU can run, time jumps to the next event
    /// (halted CPUs sleep until an interrupt reaches them); null when nothing can ever run again.
    /// </summary>
    private CpuCore? PickNext(out bool alone, out long nextEvent)
    {
        long idleEvents = 0;
        CpuCore[] cpus = Cpus;
        while (true)
        {
            // One pass finds the lowest clock and counts the running CPUs (a CPU running alone
            // gets a long slice): whether the chosen CPU is alone is known without a second scan.
            // First the common case of a busy SMP guest, every CPU simply running: a loop with
            // no call in it, whose values stay in registers. Any other CPU sends the scan to the
            // general loop (ScanAll), from the start: the CPUs passed so far needed nothing there
            // either, so the outcome is the same.
            CpuCore? best = null;
            long bestCycles = 0;
            int running = cpus.Length;
            for (int i = 0; i < cpus.Length; i++)
            {
                CpuCore c = cpus[i];
                if (c.State != RunState.Running || c.ClockNeedsSync)
                {
                    running = -1;
                    break;
                }

                if (best is null || c.Cycles < bestCycles)
                {
                    best = c;
                    bestCycles = c.Cycles;
                }
            }

            if (running < 0)
            {
                best = ScanAll(cpus, out running);
            }

            long next = Events.NextTime;
            if (best is not null)
            {
                if (next <= best.Cycles)
                {
                    _now = Math.Max(_now, next);
                    Events.RunDue(best.Cycles);
                    continue;
                }

                _now = Math.Max(_now, best.Cycles);
                alone = running == 1;
                nextEvent = next;
                return best;
            }

            // Nobody can run. Only a device event can change that, and only for a CPU that can
            // take a maskable interrupt (NMIs and IPIs need a running CPU to send them).
            bool wakeable = false;
            foreach (var c in cpus)
            {
                wakeable |= c.State == RunState.Halted && (c.FlagsBase & EFlags.IF) != 0;
            }

            if (next == long.MaxValue || !wakeable || ++idleEvents > MaxIdleEvents)
            {
                alone = false;
                nextEvent = next;
                return null;
            }

            _now = Math.Max(_now, next);
            Events.RunDue(next);
        }
    }

    /// <summary>
    /// PickNext's general pass: wakes and catches up the CPUs that need it, then returns the
    /// running CPU with the lowest clock (ties to the lowest id) and how many are running.
    /// </summary>
    private CpuCore? ScanAll(CpuCore[] cpus, out int running)
    {
        CpuCore? best = null;
        long bestCycles = 0;
        running = 0;
        for (int i = 0; i < cpus.Length; i++)
        {
            CpuCore c = cpus[i];
            if (c.State != RunState.Running || c.ClockNeedsSync)
            {
                WakeAndSync(c);
            }

            if (c.State == RunState.Running)
            {
                running++;
                if (best is null || c.Cycles < bestCycles)
                {
                    best = c;
                    bestCycles = c.Cycles;
                }
            }
        }

        return best;
    }

    /// <summary>
    /// PickNext's per-CPU work for a CPU that is not simply running: a halted CPU with an NMI or
    /// an unmasked interrupt pending wakes up, and a CPU that slept has its clock moved to the
    /// time it was woken (the end of the waker's slice).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void WakeAndSync(CpuCore c)
    {
        if (c.State == RunState.Halted &&
            (c.Nmi is { NmiPending: true } || ((c.FlagsBase & EFlags.IF) != 0 && c.Interrupts is { HasPendingInterrupt: true })))
        {
            c.Wake();
        }

        if (c.ClockNeedsSync)
        {
            c.ClockNeedsSync = false;
            long slept = _now - c.Cycles;
            if (slept > 0)
            {
                c.Cycles = _now;
                c.ChargeHalted(slept);
            }
        }
    }

    /// <summary>Device events fired in a row with every CPU asleep before the machine counts as halted for good.</summary>
    public const long MaxIdleEvents = 1_000_000;

    private RunResult Result(StopReason reason, int status, string message)
    {
        long cycles = 0;
        foreach (var c in Cpus)
        {
            cycles = Math.Max(cycles, c.Cycles);
        }

        return new RunResult(reason, status, TotalInstructions, cycles, message);
    }

    /// <summary>
    /// A hash of the whole machine state that matters for determinism: RAM and every CPU's
    /// registers, flags, segment bases, control registers and clocks.
    /// </summary>
    public unsafe ulong StateHash()
    {
        const ulong prime = 0x100000001B3UL;
        ulong h = 0xCBF29CE484222325UL;
        var words = new ReadOnlySpan<ulong>(Memory.Base, (int)(Memory.Size / 8));
        foreach (ulong w in words)
        {
            h = (h ^ w) * prime;
            h ^= h >> 29;
        }

        foreach (var c in Cpus)
        {
            Span<ulong> regs =
            [
                c.Eax, c.Ebx, c.Ecx, c.Edx, c.Esi, c.Edi, c.Ebp, c.Esp, c.Eip, c.GetEflags(), c.Cr0, c.Cr2, c.Cr3, c.Cr4,
                (ulong)c.Cycles, (ulong)c.Instructions, (ulong)c.State,
            ];
            foreach (ulong r in regs)
            {
                h = (h ^ r) * prime;
            }

            for (int s = 0; s < Emulator.Cpu.Segmentation.SegReg.Count; s++)
            {
                h = (h ^ c.Seg(s).Base ^ ((ulong)c.Seg(s).Selector << 32)) * prime;
            }
        }

        return h;
    }

    public void Dispose() => Memory.Dispose();
}
