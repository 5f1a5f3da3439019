namespace Emulator.Devices;

/// <summary>What a device may ask of the machine that contains it.</summary>
public interface IMachineControl
{
    /// <summary>
    /// Asks the machine to stop running the guest and the emulator to exit with
    /// <paramref name="status"/> as its host exit status. The machine decides when to act on it
    /// (typically after the current instruction); a device never ends the process itself.
    /// </summary>
    void RequestExit(int status);
}
