using Emulator.Timing;

namespace Emulator.Cpu;

public sealed unsafe partial class Cpu
{
    /// <summary>
    /// I/O permission (SDM Vol. 1, 19.5): allowed in real mode and when CPL &lt;= IOPL (outside
    /// V86); otherwise every bit for the accessed ports in the TSS I/O bitmap must be clear,
    /// and the bitmap must lie within the TSS limit. Raises #GP(0) when denied.
    /// </summary>
    public bool CheckIoPermission(ushort port, int size)
    {
        if (_ioBreakpoints != 0)
        {
            // Every port instruction passes here: the I/O breakpoint check (a trap; a denied
            // access faults, and the fault's delivery discards the pending trap).
            CheckIoBreakpoints(port, size);
        }

        if (!ProtectedMode)
        {
            return true;
        }

        uint iopl = (FlagsBase >> 12) & 3;
        bool v86 = (FlagsBase & EFlags.VM) != 0;
        if (!v86 && Cpl <= iopl)
        {
            return true;
        }

        // Needs a 32-bit TSS (type 9 or 11; TR normally holds it busy).
        if (!Tr.Valid || (Tr.Type & 0xD) != 0x9 || Tr.Limit < 0x67)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!Translate(Tr.Base + 0x66, AccessKind.Read, user: false, fill: false, out uint p1))
        {
            return false;
        }

        uint bitmapBase = Bus.Read(Id, p1, 2);
        ChargePhysical(p1, 2, CacheAccessKind.Read);
        uint byteOff = bitmapBase + (uint)(port >> 3);
        if (byteOff + 1 > Tr.Limit)
        {
            return FaultWithCode(Vectors.GP, 0);
        }

        if (!Translate(Tr.Base + byteOff, AccessKind.Read, user: false, fill: false, out uint p2) ||
            !Translate(Tr.Base + byteOff + 1, AccessKind.Read, user: false, fill: false, out uint p3))
        {
            return false;
        }

        uint bits = Bus.Read(Id, p2, 1) | (Bus.Read(Id, p3, 1) << 8);
        ChargePhysical(p2, 1, CacheAccessKind.Read);
        ChargePhysical(p3, 1, CacheAccessKind.Read);
        uint mask = ((1u << size) - 1) << (port & 7);
        return (bits & mask) == 0 || FaultWithCode(Vectors.GP, 0);
    }
}
