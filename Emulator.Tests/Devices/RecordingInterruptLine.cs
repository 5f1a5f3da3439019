using Emulator.Devices;

namespace Emulator.Tests.Devices;

/// <summary>An interrupt line that records every level it is driven to.</summary>
internal sealed class RecordingInterruptLine : IInterruptLine
{
    public List<bool> Levels { get; } = [];

    public bool Level { get; private set; }

    public void SetLevel(bool asserted)
    {
        Levels.Add(asserted);
        Level = asserted;
    }
}
