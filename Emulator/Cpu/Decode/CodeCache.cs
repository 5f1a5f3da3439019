using System.Runtime.InteropServices;
using Emulator.Memory;
using Iced.Intel;

namespace Emulator.Cpu.Decode;

/// <summary>
/// Decoded code shared by every CPU of a machine: code is decoded once (by Iced) and translated
/// once into micro-ops, whichever CPU runs it. Blocks are found by (physical address, EIP, code
/// size). Any write to a physical page holding decoded code (a CPU store, a string instruction,
/// the loader, DMA) invalidates that page's blocks: pages with code are kept out of every CPU's
/// write TLB, so such stores take the slow path and come here (QEMU's "not dirty" scheme).
/// </summary>
public sealed class CodeCache : ICodeWriteObserver
{
    public const int MaxBlockInstructions = 32;

    private readonly MemoryBus _bus;
    private readonly byte[] _codePage;
    private readonly Dictionary<(uint Phys, uint Eip, bool Code32), Block> _blocks = [];
    private readonly Dictionary<uint, List<Block>> _byPage = [];

    // The JIT back-off of physical pages whose code was rewritten (Block.JitShift), by page number.
    private readonly Dictionary<uint, int> _rewrites = [];

    /// <summary>The largest <see cref="Block.JitShift"/>: a block on a page rewritten ten times or more waits 2^20 times the threshold.</summary>
    private const int MaxJitShift = 20;
    private readonly List<Cpu> _cpus = [];
    private readonly byte[] _fetch = new byte[4096 + 32];
    private readonly MicroOp[] _scratch = new MicroOp[MaxBlockInstructions];

    public CodeCache(MemoryBus bus)
    {
        _bus = bus;
        _codePage = new byte[bus.RamSize >> PhysicalMemory.PageShift];
        bus.Ram.CodeObserver = this;
    }

    /// <summary>Blocks decoded so far.</summary>
    public long BlocksDecoded { get; private set; }

    /// <summary>Blocks dropped because their code was written.</summary>
    public long BlocksInvalidated { get; private set; }

    internal void Attach(Cpu cpu) => _cpus.Add(cpu);

    private readonly HashSet<uint> _breakpoints = [];

    /// <summary>Linear addresses where execution stops (debugger breakpoints). Empty on the fast path.</summary>
    public IReadOnlyCollection<uint> Breakpoints => _breakpoints;

    /// <summary>True when any breakpoint is set (the CPU loop checks block starts only then).</summary>
    public bool HasBreakpoints => _hasBreakpoints;

    // Read before every block: a plain field, not the set's count behind two references.
    private bool _hasBreakpoints;

    public bool IsBreakpoint(uint linear) => _breakpoints.Contains(linear);

    /// <summary>
    /// Sets or clears a breakpoint. Breakpoints are checked at block starts, so every block is
    /// dropped and later decoding starts a new block at each breakpoint address: the fast path
    /// stays untouched and nothing is written into guest memory.
    /// </summary>
    public void SetBreakpoint(uint linear, bool enabled)
    {
        bool changed = enabled ? _breakpoints.Add(linear) : _breakpoints.Remove(linear);
        _hasBreakpoints = _breakpoints.Count > 0;
        if (changed)
        {
            FlushAll();
        }
    }

    /// <summary>Drops every decoded block (all CPUs re-decode on their next fetch).</summary>
    public void FlushAll()
    {
        foreach (var b in _blocks.Values)
        {
            if (b.Valid)
            {
                b.Valid = false;
                BlocksInvalidated++;
            }
        }

        _blocks.Clear();
        _byPage.Clear();
        Array.Clear(_codePage);
        foreach (var c in _cpus)
        {
            c.FlushJumpCache();
        }
    }

    public bool IsCodePage(uint physPage)
    {
        uint p = physPage >> PhysicalMemory.PageShift;
        return p < (uint)_codePage.Length && _codePage[p] != 0;
    }

    /// <summary>Called for writes that do not come from a CPU (the loader, DMA).</summary>
    public void PhysicalRangeWritten(uint phys, uint length) => NotifyWrite(null, phys, length);

