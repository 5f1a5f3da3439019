using System.Runtime.CompilerServices;
using Emulator.Cpu.Decode;
using Emulator.Cpu.Segmentation;
using Emulator.Timing;
using Iced.Intel;
using static Emulator.Cpu.Execute.Operands;

namespace Emulator.Cpu.Execute;

/// <summary>
/// One string instruction's single iteration (SDM Vol. 2: MOVS, CMPS, SCAS, LODS, STOS, INS,
/// OUTS), as a type so that the generic REP loop and the single-shot handler are compiled once per
/// (instruction, operand size) pair with every test folded away.
/// </summary>
public interface IStringOp
{
    /// <summary>CMPS/SCAS: REPE/REPNE end on ZF as well as on the count.</summary>
    static abstract bool Compares { get; }

    /// <summary>INS/OUTS: the I/O permission check comes first.</summary>
    static abstract bool PortIo { get; }

    /// <summary>OUTS: a port write may stop the machine or change what later code sees; end the block.</summary>
    static abstract bool EndsBlock { get; }

    /// <summary>
    /// Does one iteration and steps ESI/EDI (SI/DI) by <paramref name="delta"/>. Returns false with
    /// a fault pending, in which case no register has changed. <paramref name="equal"/> is the
    /// comparison result of CMPS/SCAS (ZF).
    /// </summary>
    static abstract bool Once(Cpu c, ref MicroOp op, bool a16, int delta, out bool equal);

    /// <summary>
    /// REP fast path (DF = 0 only): does up to <paramref name="count"/> iterations in bulk when
    /// every byte lies in one page on each side, passes the segment checks and is plain RAM in
    /// the TLB (the write TLB never maps pages holding decoded code, so code writes stay on the
    /// slow path and invalidate). Returns the iterations done, 0 when the slow path must do the next one.
    /// </summary>
    static abstract uint Fast(Cpu c, ref MicroOp op, bool a16, uint count, int maxBytes);
}

/// <summary>
/// String instructions: MOVS, CMPS, SCAS, LODS, STOS, INS, OUTS with byte, word and dword
/// operands, 16- and 32-bit addressing (SI/DI/CX wrap at 64 KiB), DF, a segment override on the
/// DS:ESI source only (ES:EDI cannot be overridden), and REP / REPE / REPNE.
///
/// A REP instruction works in bounded chunks (<see cref="MaxIterations"/> slow iterations or
/// <see cref="MaxFastBytes"/> bytes of bulk copying per call) and then re-enters itself with
/// EIP at the instruction, so interrupts and scheduling quanta are honoured. A fault in the middle
/// leaves ESI/EDI/ECX describing the iterations completed and EIP at the instruction, so the
/// restart continues exactly where it stopped (SDM Vol. 2, REP: "the instruction can be resumed").
/// </summary>
public static unsafe class StringOps
{
    /// <summary>Slow-path iterations per handler call before the instruction re-enters itself.</summary>
    public const int MaxIterations = 4096;

    /// <summary>Bytes the fast path moves per handler call before the instruction re-enters itself.</summary>
    public const int MaxFastBytes = 64 * 1024;

    /// <summary><see cref="MicroOp.Cc"/> for a CMPS/SCAS with REPNE (otherwise the prefix is REPE).</summary>
    private const byte RepneCc = 2;

    private const int CxOffset = Reg.ECX * 4;
    private const int DxOffset = Reg.EDX * 4;
    private const int SiOffset = Reg.ESI * 4;
    private const int DiOffset = Reg.EDI * 4;

    /// <summary>The handler of a string instruction without a repeat prefix.</summary>
    public static int Single<K, S>(Cpu c, ref MicroOp op)
        where K : IStringOp
        where S : ISize
    {
        if (K.PortIo && !c.CheckIoPermission(c.RegWord(DxOffset), S.Bytes))
        {
            return Exec.Fault;
        }

        return K.Once(c, ref op, (op.Flags & OpFlags.Addr16) != 0, Delta<S>(c), out _) ? Exec.Next : Exec.Fault;
    }

