using Emulator.Devices;

namespace Emulator.Interrupts;

/// <summary>
/// One device output wired to several controller inputs (an ISA IRQ reaches both the 8259 and
/// the IOAPIC on a PC).
/// </summary>
public sealed class FanOutInterruptLine(params IInterruptLine[] targets) : IInterruptLine
{
    private readonly IInterruptLine[] _targets = [.. targets];

    public void SetLevel(bool asserted)
    {
        foreach (var t in _targets)
        {
            t.SetLevel(asserted);
        }
    }
}
