using Emulator.Cpu;
using Emulator.Interrupts;

namespace Emulator.Tests.Interrupts;

/// <summary>A CPU stand-in that records what the interrupt controllers asked of it.</summary>
internal sealed class FakeApicCpu(int id, int apicId) : IApicCpu
{
    public int Id { get; } = id;

    public int ApicId { get; } = apicId;

    public RunState State { get; set; } = RunState.Running;

    public long Cycles { get; set; }

    /// <summary>EFLAGS.IF, for <see cref="Wake"/>.</summary>
    public bool InterruptsEnabled { get; set; } = true;

    public int InitCount { get; private set; }

    public List<int> Startups { get; } = [];

    /// <summary>Where the last accepted STARTUP started the CPU (vector &lt;&lt; 12), or -1.</summary>
    public long StartAddress { get; private set; } = -1;

    public int ExitRequests { get; private set; }

    public void ApplyInit()
    {
        InitCount++;
        State = RunState.WaitForSipi;
    }

    public bool ApplyStartup(int vector)
    {
        Startups.Add(vector);
        if (State != RunState.WaitForSipi)
        {
            return false;
        }

        StartAddress = (long)vector << 12;
        State = RunState.Running;
        return true;
    }

    public void Wake(bool maskable)
    {
        if (State == RunState.Halted && (!maskable || InterruptsEnabled))
        {
            State = RunState.Running;
        }
    }

    public void RequestExit() => ExitRequests++;

    public static FakeApicCpu[] Many(int count) =>
        Enumerable.Range(0, count).Select(i => new FakeApicCpu(i, i)).ToArray();
}

/// <summary>An 8259 stand-in answering INTA with a fixed vector.</summary>
internal sealed class FakeExtIntController(int vector) : IInterruptSource
{
    public bool HasPendingInterrupt { get; set; } = true;

    public int Acknowledgements { get; private set; }

    public int AcknowledgeInterrupt()
    {
        Acknowledgements++;
        return vector;
    }
}
