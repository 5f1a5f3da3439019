namespace Emulator.Devices;

/// <summary>
/// One interrupt request line from a device to an interrupt controller (8259 pin, IOAPIC pin).
/// Edge-triggered users pulse it (raise then lower); level-triggered ones hold it.
/// </summary>
public interface IInterruptLine
{
    void SetLevel(bool asserted);
}

/// <summary>A line that goes nowhere (no controller wired yet).</summary>
public sealed class NullInterruptLine : IInterruptLine
{
    public static readonly NullInterruptLine Instance = new();

    public void SetLevel(bool asserted)
    {
    }
}
