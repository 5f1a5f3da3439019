using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Emulator.Cpu.Segmentation;
using Emulator.Memory;
using Emulator.Timing;

namespace Emulator.Cpu;

/// <summary>One software-TLB entry: a linear page tag and the host address that maps it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct TlbEntry
{
    /// <summary>Linear page base | user bit (1 when filled for CPL 3), or <see cref="Cpu.TlbInvalid"/>.</summary>
    public uint Tag;

    /// <summary>Physical page base, for invalidation when the page becomes code; bit 0 set for a global page (CR4.PGE and G).</summary>
    public uint PhysPage;

    /// <summary>Host address minus linear page base: host pointer = Addend + linear.</summary>
    public nint Addend;
}

/// <summary>A software TLB's entries, stored inline in <see cref="Cpu"/>.</summary>
[InlineArray(Cpu.TlbSize)]
internal struct TlbArray
{
    private TlbEntry _element;
}

/// <summary>
/// Memory access: segmentation (SDM Vol. 3 ch. 3, 5.3), paging (ch. 4, 32-bit two-level with PSE
/// and PGE), and the software TLB that makes the common access a tag compare and a host load.
///
/// Shape for speed: every accessor is an inlined fast path (segment bound check against the
/// precomputed span, one direct-mapped TLB probe, a raw pointer access) with everything else
/// (faults, page walks, MMIO, page-crossing accesses, writes to pages holding decoded code) in
/// non-inlined slow paths. Guest faults are reported by returning false with the exception
/// recorded in <see cref="PendingVector"/>; nothing here throws.
/// </summary>
public sealed unsafe partial class Cpu
{
    public const int TlbSize = 256;
    public const uint TlbInvalid = 0xFFF;

    // Inline in the CPU object, like the registers: the TLB probe is then an offset from the
    // CPU reference, without loading and null-checking an array reference first.
    private TlbArray _readTlb;
    private TlbArray _writeTlb;

    /// <summary>1 while CPL is 3: folded into TLB tags so user and supervisor fills never alias.</summary>
    private uint _userBit;

    /// <summary>The exception raised by the instruction being executed (valid after a false return).</summary>
    public int PendingVector = -1;
    public uint PendingErrorCode;
    public bool PendingHasErrorCode;