    /// <summary>A write of <paramref name="length"/> bytes at <paramref name="phys"/>: drop the blocks of any code page it touches.</summary>
    public void NotifyWrite(Cpu? writer, uint phys, uint length)
    {
        if (length == 0)
        {
            return;
        }

        uint first = phys >> PhysicalMemory.PageShift;
        uint last = (uint)(((ulong)phys + length - 1) >> PhysicalMemory.PageShift);
        for (uint p = first; p <= last && p < (uint)_codePage.Length; p++)
        {
            if (_codePage[p] == 0)
            {
                continue;
            }

            _codePage[p] = 0;

            // Code on this page was rewritten: blocks decoded from it later wait longer before
            // they are compiled (see Block.JitShift).
            ref int rewrites = ref CollectionsMarshal.GetValueRefOrAddDefault(_rewrites, p, out _);
            rewrites = Math.Min(rewrites + 2, MaxJitShift);
            if (_byPage.Remove(p << PhysicalMemory.PageShift, out var list))
            {
                foreach (var b in list)
                {
                    if (b.Valid)
                    {
                        b.Valid = false;
                        BlocksInvalidated++;
                        _blocks.Remove((b.PhysStart, b.StartEip, b.Code32));
                    }
                }
            }

            // The writer may be running a block that was just dropped: make it re-fetch.
            if (writer is not null)
            {
                writer.ExitRequested = true;
            }
        }
    }

    /// <summary>
    /// Finds or decodes the block at the CPU's CS:EIP. Returns null with a pending exception
    /// when the first instruction cannot be fetched (#PF, #GP for the CS limit).
    /// </summary>
    public Block? GetBlock(Cpu cpu, uint linear)
    {
        bool code32 = cpu.Code32;
        if (!cpu.Translate(linear, Cpu.AccessKind.Execute, cpu.Cpl == 3, fill: true, out uint phys))
        {
            return null;
        }

        // A block decoded under a larger CS limit must not run past the current one: decode a
        // shorter block instead (it replaces the longer one in the cache).
        if (_blocks.TryGetValue((phys, cpu.Eip, code32), out var block) &&
            block.LastByteEip <= cpu.Seg(Segmentation.SegReg.CS).Limit)
        {
            if (block.PhysPage2 == Block.NoPage || SecondPageMatches(cpu, linear, block.PhysPage2))
            {
                return block;
            }

            // The key holds only the first page: an instruction that straddles into the next
            // linear page read its tail from a physical page the CPU no longer maps there.
            // Decode again; the new block takes the key.
            block.Valid = false;
        }

        return Decode(cpu, linear, phys, code32);
    }

    /// <summary>Whether the linear page following <paramref name="linear"/>'s page still maps <paramref name="physPage2"/> (no fault is recorded).</summary>
    private static bool SecondPageMatches(Cpu cpu, uint linear, uint physPage2)
    {
        int savedVector = cpu.PendingVector;
        uint savedCr2 = cpu.Cr2;
        uint linear2 = (linear & ~0xFFFu) + 0x1000;
        if (cpu.Translate(linear2, Cpu.AccessKind.Execute, cpu.Cpl == 3, fill: false, out uint phys2))
        {
            return (phys2 & ~0xFFFu) == physPage2;
        }

        cpu.PendingVector = savedVector;
        cpu.Cr2 = savedCr2;
        return false;
    }

