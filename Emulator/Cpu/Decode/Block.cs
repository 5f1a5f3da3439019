namespace Emulator.Cpu.Decode;

/// <summary>
/// A run of decoded instructions that starts at one EIP and ends at a control transfer, an
/// instruction that changes how later code must be decoded or translated, a page end, or
/// <see cref="CodeCache.MaxBlockInstructions"/>. Keyed by physical address, start EIP and code
/// size; valid until a write touches one of its pages.
/// </summary>
public sealed class Block
{
    public Block(MicroOp[] ops, uint startEip, uint linear, uint physStart, uint physPage2, bool code32)
    {
        Ops = ops;
        StartEip = startEip;
        Linear = linear;
        PhysStart = physStart;
        PhysPage2 = physPage2;
        Code32 = code32;
        Valid = true;
        LastByteEip = ops.Length == 0 ? startEip : ops[^1].NextEip - 1;
    }

    public MicroOp[] Ops { get; }

    public uint StartEip { get; }

    /// <summary>CS.base + StartEip when decoded (the per-CPU jump cache key).</summary>
    public uint Linear { get; }

    public uint PhysStart { get; }

    /// <summary>The second physical page an instruction straddles into, or <see cref="NoPage"/>.</summary>
    public uint PhysPage2 { get; }

    public bool Code32 { get; }

    /// <summary>
    /// EIP of the block's last byte: the block may run only while it lies within the CS limit
    /// (it was decoded under some CS limit, and a later CS may have a smaller one).
    /// </summary>
    public uint LastByteEip { get; }

    /// <summary>Cleared when code in the block's pages is written.</summary>
    public bool Valid;

    /// <summary>Times entered (for statistics and hot-block detection).</summary>
    public long ExecCount;

    /// <summary>The block's static costs for the cycle timing mode, built on its first run in that mode.</summary>
    public BlockTiming? Timing;

    /// <summary>The block compiled to IL once hot (the <c>--jit on</c> option), or null.</summary>
    public Compile.CompiledBlock? Compiled;

    /// <summary>Whether <see cref="Compiled"/> was compiled for the cycle mode (with the slice-limit checks).</summary>
    public bool CompiledForCycles;

    /// <summary>
    /// <see cref="ExecCount"/> at which <see cref="Compiled"/> (compiled without the
    /// specialised kernels) is compiled again with them; <see cref="long.MaxValue"/> once it has them.
    /// </summary>
    public long JitTierUpAt = long.MaxValue;

    /// <summary>
    /// The JIT threshold is shifted left by this: 2 for each time code on the block's (first)
    /// physical page was rewritten before the block was decoded, so code that keeps being
    /// rewritten is compiled ever more rarely (each compile costs far more than interpreting
    /// the block a few times) and code on stable pages is compiled as soon as it is hot.
    /// </summary>
    public int JitShift;

    public const uint NoPage = 0xFFFFFFFF;
}
