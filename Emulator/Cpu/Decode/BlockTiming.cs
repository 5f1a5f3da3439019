using Emulator.Timing;
using Iced.Intel;

namespace Emulator.Cpu.Decode;

/// <summary>
/// A block's static costs in the cycle timing mode, precomputed once so that running the block
/// adds a prefix sum instead of looking up every instruction: for the first k instructions,
/// the base cost (<see cref="CoreTimingTable"/>; REP string instructions count only their
/// start-up penalty here, their iterations are charged as they run), the LOCK penalties and the
/// port I/O cost; and the physical code lines the front end fetches to run them.
/// </summary>
public sealed class BlockTiming
{
    /// <param name="fetchLineCount">For instruction i, how many of <paramref name="fetchLines"/> hold instructions 0..i.</param>
    private BlockTiming(int[] prefix, uint[] fetchLines, int[] fetchLineCount)
    {
        Prefix = prefix;
        FetchLines = fetchLines;

        // What the cycle-mode loop and the end-of-block charge read, precomputed per retired
        // count so that each is one load: the static total, whether any LOCK or I/O cost is in
        // the block at all, and how many lines the front end fetched.
        int n = fetchLineCount.Length;
        OpCount = n;
        Static = new int[n + 1];
        FetchByRetired = new int[n + 1];
        for (int k = 0; k <= n; k++)
        {
            Static[k] = prefix[3 * k] + prefix[(3 * k) + 1] + prefix[(3 * k) + 2];

            // A faulting instruction was fetched too: k retired means instruction k (the one
            // that faulted or was not reached) or, after the last one, the last.
            int lastOp = k < n ? k : k - 1;
            FetchByRetired[k] = lastOp < 0 ? 0 : fetchLineCount[lastOp];
        }

        Plain = prefix[(3 * n) + 1] == 0 && prefix[(3 * n) + 2] == 0;
    }

    /// <summary>The block's instruction count.</summary>
    public int OpCount { get; }

    /// <summary>Base + LOCK + I/O cycles of the first k instructions, k = 0..n (the sum of a <see cref="Prefix"/> triple).</summary>
    public int[] Static { get; }

    /// <summary>No instruction of the block has a LOCK or I/O cost: every prefix is base cycles only.</summary>
    public bool Plain { get; }

    /// <summary>For k instructions retired, k = 0..n, how many of <see cref="FetchLines"/> the front end fetched.</summary>
    public int[] FetchByRetired { get; }

    /// <summary>Triples (base, locked, I/O) of cycles for the first k instructions, k = 0..n, at index 3k.</summary>
    public int[] Prefix { get; }

    /// <summary>Physical addresses of the code lines the block covers, in fetch order.</summary>
    public uint[] FetchLines { get; }


    public static BlockTiming Build(Block block, int lineSize)
    {
        MicroOp[] ops = block.Ops;
        var prefix = new int[(ops.Length + 1) * 3];
        var lines = new List<uint>(2);
        var lineCount = new int[ops.Length];
        uint lineMask = ~((uint)lineSize - 1);
        uint pageOffset = block.PhysStart & 0xFFF;
        int baseSum = 0, lockSum = 0, ioSum = 0;
        for (int i = 0; i < ops.Length; i++)
        {
            ref readonly MicroOp op = ref ops[i];
            var code = (Code)op.Code;
            int cost = CoreTimingTable.BaseCost(code);
            TimingClass cls = CoreTimingTable.Class(code);
            bool rep = (op.Flags & (OpFlags.Rep | OpFlags.Repne)) != 0 && IsString(code);
            if (rep)
            {
                // The iterations are charged by the string handler as they run.
                baseSum += CoreTimingTable.RepStartupPenalty;
            }
            else if (cls == TimingClass.Io)
            {
                ioSum += cost;
            }
            else
            {
                // Every instruction but HLT advances the clock: a block can never run in zero time.
                baseSum += cls == TimingClass.Halt ? 0 : Math.Max(cost, 1);
            }

            if ((op.Flags & OpFlags.Lock) != 0)
            {
                lockSum += CoreTimingTable.LockPenalty;
            }

            prefix[((i + 1) * 3) + 0] = baseSum;
            prefix[((i + 1) * 3) + 1] = lockSum;
            prefix[((i + 1) * 3) + 2] = ioSum;

            // The instruction's bytes, in the block's first page or (straddling) its second.
            uint first = op.Eip - block.StartEip;
            uint last = op.NextEip - 1 - block.StartEip;
            AddLines(block, lines, pageOffset + first, pageOffset + last, lineMask);
            lineCount[i] = lines.Count;
        }

        return new BlockTiming(prefix, [.. lines], lineCount);
    }

    private static void AddLines(Block block, List<uint> lines, uint from, uint to, uint lineMask)
    {
        for (uint at = from & lineMask; at <= to; at += ~lineMask + 1)
        {
            uint phys = at < 0x1000
                ? (block.PhysStart & ~0xFFFu) + at
                : block.PhysPage2 == Block.NoPage ? (block.PhysStart & ~0xFFFu) + at : block.PhysPage2 + (at - 0x1000);
            if (lines.Count == 0 || lines[^1] != phys)
            {
                lines.Add(phys);
            }

            if (at + (~lineMask + 1) < at)
            {
                break;
            }
        }
    }

    private static bool IsString(Code code) => CoreTimingTable.Class(code) == TimingClass.String ||
        code.Mnemonic() is Mnemonic.Insb or Mnemonic.Insw or Mnemonic.Insd or Mnemonic.Outsb or Mnemonic.Outsw or Mnemonic.Outsd;
}
