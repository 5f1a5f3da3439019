namespace Emulator.Cpu;

/// <summary>Side-effect-free views of the CPU's address translation, for debuggers and tracers.</summary>
public sealed partial class Cpu
{
    /// <summary>
    /// Translates a linear address as this CPU would, reading the page tables without setting
    /// accessed/dirty bits, recording faults or filling the TLB. Returns false when not mapped.
    /// </summary>
    public bool DebugTranslate(uint linear, out uint phys)
    {
        phys = linear;
        if (!PagingEnabled)
        {
            return true;
        }

        uint pdeAddr = (Cr3 & 0xFFFFF000) | ((linear >> 20) & 0xFFC);
        uint pde = Bus.Read(-1, pdeAddr, 4);
        if ((pde & 1) == 0)
        {
            return false;
        }

        if ((pde & 0x80) != 0 && (Cr4 & Cr4Bits.PSE) != 0)
        {
            phys = (pde & 0xFFC00000) | (linear & 0x3FFFFF);
            return true;
        }

        uint pte = Bus.Read(-1, (pde & 0xFFFFF000) | ((linear >> 10) & 0xFFC), 4);
        if ((pte & 1) == 0)
        {
            return false;
        }

        phys = (pte & 0xFFFFF000) | (linear & 0xFFF);
        return true;
    }

    /// <summary>Reads guest memory at a linear address without side effects; false when any byte is unmapped.</summary>
    public bool DebugRead(uint linear, Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            if (!DebugTranslate(linear + (uint)i, out uint phys) || Bus.FindDevice(phys) is not null)
            {
                return false;
            }

            destination[i] = (byte)Bus.Read(-1, phys, 1);
        }

        return true;
    }
}
