namespace Emulator.Interrupts;

/// <summary>Delivery modes of interrupt messages, ICR and LVT entries, and IOAPIC redirection entries (bits 8-10).</summary>
public enum DeliveryMode : byte
{
    Fixed = 0,
    LowestPriority = 1,
    Smi = 2,
    Reserved3 = 3,
    Nmi = 4,
    Init = 5,
    Startup = 6,
    ExtInt = 7,
}

/// <summary>ICR bits 18-19.</summary>
public enum DestinationShorthand : byte
{
    None = 0,
    Self = 1,
    AllIncludingSelf = 2,
    AllExcludingSelf = 3,
}

/// <summary>
/// One interrupt message on the APIC bus (an IPI from a local APIC's ICR or a message from the
/// IOAPIC).
/// </summary>
/// <param name="Vector">The vector (for STARTUP: the start page).</param>
/// <param name="Mode">The delivery mode.</param>
/// <param name="Logical">Logical destination mode (the LDR/DFR decide) instead of physical (APIC ID).</param>
/// <param name="Destination">The 8-bit destination field; physical 0xFF is a broadcast.</param>
/// <param name="LevelTriggered">Level-triggered: the accepting local APIC sets the vector's TMR bit and broadcasts its EOI.</param>
/// <param name="Assert">The level bit (ICR bit 14); INIT with level trigger and no assert is the INIT level de-assert.</param>
/// <param name="Shorthand">The destination shorthand; anything but None ignores the destination fields.</param>
public readonly record struct ApicMessage(
    int Vector,
    DeliveryMode Mode,
    bool Logical,
    byte Destination,
    bool LevelTriggered = false,
    bool Assert = true,
    DestinationShorthand Shorthand = DestinationShorthand.None);