    private unsafe Block? Decode(Cpu cpu, uint linear, uint phys, bool code32)
    {
        uint eip = cpu.Eip;
        ref var cs = ref cpu.Seg(Segmentation.SegReg.CS);

        // Bytes available: to the end of this page, plus up to 15 bytes of the next page when
        // it translates (an instruction may straddle the boundary).
        int inPage = (int)(0x1000 - (linear & 0xFFF));
        FetchBytes(phys, inPage, 0);
        int avail = inPage;
        uint page2 = Block.NoPage;
        uint linear2 = (linear & ~0xFFFu) + 0x1000;
        int savedVector = cpu.PendingVector;
        uint savedCr2 = cpu.Cr2;
        if (cpu.Translate(linear2, Cpu.AccessKind.Execute, cpu.Cpl == 3, fill: false, out uint phys2))
        {
            FetchBytes(phys2, 15, inPage);
            avail += 15;
            page2 = phys2 & ~0xFFFu;
        }
        else
        {
            cpu.PendingVector = savedVector;
            cpu.Cr2 = savedCr2;
        }

        // The CS limit caps what may be fetched (offsets beyond it raise #GP(0)).
        long csRoom = (long)cs.Limit - eip + 1;
        if (!code32)
        {
            csRoom = Math.Min(csRoom, 0x10000L - eip);
        }

        int limitBytes = (int)Math.Clamp(csRoom, 0, avail);

        var reader = new ByteArrayCodeReader(_fetch, 0, limitBytes);
        var decoder = Iced.Intel.Decoder.Create(code32 ? 32 : 16, reader, eip, DecoderOptions.None);
        int count = 0;
        bool usedPage2 = false;
        while (count < MaxBlockInstructions)
        {
            int offset = (int)decoder.IP - (int)eip;
            if (offset >= inPage)
            {
                break; // the block stops at the page end; the next page starts its own block
            }

            if (count > 0 && _breakpoints.Count > 0 && _breakpoints.Contains(linear + (uint)offset))
            {
                break; // a breakpoint address always starts a block, where the CPU loop checks it
            }

            decoder.Decode(out Instruction ins);
            if (decoder.LastError == DecoderError.NoMoreBytes)
            {
                if (count > 0)
                {
                    break;
                }

                // The very first instruction cannot be fetched: the CS limit or the next page.
                if (limitBytes < avail || csRoom <= 0)
                {
                    cpu.FaultWithCode(Vectors.GP, 0);
                    return null;
                }

                if (page2 == Block.NoPage)
                {
                    cpu.Translate(linear2, Cpu.AccessKind.Execute, cpu.Cpl == 3, fill: true, out _);
                    return null;
                }

                break;
            }

            if (offset + ins.Length > inPage)
            {
                usedPage2 = true;
            }

            ref MicroOp op = ref _scratch[count];
            op = default;
            bool ends = Translator.Translate(in ins, ref op, cpu);
            count++;
            if (ends || usedPage2)
            {
                break;
            }
        }

        var ops = new MicroOp[count];
        Array.Copy(_scratch, ops, count);
        var block = new Block(ops, eip, linear, phys, usedPage2 ? page2 : Block.NoPage, code32);
        if (_rewrites.Count > 0 && _rewrites.TryGetValue(phys >> PhysicalMemory.PageShift, out int shift))
        {
            block.JitShift = shift;
        }

        _blocks[(phys, eip, code32)] = block;
        Register(phys & ~0xFFFu, block);
        if (usedPage2)
        {
            Register(page2, block);
        }

        BlocksDecoded++;
        return block;
    }

    private void Register(uint physPage, Block block)
    {
        uint p = physPage >> PhysicalMemory.PageShift;
        if (!_byPage.TryGetValue(physPage, out var list))
        {
            list = [];
            _byPage[physPage] = list;
        }

        list.Add(block);
        if (p < (uint)_codePage.Length && _codePage[p] == 0)
        {
            _codePage[p] = 1;
            foreach (var c in _cpus)
            {
                c.DropWriteMappings(physPage);
            }
        }
    }

    private unsafe void FetchBytes(uint phys, int count, int destOffset)
    {
        if ((ulong)phys + (ulong)count <= _bus.RamSize && _bus.FindDevice(phys) is null)
        {
            new ReadOnlySpan<byte>(_bus.RamBase + phys, count).CopyTo(_fetch.AsSpan(destOffset, count));
            return;
        }

        for (int i = 0; i < count; i++)
        {
            _fetch[destOffset + i] = (byte)_bus.Read(-1, phys + (uint)i, 1);
        }
    }
}
