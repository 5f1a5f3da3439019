using Emulator.Cpu.Segmentation;
using Emulator.Timing;

namespace Emulator.Cpu;

/// <summary>Why a CPU stopped for good.</summary>
public sealed record ShutdownInfo(string Reason, int FirstVector, int SecondVector, uint Eip, ushort Cs);

/// <summary>
/// Exception and interrupt delivery (SDM Vol. 3, ch. 6): the IVT in real mode, IDT interrupt and
/// trap gates in protected mode (with the TSS stack switch on an inward transfer), the
/// double-fault rules (table 6-5) and the triple fault that shuts the CPU down.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>Exceptions delivered, by vector (statistics).</summary>
    public readonly long[] ExceptionCounts = new long[256];

    /// <summary>External interrupts (including NMIs) delivered to this CPU.</summary>
    public long ExternalInterrupts;

    /// <summary>External interrupts delivered to this CPU, by vector (NMIs under vector 2; statistics).</summary>
    public readonly long[] ExternalInterruptCounts = new long[256];

    /// <summary>Set when the CPU triple-faulted (or otherwise shut down).</summary>
    public ShutdownInfo? Shutdown;

    /// <summary>
    /// Told of every interrupt or exception delivery (the timeline); null when nobody listens.
    /// Called once per delivery, never on the per-instruction path.
    /// </summary>
    public Action<Cpu, int, InterruptKind>? InterruptDelivered;

    /// <summary>Vector of the exception being delivered while another one arises (-1 when none).</summary>
    private int _delivering = -1;

    /// <summary>
    /// Delivers the exception recorded by the last failed operation. Delivery costs one cycle:
    /// otherwise an exception storm (say, a handler whose first fetch faults again) would retire
    /// nothing and never advance the clock, so no cycle limit, scheduling quantum or other CPU
    /// could ever end it (found by the fuzzer; see FuzzRegressions).
    /// </summary>
    public void DeliverPendingException()
    {
        int vector = PendingVector;
        PendingVector = -1;
        if (vector < 0)
        {
            return;
        }

        if (_cache is null)
        {
            Cycles++;
        }
        else
        {
            ChargePenalty(CoreTimingTable.InterruptDeliveryPenalty);
        }

        RaiseException(vector, PendingErrorCode, PendingHasErrorCode);
    }

    private static bool IsContributory(int v) => v is Vectors.DE or Vectors.TS or Vectors.NP or Vectors.SS or Vectors.GP;

    /// <summary>Delivers a CPU exception, applying the double- and triple-fault rules.</summary>
    public void RaiseException(int vector, uint errorCode, bool hasErrorCode)
    {
        FaultAfterCommit = false;
        ExceptionCounts[vector]++;
        if (_delivering >= 0)
        {
            int first = _delivering;
            if (first == Vectors.DF)
            {
                TripleFault(first, vector);
                return;
            }

            bool dbl = (IsContributory(first) && IsContributory(vector)) ||
                (first == Vectors.PF && (IsContributory(vector) || vector == Vectors.PF));
            if (dbl)
            {
                _delivering = Vectors.DF;
                ExceptionCounts[Vectors.DF]++;
                bool okDf = DeliverInterrupt(Vectors.DF, 0, true, InterruptKind.Exception, Eip);
                _delivering = -1;
                if (!okDf)
                {
                    int second = PendingVector;
                    PendingVector = -1;
                    TripleFault(Vectors.DF, second);
                }

                return;
            }

            // Benign combinations: the second exception is delivered serially.
        }

        if (PushesRf(vector))
        {
            // Faults push RF = 1 so that the handler's IRET re-executes the instruction without
            // re-triggering an instruction breakpoint (SDM 17.3.1.1); delivery clears RF again.
            FlagsBase |= EFlags.RF;
        }

        int saved = _delivering;
        _delivering = vector;
        bool ok = DeliverInterrupt(vector, errorCode, hasErrorCode, InterruptKind.Exception, Eip);
        _delivering = saved;
        if (!ok)
        {
            int next = PendingVector;
            uint nextCode = PendingErrorCode;
            bool nextHas = PendingHasErrorCode;
            PendingVector = -1;
            _delivering = vector;
            RaiseException(next, nextCode, nextHas);
            _delivering = saved;
        }
    }

    private void TripleFault(int first, int second)
    {
        Shutdown = new ShutdownInfo("triple fault", first, second, Eip, Seg(SegReg.CS).Selector);
        State = RunState.Shutdown;
        FlagsBase &= ~EFlags.RF; // set only for the failed deliveries' EFLAGS images
        _delivering = -1;
        PendingVector = -1;
        FaultAfterCommit = false;
    }

    /// <summary>An external (hardware) interrupt acknowledged from the interrupt controller.</summary>
    public void DeliverExternalInterrupt(int vector)
    {
        if (State == RunState.Halted)
        {
            State = RunState.Running;
        }

        ExternalInterrupts++;
        ExternalInterruptCounts[vector & 0xFF]++;
        if (_cache is not null)
        {
            ChargePenalty(CoreTimingTable.InterruptDeliveryPenalty);
        }

        if (!DeliverInterrupt(vector, 0, false, InterruptKind.External, Eip))
        {
            int v = PendingVector;
            uint code = PendingErrorCode;
            bool has = PendingHasErrorCode;
            PendingVector = -1;
            RaiseException(v, code, has);
        }
    }

    /// <summary>INT n / INT3 / INTO: returns false with a pending fault when delivery fails.</summary>
    public bool SoftwareInterrupt(int vector, uint returnEip, InterruptKind kind) =>
        DeliverInterrupt(vector, 0, false, kind, returnEip);

    public enum InterruptKind : byte
    {
        /// <summary>A fault or trap raised by the CPU (EXT = 0 in error codes, no gate DPL check).</summary>
        Exception,

        /// <summary>A hardware interrupt (EXT = 1 in error codes, no gate DPL check).</summary>
        External,

        /// <summary>INT n: gate DPL must be &gt;= CPL.</summary>
        Software,

        /// <summary>INT3 and INTO: like INT n for the DPL check.</summary>
        SoftwareException,
    }

    /// <summary>
    /// Transfers control through the IVT or IDT. <paramref name="returnEip"/> is the EIP pushed
    /// (the faulting instruction for faults, the next one for traps and INT n). Returns false,
    /// with the new exception pending, when the delivery itself faults; such an exception gets the
    /// EXT bit in its error code when the event being delivered was an exception or a hardware
    /// interrupt (SDM Vol. 3, 6.13).
    /// </summary>
    public bool DeliverInterrupt(int vector, uint errorCode, bool hasErrorCode, InterruptKind kind, uint returnEip)
    {
        // Pending debug traps are discarded by any delivery (the handler runs with TF clear; a
        // faulting instruction will run again); a task switch into a TSS with T set adds BT.
        _debugTrapBits = 0;
        InterruptDelivered?.Invoke(this, vector, kind);
        if (!ProtectedMode)
        {
            bool real = DeliverRealMode(vector, GetEflags(), returnEip);
            _debugTrapBits = 0;
            return real;
        }

        uint ext = kind is InterruptKind.External or InterruptKind.Exception ? 1u : 0u;
        bool ok = DeliverProtectedMode(vector, errorCode, hasErrorCode, kind, returnEip, ext);
        _debugTrapBits &= DebugBits.BT; // data hits on the delivery's own stack writes are not reported
        if (ok)
        {
            return true;
        }

        if (ext != 0 && PendingHasErrorCode && PendingVector is Vectors.TS or Vectors.NP or Vectors.SS or Vectors.GP)
        {
            PendingErrorCode |= 1;
        }

        return false;
    }

    private bool DeliverProtectedMode(int vector, uint errorCode, bool hasErrorCode, InterruptKind kind, uint returnEip, uint ext)
    {
        uint flags = GetEflags();
        uint idtError = ((uint)vector << 3) | 2 | ext;
        if ((uint)vector * 8 + 7 > Idtr.Limit)
        {
            return FaultWithCode(Vectors.GP, idtError);
        }

        if (!ReadSystemLinear64(Idtr.Base + ((uint)vector * 8), out ulong gate))
        {
            return false;
        }

        int type = (int)(gate >> 40) & 0x1F;
        int gateDpl = (int)(gate >> 45) & 3;
        bool present = ((gate >> 47) & 1) != 0;
        bool gate32;
        bool trap;
        switch (type)
        {
            case 0x0E: gate32 = true; trap = false; break;
            case 0x0F: gate32 = true; trap = true; break;
            case 0x06: gate32 = false; trap = false; break;
            case 0x07: gate32 = false; trap = true; break;
            case 0x05: gate32 = false; trap = false; break;
            default:
                return FaultWithCode(Vectors.GP, idtError);
        }

        if ((kind == InterruptKind.Software || kind == InterruptKind.SoftwareException) && gateDpl < Cpl)
        {
            return FaultWithCode(Vectors.GP, idtError);
        }

        if (!present)
        {
            return FaultWithCode(Vectors.NP, idtError);
        }

        if (type == 0x05)
        {
            return TaskGateInterrupt(gate, errorCode, hasErrorCode, ext, returnEip);
        }

        ushort selector = (ushort)(gate >> 16);
        uint offset = (uint)(gate & 0xFFFF) | (uint)((gate >> 32) & 0xFFFF0000);
        if (!gate32)
        {
            offset &= 0xFFFF;
        }

        if ((selector & 0xFFFC) == 0)
        {
            return FaultWithCode(Vectors.GP, ext);
        }

        if (!ReadDescriptor(selector, out ulong desc, Vectors.GP, ext))
        {
            return false;
        }

        var target = default(SegmentCache);
        target.LoadDescriptor(selector, desc);
        if (!target.IsCode || target.Dpl > Cpl)
        {
            return FaultWithCode(Vectors.GP, (uint)(selector & 0xFFFC) | ext);
        }

        if (!target.Present)
        {
            return FaultWithCode(Vectors.NP, (uint)(selector & 0xFFFC) | ext);
        }

        if ((flags & EFlags.VM) != 0)
        {
            // Virtual-8086 interrupts are not modelled: report it as a #GP the guest can see.
            return FaultWithCode(Vectors.GP, (uint)(selector & 0xFFFC) | ext);
        }

        bool conforming = (target.Type & 0x4) != 0;
        int newCpl = conforming ? Cpl : target.Dpl;
        int size = gate32 ? 4 : 2;
        ushort oldCs = Seg(SegReg.CS).Selector;
        ushort oldSs = Seg(SegReg.SS).Selector;
        uint oldEsp = Esp;

        if (newCpl < Cpl)
        {
            // Inward: new stack from the TSS (SDM 6.12.1), checked before anything is pushed.
            if (!ReadTssStack(newCpl, out ushort newSsSel, out uint newEsp, ext))
            {
                return false;
            }

            if (!CheckInnerStack(newSsSel, newCpl, ext, out ulong ssDesc))
            {
                return false;
            }

            var newSs = default(SegmentCache);
            newSs.LoadDescriptor((ushort)((newSsSel & 0xFFFC) | newCpl), ssDesc | Segmentation.Descriptor.AccessedBit);
            if (offset > target.Limit)
            {
                return FaultWithCode(Vectors.GP, ext);
            }

            uint pushedEsp = Stack32 ? oldEsp : oldEsp & 0xFFFF;
            int savedCpl = Cpl;
            SetCpl(newCpl);
            uint esp = newEsp;
            bool ok = WriteNewStack(ref newSs, ref esp, size, oldSs) && WriteNewStack(ref newSs, ref esp, size, pushedEsp) &&
                WriteNewStack(ref newSs, ref esp, size, flags) && WriteNewStack(ref newSs, ref esp, size, oldCs) &&
                WriteNewStack(ref newSs, ref esp, size, returnEip) &&
                (!hasErrorCode || WriteNewStack(ref newSs, ref esp, size, errorCode));
            SetCpl(savedCpl);
            if (!ok || !MarkAccessed(newSsSel, ssDesc))
            {
                return false;
            }

            Seg(SegReg.SS) = newSs;
            Esp = esp;
        }
        else
        {
            if (offset > target.Limit)
            {
                return FaultWithCode(Vectors.GP, ext);
            }

            bool ok = Push(flags, size) && Push(oldCs, size) && Push(returnEip, size) &&
                (!hasErrorCode || Push(errorCode, size));
            if (!ok)
            {
                Esp = oldEsp;
                return false;
            }
        }

        MarkAccessed(selector, desc);
        target.LoadDescriptor((ushort)((selector & 0xFFFC) | newCpl), desc | (1UL << 40));
        Seg(SegReg.CS) = target;
        SetCpl(newCpl);
        uint clear = EFlags.TF | EFlags.NT | EFlags.RF | EFlags.VM;
        if (!trap)
        {
            clear |= EFlags.IF;
        }

        FlagsBase &= ~clear;
        Eip = offset;
        return true;
    }

    private bool DeliverRealMode(int vector, uint flags, uint returnEip)
    {
        uint entry = (uint)vector * 4;
        if (entry + 3 > Idtr.Limit)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!ReadLinear32(Idtr.Base + entry, out uint vec))
        {
            return false;
        }

        // The CS limit cannot change in real mode: the new IP must be within the current one.
        if ((vec & 0xFFFF) > Seg(SegReg.CS).Limit)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        uint oldEsp = Esp;
        if (!Push(flags & 0xFFFF, 2) || !Push(Seg(SegReg.CS).Selector, 2) || !Push(returnEip & 0xFFFF, 2))
        {
            Esp = oldEsp;
            return false;
        }

        Seg(SegReg.CS).LoadRealMode((ushort)(vec >> 16));
        Eip = vec & 0xFFFF;
        FlagsBase &= ~(EFlags.IF | EFlags.TF | EFlags.AC | EFlags.RF);
        return true;
    }

    /// <summary>
    /// An interrupt or exception through a task gate (SDM 6.12.2): the TSS selector must be in
    /// the GDT (#GP), name an available TSS (#GP) that is present (#NP); the task switch nests
    /// (back link, NT) and pushes the error code, if any, on the new task's stack.
    /// </summary>
    private bool TaskGateInterrupt(ulong gate, uint errorCode, bool hasErrorCode, uint ext, uint returnEip)
    {
        ushort tss = (ushort)(gate >> 16);
        uint err = (uint)(tss & 0xFFFC) | ext;
        if ((tss & 4) != 0)
        {
            return FaultWithCode(Vectors.GP, err);
        }

        if (!ReadDescriptor(tss, out ulong desc, Vectors.TS, ext))
        {
            return false;
        }

        int type = Segmentation.Descriptor.Type(desc);
        if (Segmentation.Descriptor.IsCodeOrData(desc) || !Segmentation.Descriptor.IsAvailableTss(type))
        {
            return FaultWithCode(Vectors.GP, err);
        }

        if (!Segmentation.Descriptor.Present(desc))
        {
            return FaultWithCode(Vectors.NP, err);
        }

        return TaskSwitch(tss, desc, TaskSource.Interrupt, returnEip, hasErrorCode, errorCode, ext);
    }

    /// <summary>Reads a 64-bit value (or its low <paramref name="bytes"/> bytes) at a linear address as a supervisor (system) access.</summary>
    public bool ReadSystemLinear64(uint linear, out ulong value, int bytes = 8)
    {
        value = 0;
        if (_userBit == 0)
        {
            // At CPL 0-2 an ordinary access is a supervisor access: use the TLB.
            for (int i = 0; i < bytes; i += 4)
            {
                int n = Math.Min(4, bytes - i);
                if (!ReadLinear(linear + (uint)i, n == 3 ? 2 : n, out uint part))
                {
                    return false;
                }

                value |= (ulong)part << (8 * i);
                if (n == 3)
                {
                    if (!ReadLinear8(linear + (uint)i + 2, out byte last))
                    {
                        return false;
                    }

                    value |= (ulong)last << (8 * (i + 2));
                }
            }

            return true;
        }

        uint page = 0xFFFFFFFF;
        uint phys = 0;
        for (int i = 0; i < bytes; i++)
        {
            uint at = linear + (uint)i;
            if ((at & ~0xFFFu) != page)
            {
                if (!Translate(at, AccessKind.Read, user: false, fill: false, out phys))
                {
                    return false;
                }

                page = at & ~0xFFFu;
                phys -= at & 0xFFF;
            }

            value |= (ulong)Bus.Read(Id, phys + (at & 0xFFF), 1) << (8 * i);
            ChargePhysical(phys + (at & 0xFFF), 1, CacheAccessKind.Read);
        }

        return true;
    }

    /// <summary>Writes a byte at a linear address as a supervisor access (descriptor accessed/busy bits).</summary>
    public bool WriteSystemLinear8(uint linear, byte value)
    {
        if (!Translate(linear, AccessKind.Write, user: false, fill: false, out uint phys))
        {
            return false;
        }

        if (Bus.Write(Id, phys, 1, value))
        {
            Code.NotifyWrite(this, phys, 1);
        }

        ChargePhysical(phys, 1, CacheAccessKind.Write);

        return true;
    }

    /// <summary>
    /// Reads the descriptor a selector names from the GDT or LDT, raising
    /// <paramref name="faultVector"/> with the selector's error code when it is beyond the table limit.
    /// </summary>
    public bool ReadDescriptor(ushort selector, out ulong descriptor, int faultVector = Vectors.GP, uint ext = 0)
    {
        descriptor = 0;
        uint index = (uint)(selector & 0xFFF8);
        bool ldt = (selector & 4) != 0;
        uint tableBase;
        uint limit;
        if (ldt)
        {
            if (!Ldtr.Valid || (Ldtr.Selector & 0xFFFC) == 0)
            {
                return FaultWithCode(faultVector, (uint)(selector & 0xFFFC) | ext);
            }

            tableBase = Ldtr.Base;
            limit = Ldtr.Limit;
        }
        else
        {
            tableBase = Gdtr.Base;
            limit = Gdtr.Limit;
        }

        if (index + 7 > limit)
        {
            return FaultWithCode(faultVector, (uint)(selector & 0xFFFC) | ext);
        }

        return ReadSystemLinear64(tableBase + index, out descriptor);
    }

    /// <summary>Sets the accessed bit of a code/data descriptor in its table, as the hardware does on a load.</summary>
    public bool MarkAccessed(ushort selector, ulong descriptor)
    {
        if (((descriptor >> 40) & 1) != 0)
        {
            return true;
        }

        uint tableBase = (selector & 4) != 0 ? Ldtr.Base : Gdtr.Base;
        uint linear = tableBase + (uint)(selector & 0xFFF8) + 5;
        return WriteSystemLinear8(linear, (byte)((descriptor >> 40) | 1));
    }

    /// <summary>Reads SSn:ESPn for ring <paramref name="cpl"/> from the current 32-bit (or 16-bit) TSS.</summary>
    public bool ReadTssStack(int cpl, out ushort ss, out uint esp, uint ext)
    {
        ss = 0;
        esp = 0;
        bool tss32 = (Tr.Type & 0x8) != 0;
        uint entry = tss32 ? (uint)(cpl * 8) + 4 : (uint)(cpl * 4) + 2;
        uint need = tss32 ? entry + 7 : entry + 3;
        if (!Tr.Valid || need > Tr.Limit)
        {
            return FaultWithCode(Vectors.TS, (uint)(Tr.Selector & 0xFFFC) | ext);
        }

        if (!ReadSystemLinear64(Tr.Base + entry, out ulong v))
        {
            return false;
        }

        if (tss32)
        {
            esp = (uint)v;
            ss = (ushort)(v >> 32);
        }
        else
        {
            esp = (ushort)v;
            ss = (ushort)(v >> 16);
        }

        return true;
    }
}