    /// <summary>Page walks done (TLB misses with paging on).</summary>
    public long PageWalks;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref TlbEntry ReadTlbEntry(uint linear) =>
        ref Unsafe.Add(ref Unsafe.As<TlbArray, TlbEntry>(ref _readTlb), (int)((linear >> 12) & (TlbSize - 1)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref TlbEntry WriteTlbEntry(uint linear) =>
        ref Unsafe.Add(ref Unsafe.As<TlbArray, TlbEntry>(ref _writeTlb), (int)((linear >> 12) & (TlbSize - 1)));

    /// <summary>Records a fault; always returns false so callers can <c>return Fault(...)</c>.</summary>
    public bool Fault(int vector, uint errorCode = 0, bool hasErrorCode = false)
    {
        PendingVector = vector;
        PendingErrorCode = errorCode;
        PendingHasErrorCode = hasErrorCode;
        return false;
    }

    public bool FaultWithCode(int vector, uint errorCode) => Fault(vector, errorCode, true);

    /// <summary>Sets CPL and the TLB user bit together.</summary>
    public void SetCpl(int cpl)
    {
        Cpl = cpl;
        _userBit = cpl == 3 ? 1u : 0u;
    }

    // ---------------------------------------------------------------- segmentation

    /// <summary>Segment check for a read of <paramref name="size"/> bytes; on success gives the linear address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool SegRead(int seg, uint offset, int size, out uint linear)
    {
        ref SegmentCache s = ref Seg(seg);
        if ((long)(uint)(offset - s.ReadLo) + (size - 1) > s.ReadSpan)
        {
            linear = 0;
            return SegmentFault(seg, write: false);
        }

        linear = s.Base + offset;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool SegWrite(int seg, uint offset, int size, out uint linear)
    {
        ref SegmentCache s = ref Seg(seg);
        if ((long)(uint)(offset - s.WriteLo) + (size - 1) > s.WriteSpan)
        {
            linear = 0;
            return SegmentFault(seg, write: true);
        }

        linear = s.Base + offset;
        return true;
    }

    /// <summary>
    /// The exception for a failed segment check (SDM Vol. 3, 6.15): #SS(0) for SS-relative
    /// accesses, #GP(0) otherwise, both with error code 0. A null-selector access is #GP(0) too.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool SegmentFault(int seg, bool write)
    {
        _ = write;
        return FaultWithCode(seg == SegReg.SS ? Vectors.SS : Vectors.GP, 0);
    }

    // ---------------------------------------------------------------- linear accesses

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ReadLinear8(uint linear, out byte value)
    {
        ref TlbEntry e = ref ReadTlbEntry(linear);
        if (e.Tag == ((linear & ~0xFFFu) | _userBit))
        {
            value = *(byte*)(e.Addend + (nint)linear);
            if (_cache is not null)
            {
                ChargeTlbHit(e.PhysPage, linear, 1, CacheAccessKind.Read);
            }

            return true;
        }

        bool ok = ReadSlow(linear, 1, out uint v);
        value = (byte)v;
        return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ReadLinear16(uint linear, out ushort value)
    {
        ref TlbEntry e = ref ReadTlbEntry(linear);
        if (e.Tag == ((linear & ~0xFFFu) | _userBit) && (linear & 0xFFF) <= 0xFFE)
        {
            value = *(ushort*)(e.Addend + (nint)linear);
            if (_cache is not null)
            {
                ChargeTlbHit(e.PhysPage, linear, 2, CacheAccessKind.Read);
            }

            return true;
        }

        bool ok = ReadSlow(linear, 2, out uint v);
        value = (ushort)v;
        return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ReadLinear32(uint linear, out uint value)
    {
        ref TlbEntry e = ref ReadTlbEntry(linear);
        if (e.Tag == ((linear & ~0xFFFu) | _userBit) && (linear & 0xFFF) <= 0xFFC)
        {
            value = *(uint*)(e.Addend + (nint)linear);
            if (_cache is not null)
            {
                ChargeTlbHit(e.PhysPage, linear, 4, CacheAccessKind.Read);
            }

            return true;
        }

        return ReadSlow(linear, 4, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool WriteLinear8(uint linear, byte value)
    {
        ref TlbEntry e = ref WriteTlbEntry(linear);
        if (e.Tag == ((linear & ~0xFFFu) | _userBit))
        {
            *(byte*)(e.Addend + (nint)linear) = value;
            if (_cache is not null)
            {
                ChargeTlbHit(e.PhysPage, linear, 1, CacheAccessKind.Write);
            }

            return true;
        }

        return WriteSlow(linear, 1, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool WriteLinear16(uint linear, ushort value)
    {
        ref TlbEntry e = ref WriteTlbEntry(linear);
        if (e.Tag == ((linear & ~0xFFFu) | _userBit) && (linear & 0xFFF) <= 0xFFE)
        {
            *(ushort*)(e.Addend + (nint)linear) = value;
            if (_cache is not null)
            {
                ChargeTlbHit(e.PhysPage, linear, 2, CacheAccessKind.Write);
            }

            return true;
        }

        return WriteSlow(linear, 2, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool WriteLinear32(uint linear, uint value)
    {
        ref TlbEntry e = ref WriteTlbEntry(linear);
        if (e.Tag == ((linear & ~0xFFFu) | _userBit) && (linear & 0xFFF) <= 0xFFC)
        {
            *(uint*)(e.Addend + (nint)linear) = value;
            if (_cache is not null)
            {
                ChargeTlbHit(e.PhysPage, linear, 4, CacheAccessKind.Write);
            }

            return true;
        }

        return WriteSlow(linear, 4, value);
    }

    /// <summary>Reads 1, 2 or 4 bytes at a linear address (size chosen at run time).</summary>
    public bool ReadLinear(uint linear, int size, out uint value)
    {
        switch (size)
        {
            case 1:
                bool ok1 = ReadLinear8(linear, out byte b);
                value = b;
                return ok1;
            case 2:
                bool ok2 = ReadLinear16(linear, out ushort w);
                value = w;
                return ok2;
            default:
                return ReadLinear32(linear, out value);
        }
    }

    public bool WriteLinear(uint linear, int size, uint value) => size switch
    {
        1 => WriteLinear8(linear, (byte)value),
        2 => WriteLinear16(linear, (ushort)value),
        _ => WriteLinear32(linear, value),
    };

    // ---------------------------------------------------------------- segment:offset accesses

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Read8(int seg, uint offset, out byte value)
    {
        if (!SegRead(seg, offset, 1, out uint lin))
        {
            value = 0;
            return false;
        }

        return ReadLinear8(lin, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Read16(int seg, uint offset, out ushort value)
    {
        if (!SegRead(seg, offset, 2, out uint lin))
        {
            value = 0;
            return false;
        }

        return ReadLinear16(lin, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Read32(int seg, uint offset, out uint value)
    {
        if (!SegRead(seg, offset, 4, out uint lin))
        {
            value = 0;
            return false;
        }

        return ReadLinear32(lin, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Write8(int seg, uint offset, byte value) =>
        SegWrite(seg, offset, 1, out uint lin) && WriteLinear8(lin, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Write16(int seg, uint offset, ushort value) =>
        SegWrite(seg, offset, 2, out uint lin) && WriteLinear16(lin, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Write32(int seg, uint offset, uint value) =>
        SegWrite(seg, offset, 4, out uint lin) && WriteLinear32(lin, value);

    /// <summary>Size-generic read (1, 2, 4) through a segment.</summary>
    public bool Read(int seg, uint offset, int size, out uint value)
    {
        if (!SegRead(seg, offset, size, out uint lin))
        {
            value = 0;
            return false;
        }

        return ReadLinear(lin, size, out value);
    }

    public bool Write(int seg, uint offset, int size, uint value) =>
        SegWrite(seg, offset, size, out uint lin) && WriteLinear(lin, size, value);

    /// <summary>
    /// Checks that a read-modify-write of <paramref name="size"/> bytes can complete (segment
    /// writable, pages present and writable) before anything is changed, as the SDM requires for
    /// instructions that must not leave partial results. Gives the linear address.
    /// </summary>
    public bool PrepareWrite(int seg, uint offset, int size, out uint linear)
    {
        if (!SegWrite(seg, offset, size, out linear))
        {
            return false;
        }

        return ProbeWrite(linear, size);
    }

    /// <summary>Checks that a write would succeed at the paging level (fills the TLB; writes nothing).</summary>
    public bool ProbeWrite(uint linear, int size)
    {
        if (!TranslateForAccess(linear, AccessKind.Write, out _))
        {
            return false;
        }

        uint last = linear + (uint)size - 1;
        if ((last & ~0xFFFu) != (linear & ~0xFFFu))
        {
            return TranslateForAccess(last, AccessKind.Write, out _);
        }

        return true;
    }

    // ---------------------------------------------------------------- slow paths

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool ReadSlow(uint linear, int size, out uint value)
    {
        value = 0;
        if ((linear & 0xFFF) > 0x1000 - (uint)size)
        {
            // Page-crossing: byte by byte, each byte through its own translation.
            uint v = 0;
            for (int i = 0; i < size; i++)
            {
                if (!ReadSlow(linear + (uint)i, 1, out uint b))
                {
                    return false;
                }

                v |= b << (8 * i);
            }

            value = v;
            return true;
        }

        if (!TranslateForAccess(linear, AccessKind.Read, out uint phys))
        {
            return false;
        }

        value = Bus.Read(Id, phys, size);
        ChargePhysical(phys, size, CacheAccessKind.Read);
        if (_dataBreakpoints != 0)
        {
            CheckDataBreakpoints(linear, size, write: false);
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool WriteSlow(uint linear, int size, uint value)
    {
        if ((linear & 0xFFF) > 0x1000 - (uint)size)
        {
            // Check every page first so a faulting page-crossing store writes nothing.
            if (!ProbeWrite(linear, size))
            {
                return false;
            }

            for (int i = 0; i < size; i++)
            {
                if (!WriteSlow(linear + (uint)i, 1, (value >> (8 * i)) & 0xFF))
                {
                    return false;
                }
            }

            return true;
        }

        if (!TranslateForAccess(linear, AccessKind.Write, out uint phys))
        {
            return false;
        }

        if (Bus.Write(Id, phys, size, value))
        {
            Code.NotifyWrite(this, phys, (uint)size);
        }

        ChargePhysical(phys, size, CacheAccessKind.Write);
        if (_dataBreakpoints != 0)
        {
            CheckDataBreakpoints(linear, size, write: true);
        }

        return true;
    }

    public enum AccessKind : byte
    {
        Read,
        Write,
        Execute,
    }

    /// <summary>
    /// Translates a linear address for an access by the current privilege level, walking the
    /// page tables on a TLB miss, setting accessed/dirty bits, raising #PF with CR2 and the error
    /// code on failure, and filling the TLB for direct RAM pages.
    /// </summary>
    public bool TranslateForAccess(uint linear, AccessKind kind, out uint phys) =>
        Translate(linear, kind, Cpl == 3, fill: true, out phys);

    /// <summary>
    /// The page walk (SDM Vol. 3, 4.3). <paramref name="user"/> is whether the access is a user
    /// access (CPL 3; descriptor-table and TSS accesses are supervisor accesses whatever the CPL).
    /// </summary>
    public bool Translate(uint linear, AccessKind kind, bool user, bool fill, out uint phys)
    {
        bool write = kind == AccessKind.Write;
        bool writable = true;
        bool global = false;
        uint pageBase;
        uint pageMask;
        if (!PagingEnabled)
        {
            phys = linear;
            pageBase = linear & ~0xFFFu;
            pageMask = 0xFFF;
        }
        else
        {
            PageWalks++;
            if (_cache is not null && !_quietAccess)
            {
                ChargePenalty(CoreTimingTable.PageWalkPenalty);
            }

            uint pdeAddr = (Cr3 & 0xFFFFF000) | ((linear >> 20) & 0xFFC);
            uint pde = Bus.Read(Id, pdeAddr, 4);
            ChargePhysical(pdeAddr, 4, CacheAccessKind.Read);
            if ((pde & 1) == 0)
            {
                phys = 0;
                return PageFault(linear, present: false, write, user);
            }

            bool userOk = (pde & 4) != 0;
            writable = (pde & 2) != 0;
            if ((pde & 0x80) != 0 && (Cr4 & Cr4Bits.PSE) != 0)
            {
                // 4 MiB page.
                if (!CheckPageRights(userOk, writable, write, user))
                {
                    phys = 0;
                    return PageFault(linear, present: true, write, user);
                }

                uint newPde = pde | 0x20 | (write ? 0x40u : 0);
                if (newPde != pde)
                {
                    WritePageTableEntry(pdeAddr, newPde);
                }

                global = (pde & 0x100) != 0 && (Cr4 & Cr4Bits.PGE) != 0;
                phys = (pde & 0xFFC00000) | (linear & 0x3FFFFF);
                pageBase = phys & ~0xFFFu;
                pageMask = 0xFFF;
                writable = (newPde & 0x40) != 0 && writable; // only a dirty page may take fast-path writes
            }
            else
            {
                uint pteAddr = (pde & 0xFFFFF000) | ((linear >> 10) & 0xFFC);
                uint pte = Bus.Read(Id, pteAddr, 4);
                ChargePhysical(pteAddr, 4, CacheAccessKind.Read);
                if ((pte & 1) == 0)
                {
                    phys = 0;
                    return PageFault(linear, present: false, write, user);
                }

                userOk &= (pte & 4) != 0;
                writable &= (pte & 2) != 0;
                if (!CheckPageRights(userOk, writable, write, user))
                {
                    phys = 0;
                    return PageFault(linear, present: true, write, user);
                }

                if ((pde & 0x20) == 0)
                {
                    WritePageTableEntry(pdeAddr, pde | 0x20);
                }

                uint newPte = pte | 0x20 | (write ? 0x40u : 0);
                if (newPte != pte)
                {
                    WritePageTableEntry(pteAddr, newPte);
                }

                global = (pte & 0x100) != 0 && (Cr4 & Cr4Bits.PGE) != 0;
                phys = (pte & 0xFFFFF000) | (linear & 0xFFF);
                pageBase = phys & ~0xFFFu;
                pageMask = 0xFFF;
                writable = (newPte & 0x40) != 0 && writable;

                // Supervisor writes ignore R/W when CR0.WP is clear: such a page may be written
                // through the fast path only by supervisor fills.
                if (!user && (Cr0 & Cr0Bits.WP) == 0)
                {
                    writable = (newPte & 0x40) != 0;
                }
            }

            _ = userOk;
        }

        _ = pageMask;
        if (fill)
        {
            FillTlb(linear, pageBase, write, writable, global);
        }

        return true;
    }

    private bool CheckPageRights(bool userOk, bool writable, bool write, bool user)
    {
        if (user)
        {
            return userOk && (!write || writable);
        }

        // Supervisor: writes to read-only pages fault only with CR0.WP set.
        return !write || writable || (Cr0 & Cr0Bits.WP) == 0;
    }

    private void WritePageTableEntry(uint phys, uint value)
    {
        if (Bus.Write(Id, phys, 4, value))
        {
            Code.NotifyWrite(this, phys, 4);
        }

        ChargePhysical(phys, 4, CacheAccessKind.Write);
    }

    private bool PageFault(uint linear, bool present, bool write, bool user)
    {
        Cr2 = linear;
        uint error = (present ? 1u : 0) | (write ? 2u : 0) | (user ? 4u : 0);
        return FaultWithCode(Vectors.PF, error);
    }

    private void FillTlb(uint linear, uint physPage, bool write, bool writable, bool global)
    {
        if (!Bus.IsDirectRam(physPage) || (_dataBreakpoints != 0 && IsWatchedPage(linear)))
        {
            // MMIO, and pages holding an armed data breakpoint, always take the slow path.
            return;
        }

        uint tag = (linear & ~0xFFFu) | _userBit;
        nint addend = (nint)(RamBase + physPage) - (nint)(linear & ~0xFFFu);

        // An access fills its own TLB, and the other one only where that evicts no other page:
        // a copy between two pages that share a slot would otherwise make every read evict the
        // destination from the write TLB and every write evict the source from the read TLB.
        ref TlbEntry r = ref ReadTlbEntry(linear);
        if (!write || r.Tag == TlbInvalid || r.Tag == tag)
        {
            r.Tag = tag;
            r.PhysPage = physPage | (global ? 1u : 0u);
            r.Addend = addend;
        }

        // Writes go through the fast path only when the page holds no decoded code (so stores
        // to code take the slow path and invalidate it) and the page is dirty-and-writable
        // (so the first store sets D and later protection checks stay exact).
        if ((write || !PagingEnabled) && writable && !Code.IsCodePage(physPage))
        {
            ref TlbEntry w = ref WriteTlbEntry(linear);
            if (write || w.Tag == TlbInvalid || w.Tag == tag)
            {
                w.Tag = tag;
                w.PhysPage = physPage | (global ? 1u : 0u);
                w.Addend = addend;
            }
        }
    }

    /// <summary>
    /// Drops the TLB entries: all of them, or (a CR3 load, <paramref name="includeGlobal"/>
    /// false) all but the global pages, which survive as on hardware with CR4.PGE.
    /// </summary>
    public void FlushTlb(bool includeGlobal)
    {
        for (int i = 0; i < TlbSize; i++)
        {
            if (includeGlobal || (_readTlb[i].PhysPage & 1) == 0)
            {
                _readTlb[i].Tag = TlbInvalid;
            }

            if (includeGlobal || (_writeTlb[i].PhysPage & 1) == 0)
            {
                _writeTlb[i].Tag = TlbInvalid;
            }
        }

        FlushJumpCache();
    }

    /// <summary>INVLPG: drops the entries for one linear page.</summary>
    public void FlushTlbPage(uint linear)
    {
        ReadTlbEntry(linear).Tag = TlbInvalid;
        WriteTlbEntry(linear).Tag = TlbInvalid;
        FlushJumpCache();
    }

    /// <summary>Removes write-TLB entries for a physical page that now holds decoded code.</summary>
    internal void DropWriteMappings(uint physPage)
    {
        for (int i = 0; i < TlbSize; i++)
        {
            if (_writeTlb[i].Tag != TlbInvalid && (_writeTlb[i].PhysPage & ~0xFFFu) == physPage)
            {
                _writeTlb[i].Tag = TlbInvalid;
            }
        }
    }

    // ---------------------------------------------------------------- stack

    /// <summary>Pushes a 16- or 32-bit value (size = 2 or 4) using SS and ESP/SP as SS.B says.</summary>
    public bool Push(uint value, int size)
    {
        if (Seg(SegReg.SS).DefaultBig)
        {
            uint esp = Esp - (uint)size;
            if (!Write(SegReg.SS, esp, size, value))
            {
                return false;
            }

            Esp = esp;
        }
        else
        {
            ushort sp = (ushort)(Esp - (uint)size);
            if (!Write(SegReg.SS, sp, size, value))
            {
                return false;
            }

            Esp = (Esp & 0xFFFF0000) | sp;
        }

        return true;
    }

    public bool Pop(int size, out uint value)
    {
        if (Seg(SegReg.SS).DefaultBig)
        {
            if (!Read(SegReg.SS, Esp, size, out value))
            {
                return false;
            }

            Esp += (uint)size;
        }
        else
        {
            ushort sp = (ushort)Esp;
            if (!Read(SegReg.SS, sp, size, out value))
            {
                return false;
            }

            Esp = (Esp & 0xFFFF0000) | (ushort)(sp + size);
        }

        return true;
    }

    /// <summary>Reads the stack at ESP + <paramref name="displacement"/> without popping.</summary>
    public bool PeekStack(uint displacement, int size, out uint value)
    {
        uint off = Seg(SegReg.SS).DefaultBig ? Esp + displacement : (ushort)(Esp + displacement);
        return Read(SegReg.SS, off, size, out value);
    }

    // ---------------------------------------------------------------- host-side access (debugger, tests)

    /// <summary>Reads guest memory through this CPU's translation without side effects on failure (no fault recorded).</summary>
    public bool DebugReadLinear(uint linear, Span<byte> destination)
    {
        int saved = PendingVector;
        uint savedCr2 = Cr2;
        _quietAccess = true;
        try
        {
            for (int i = 0; i < destination.Length; i++)
            {
                if (!Translate(linear + (uint)i, AccessKind.Read, user: false, fill: false, out uint phys))
                {
                    PendingVector = saved;
                    Cr2 = savedCr2;
                    return false;
                }

                destination[i] = (byte)Bus.Read(Id, phys, 1);
            }

            return true;
        }
        finally
        {
            _quietAccess = false;
        }
    }
}

public static class Cr0Bits
{
    public const uint PE = 1u << 0;
    public const uint MP = 1u << 1;
    public const uint EM = 1u << 2;
    public const uint TS = 1u << 3;
    public const uint ET = 1u << 4;
    public const uint NE = 1u << 5;
    public const uint WP = 1u << 16;
    public const uint AM = 1u << 18;
    public const uint NW = 1u << 29;
    public const uint CD = 1u << 30;
    public const uint PG = 1u << 31;
}

public static class Cr4Bits
{
    public const uint VME = 1u << 0;
    public const uint PVI = 1u << 1;
    public const uint TSD = 1u << 2;
    public const uint DE = 1u << 3;
    public const uint PSE = 1u << 4;
    public const uint PAE = 1u << 5;
    public const uint MCE = 1u << 6;
    public const uint PGE = 1u << 7;
    public const uint PCE = 1u << 8;
}

/// <summary>Exception vectors (SDM Vol. 3, table 6-1).</summary>
public static class Vectors
{
    public const int DE = 0;
    public const int DB = 1;
    public const int NMI = 2;
    public const int BP = 3;
    public const int OF = 4;
    public const int BR = 5;
    public const int UD = 6;
    public const int NM = 7;
    public const int DF = 8;
    public const int TS = 10;
    public const int NP = 11;
    public const int SS = 12;
    public const int GP = 13;
    public const int PF = 14;
    public const int MF = 16;
    public const int AC = 17;
    public const int MC = 18;

    public static string Mnemonic(int vector) => vector switch
    {
        DE => "#DE",
        DB => "#DB",
        NMI => "NMI",
        BP => "#BP",
        OF => "#OF",
        BR => "#BR",
        UD => "#UD",
        NM => "#NM",
        DF => "#DF",
        TS => "#TS",
        NP => "#NP",
        SS => "#SS",
        GP => "#GP",
        PF => "#PF",
        MF => "#MF",
        AC => "#AC",
        MC => "#MC",
        _ => $"vector {vector}",
    };
}

public sealed unsafe partial class Cpu
{
    /// <summary>A direct host pointer for reading <paramref name="size"/> bytes at a linear address when the read TLB maps them, else null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* TryReadPointer(uint linear, int size)
    {
        ref TlbEntry e = ref ReadTlbEntry(linear);
        if (e.Tag == ((linear & ~0xFFFu) | _userBit) && (linear & 0xFFF) <= 0x1000 - (uint)size)
        {
            return (byte*)(e.Addend + (nint)linear);
        }

        return null;
    }

    /// <summary>A direct host pointer for writing <paramref name="size"/> bytes at a linear address when the write TLB maps them, else null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* TryWritePointer(uint linear, int size)
    {
        ref TlbEntry e = ref WriteTlbEntry(linear);
        if (e.Tag == ((linear & ~0xFFFu) | _userBit) && (linear & 0xFFF) <= 0x1000 - (uint)size)
        {
            return (byte*)(e.Addend + (nint)linear);
        }

        return null;
    }
}