    /// <summary>
    /// The handler of a string instruction with REP / REPE / REPNE. In the cycle mode each
    /// iteration done costs the instruction's base cost (its block charged only the start-up).
    /// </summary>
    public static int Rep<K, S>(Cpu c, ref MicroOp op)
        where K : IStringOp
        where S : ISize
    {
        if (!c.CycleMode)
        {
            return RepLoop<K, S>(c, ref op);
        }

        bool a16 = (op.Flags & OpFlags.Addr16) != 0;
        uint before = a16 ? c.RegWord(CxOffset) : c.RegDword(CxOffset);
        int r = RepLoop<K, S>(c, ref op);
        uint after = a16 ? c.RegWord(CxOffset) : c.RegDword(CxOffset);
        uint done = a16 ? (ushort)(before - after) : before - after;
        if (done != 0)
        {
            c.ChargeIterations((Code)op.Code, done);
        }

        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RepLoop<K, S>(Cpu c, ref MicroOp op)
        where K : IStringOp
        where S : ISize
    {
        bool a16 = (op.Flags & OpFlags.Addr16) != 0;
        uint count = a16 ? c.RegWord(CxOffset) : c.RegDword(CxOffset);
        if (count == 0)
        {
            return Exec.Next;
        }

        if (K.PortIo && !c.CheckIoPermission(c.RegWord(DxOffset), S.Bytes))
        {
            return Exec.Fault;
        }

        int delta = Delta<S>(c);
        int iterations = MaxIterations;
        int fastBytes = MaxFastBytes;
        while (true)
        {
            if (delta > 0 && !c.DebugTrapPending)
            {
                uint n = K.Fast(c, ref op, a16, count, fastBytes);
                if (n != 0)
                {
                    count -= n;
                    SetCount(c, a16, count);
                    if (count == 0)
                    {
                        return Exec.Next;
                    }

                    fastBytes -= (int)n * S.Bytes;
                    if (fastBytes < S.Bytes)
                    {
                        return Restart(c, ref op);
                    }

                    continue;
                }
            }

            if (!K.Once(c, ref op, a16, delta, out bool equal))
            {
                // ESI/EDI/ECX already describe the completed iterations; the block loop puts EIP
                // back at this instruction.
                return Exec.Fault;
            }

            count--;
            SetCount(c, a16, count);
            if (count == 0 || (K.Compares && equal == (op.Cc == RepneCc)))
            {
                return Exec.Next;
            }

            // A debug trap (single-step, a data or I/O breakpoint) is taken after the iteration
            // that met it, with EIP at the string instruction (SDM 17.3.1.2).
            if (--iterations == 0 || c.DebugTrapPending)
            {
                return Restart(c, ref op);
            }
        }
    }

    /// <summary>Leaves the block with EIP at this instruction so the loop can take interrupts and re-enter it.</summary>
    private static int Restart(Cpu c, ref MicroOp op)
    {
        c.Eip = (op.Flags & OpFlags.Code16) != 0 ? (ushort)op.Eip : op.Eip;
        return Exec.Jump;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Delta<S>(Cpu c)
        where S : ISize => (c.FlagsBase & EFlags.DF) != 0 ? -S.Bytes : S.Bytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetCount(Cpu c, bool a16, uint count)
    {
        if (a16)
        {
            c.RegWord(CxOffset) = (ushort)count;
        }
        else
        {
            c.RegDword(CxOffset) = count;
        }
    }

    /// <summary>SI/DI (zero-extended) with 16-bit addressing, ESI/EDI otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Index(Cpu c, int offset, bool a16) => a16 ? c.RegWord(offset) : c.RegDword(offset);

    /// <summary>Steps SI/DI (wrapping at 64 KiB, upper half kept) or ESI/EDI.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Step(Cpu c, int offset, bool a16, int delta)
    {
        if (a16)
        {
            c.RegWord(offset) = (ushort)(c.RegWord(offset) + delta);
        }
        else
        {
            c.RegDword(offset) += (uint)delta;
        }
    }

    /// <summary>The fast path's segment check for a whole range, without recording a fault (the slow path raises it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool InBounds(uint offset, uint bytes, uint lo, long span) =>
        (long)(uint)(offset - lo) + (bytes - 1) <= span;

    /// <summary>
    /// Elements of <typeparamref name="S"/> that fit from <paramref name="linear"/> to its page end,
    /// from a 16-bit <paramref name="offset"/> to the 64 KiB wrap, and in the byte budget.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Room<S>(uint linear, uint offset, bool a16, int maxBytes)
        where S : ISize
    {
        uint room = Math.Min(0x1000 - (linear & 0xFFF), (uint)maxBytes);
        if (a16)
        {
            room = Math.Min(room, 0x10000 - offset);
        }

        return room / (uint)S.Bytes;
    }

    public struct Movs<S> : IStringOp
        where S : ISize
    {
        public static bool Compares => false;

        public static bool PortIo => false;

        public static bool EndsBlock => false;

        public static bool Once(Cpu c, ref MicroOp op, bool a16, int delta, out bool equal)
        {
            equal = false;
            if (!ReadMem<S>(c, op.Seg, Index(c, SiOffset, a16), out uint v) ||
                !WriteMem<S>(c, SegReg.ES, Index(c, DiOffset, a16), v))
            {
                return false;
            }

            Step(c, SiOffset, a16, delta);
            Step(c, DiOffset, a16, delta);
            return true;
        }

        public static uint Fast(Cpu c, ref MicroOp op, bool a16, uint count, int maxBytes)
        {
            uint si = Index(c, SiOffset, a16);
            uint di = Index(c, DiOffset, a16);
            ref SegmentCache src = ref c.Seg(op.Seg);
            ref SegmentCache dst = ref c.Seg(SegReg.ES);
            uint srcLinear = src.Base + si;
            uint dstLinear = dst.Base + di;
            uint n = Math.Min(count, Math.Min(Room<S>(srcLinear, si, a16, maxBytes), Room<S>(dstLinear, di, a16, maxBytes)));
            if (n == 0)
            {
                return 0;
            }

            uint bytes = n * (uint)S.Bytes;
            if (!InBounds(si, bytes, src.ReadLo, src.ReadSpan) || !InBounds(di, bytes, dst.WriteLo, dst.WriteSpan))
            {
                return 0;
            }

            byte* from = c.TryReadPointer(srcLinear, (int)bytes);
            if (from == null)
            {
                return 0;
            }

            byte* to = c.TryWritePointer(dstLinear, (int)bytes);
            if (to == null)
            {
                return 0;
            }

            if (to > from && to < from + bytes)
            {
                // The destination overlaps the source ahead of it: element by element, as the
                // instruction does (a REP MOVSB with EDI = ESI + 1 replicates the first byte).
                for (uint i = 0; i < bytes; i += (uint)S.Bytes)
                {
                    if (S.Bytes == 1)
                    {
                        to[i] = from[i];
                    }
                    else if (S.Bytes == 2)
                    {
                        Unsafe.WriteUnaligned(to + i, Unsafe.ReadUnaligned<ushort>(from + i));
                    }
                    else
                    {
                        Unsafe.WriteUnaligned(to + i, Unsafe.ReadUnaligned<uint>(from + i));
                    }
                }
            }
            else
            {
                Buffer.MemoryCopy(from, to, bytes, bytes);
            }

            if (c.CycleMode)
            {
                c.ChargeHostRange(from, bytes, S.Bytes, CacheAccessKind.Read);
                c.ChargeHostRange(to, bytes, S.Bytes, CacheAccessKind.Write);
            }

            Step(c, SiOffset, a16, (int)bytes);
            Step(c, DiOffset, a16, (int)bytes);
            return n;
        }
    }

    public struct Stos<S> : IStringOp
        where S : ISize
    {
        public static bool Compares => false;

        public static bool PortIo => false;

        public static bool EndsBlock => false;

        public static bool Once(Cpu c, ref MicroOp op, bool a16, int delta, out bool equal)
        {
            equal = false;
            if (!WriteMem<S>(c, SegReg.ES, Index(c, DiOffset, a16), GetReg<S>(c, 0)))
            {
                return false;
            }

            Step(c, DiOffset, a16, delta);
            return true;
        }

        public static uint Fast(Cpu c, ref MicroOp op, bool a16, uint count, int maxBytes)
        {
            uint di = Index(c, DiOffset, a16);
            ref SegmentCache dst = ref c.Seg(SegReg.ES);
            uint dstLinear = dst.Base + di;
            uint n = Math.Min(count, Room<S>(dstLinear, di, a16, maxBytes));
            if (n == 0)
            {
                return 0;
            }

            uint bytes = n * (uint)S.Bytes;
            if (!InBounds(di, bytes, dst.WriteLo, dst.WriteSpan))
            {
                return 0;
            }

            byte* to = c.TryWritePointer(dstLinear, (int)bytes);
            if (to == null)
            {
                return 0;
            }

            uint v = GetReg<S>(c, 0);
            if (S.Bytes == 1)
            {
                new Span<byte>(to, (int)n).Fill((byte)v);
            }
            else if (S.Bytes == 2)
            {
                new Span<ushort>(to, (int)n).Fill((ushort)v);
            }
            else
            {
                new Span<uint>(to, (int)n).Fill(v);
            }

            if (c.CycleMode)
            {
                c.ChargeHostRange(to, bytes, S.Bytes, CacheAccessKind.Write);
            }

            Step(c, DiOffset, a16, (int)bytes);
            return n;
        }
    }

    public struct Lods<S> : IStringOp
        where S : ISize
    {
        public static bool Compares => false;

        public static bool PortIo => false;

        public static bool EndsBlock => false;

        public static bool Once(Cpu c, ref MicroOp op, bool a16, int delta, out bool equal)
        {
            equal = false;
            if (!ReadMem<S>(c, op.Seg, Index(c, SiOffset, a16), out uint v))
            {
                return false;
            }

            SetReg<S>(c, 0, v);
            Step(c, SiOffset, a16, delta);
            return true;
        }

        public static uint Fast(Cpu c, ref MicroOp op, bool a16, uint count, int maxBytes) => 0;
    }

    public struct Cmps<S> : IStringOp
        where S : ISize
    {
        public static bool Compares => true;

        public static bool PortIo => false;

        public static bool EndsBlock => false;

        public static bool Once(Cpu c, ref MicroOp op, bool a16, int delta, out bool equal)
        {
            if (!ReadMem<S>(c, op.Seg, Index(c, SiOffset, a16), out uint a) ||
                !ReadMem<S>(c, SegReg.ES, Index(c, DiOffset, a16), out uint b))
            {
                equal = false;
                return false;
            }

            uint r = (a - b) & S.Mask;
            c.SetLazy(LazyKind.Sub, S.Index, r, a, b);
            equal = r == 0;
            Step(c, SiOffset, a16, delta);
            Step(c, DiOffset, a16, delta);
            return true;
        }

        public static uint Fast(Cpu c, ref MicroOp op, bool a16, uint count, int maxBytes) => 0;
    }

    public struct Scas<S> : IStringOp
        where S : ISize
    {
        public static bool Compares => true;

        public static bool PortIo => false;

        public static bool EndsBlock => false;

        public static bool Once(Cpu c, ref MicroOp op, bool a16, int delta, out bool equal)
        {
            if (!ReadMem<S>(c, SegReg.ES, Index(c, DiOffset, a16), out uint b))
            {
                equal = false;
                return false;
            }

            uint a = GetReg<S>(c, 0);
            uint r = (a - b) & S.Mask;
            c.SetLazy(LazyKind.Sub, S.Index, r, a, b);
            equal = r == 0;
            Step(c, DiOffset, a16, delta);
            return true;
        }

        public static uint Fast(Cpu c, ref MicroOp op, bool a16, uint count, int maxBytes) => 0;
    }

    public struct Ins<S> : IStringOp
        where S : ISize
    {
        public static bool Compares => false;

        public static bool PortIo => true;

        public static bool EndsBlock => false;

        /// <summary>The destination is checked before the port is read, so a faulting INS does not consume device data.</summary>
        public static bool Once(Cpu c, ref MicroOp op, bool a16, int delta, out bool equal)
        {
            equal = false;
            if (!c.SegWrite(SegReg.ES, Index(c, DiOffset, a16), S.Bytes, out uint linear) ||
                !c.ProbeWrite(linear, S.Bytes))
            {
                return false;
            }

            uint v = c.Io.In(c.RegWord(DxOffset), S.Bytes);
            c.WriteLinear(linear, S.Bytes, v); // probed: cannot fault
            Step(c, DiOffset, a16, delta);
            return true;
        }

        public static uint Fast(Cpu c, ref MicroOp op, bool a16, uint count, int maxBytes) => 0;
    }

    public struct Outs<S> : IStringOp
        where S : ISize
    {
        public static bool Compares => false;

        public static bool PortIo => true;

        public static bool EndsBlock => true;

        public static bool Once(Cpu c, ref MicroOp op, bool a16, int delta, out bool equal)
        {
            equal = false;
            if (!ReadMem<S>(c, op.Seg, Index(c, SiOffset, a16), out uint v))
            {
                return false;
            }

            c.Io.Out(c.RegWord(DxOffset), S.Bytes, v);
            Step(c, SiOffset, a16, delta);
            return true;
        }

        public static uint Fast(Cpu c, ref MicroOp op, bool a16, uint count, int maxBytes) => 0;
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        // Mnemonic.Movsd and Mnemonic.Cmpsd are also SSE2 instructions: select by code.
        bool rep = (op.Flags & (OpFlags.Rep | OpFlags.Repne)) != 0;
        op.Cc = ins.HasRepnePrefix ? RepneCc : (byte)0;
        return ins.Code switch
        {
            Code.Movsb_m8_m8 => Use<Movs<B8>, B8>(ref op, rep, ref ends),
            Code.Movsw_m16_m16 => Use<Movs<W16>, W16>(ref op, rep, ref ends),
            Code.Movsd_m32_m32 => Use<Movs<D32>, D32>(ref op, rep, ref ends),
            Code.Cmpsb_m8_m8 => Use<Cmps<B8>, B8>(ref op, rep, ref ends),
            Code.Cmpsw_m16_m16 => Use<Cmps<W16>, W16>(ref op, rep, ref ends),
            Code.Cmpsd_m32_m32 => Use<Cmps<D32>, D32>(ref op, rep, ref ends),
            Code.Scasb_AL_m8 => Use<Scas<B8>, B8>(ref op, rep, ref ends),
            Code.Scasw_AX_m16 => Use<Scas<W16>, W16>(ref op, rep, ref ends),
            Code.Scasd_EAX_m32 => Use<Scas<D32>, D32>(ref op, rep, ref ends),
            Code.Lodsb_AL_m8 => Use<Lods<B8>, B8>(ref op, rep, ref ends),
            Code.Lodsw_AX_m16 => Use<Lods<W16>, W16>(ref op, rep, ref ends),
            Code.Lodsd_EAX_m32 => Use<Lods<D32>, D32>(ref op, rep, ref ends),
            Code.Stosb_m8_AL => Use<Stos<B8>, B8>(ref op, rep, ref ends),
            Code.Stosw_m16_AX => Use<Stos<W16>, W16>(ref op, rep, ref ends),
            Code.Stosd_m32_EAX => Use<Stos<D32>, D32>(ref op, rep, ref ends),
            Code.Insb_m8_DX => Use<Ins<B8>, B8>(ref op, rep, ref ends),
            Code.Insw_m16_DX => Use<Ins<W16>, W16>(ref op, rep, ref ends),
            Code.Insd_m32_DX => Use<Ins<D32>, D32>(ref op, rep, ref ends),
            Code.Outsb_DX_m8 => Use<Outs<B8>, B8>(ref op, rep, ref ends),
            Code.Outsw_DX_m16 => Use<Outs<W16>, W16>(ref op, rep, ref ends),
            Code.Outsd_DX_m32 => Use<Outs<D32>, D32>(ref op, rep, ref ends),
            _ => false,
        };
    }

    /// <summary>
    /// Picks the handler. The source segment is already in <see cref="MicroOp.Seg"/> (DS or the
    /// override). A repeated instruction ends its block because it re-enters itself; F2 on a
    /// non-comparing string instruction acts as REP, as on hardware.
    /// </summary>
    private static bool Use<K, S>(ref MicroOp op, bool rep, ref bool ends)
        where K : IStringOp
        where S : ISize
    {
        op.OpSize = (byte)S.Bytes;
        op.Fn = rep ? &Rep<K, S> : &Single<K, S>;
        ends |= rep || K.EndsBlock;
        return true;
    }
}
