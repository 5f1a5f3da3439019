using System.Text;
using Emulator.Cpu.Decode;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Tracing;

/// <summary>
/// How one memory access resolves, link by link: selector -> descriptor table and index (whose
/// GDT, at which linear address) -> the cached base, limit and type -> offset -> linear ->
/// physical -> symbol ("CPU n's copy of cpu_number") -> value.
/// </summary>
public sealed record AccessExplanation
{
    public required int Cpu { get; init; }

    public required int Segment { get; init; }

    public required ushort Selector { get; init; }

    /// <summary>"GDT", "LDT", or "real-mode" (base = selector * 16).</summary>
    public required string Table { get; init; }

    public required int Index { get; init; }

    /// <summary>Linear address of the descriptor in its table (protected mode only).</summary>
    public uint? DescriptorAddress { get; init; }

    public required uint Base { get; init; }

    public required uint Limit { get; init; }

    public required byte AccessRights { get; init; }

    public required byte DescriptorFlags { get; init; }

    /// <summary>
    /// True when the descriptor in memory no longer matches the segment register's hidden cache
    /// (rewritten without reloading the register): the access still uses the cached base.
    /// </summary>
    public bool Stale { get; init; }

    /// <summary>Base the descriptor in memory holds now (differs from <see cref="Base"/> when stale).</summary>
    public uint? MemoryBase { get; init; }

    public required uint Offset { get; init; }

    public required uint Linear { get; init; }

    public uint? Physical { get; init; }

    public required string Target { get; init; }

    public required int Size { get; init; }

    public required bool Write { get; init; }

    public uint? Value { get; set; }

    /// <summary>In the cycle mode, what the access meets in the caches (predicted before it runs) and its latency; null otherwise.</summary>
    public string? Cache { get; init; }

    public string Format()
    {
        var sb = new StringBuilder();
        sb.Append($"%{SegReg.Name(Segment)}:0x{Offset:x} -> ");
        if (Table == "real-mode")
        {
            sb.Append($"selector 0x{Selector:x4} (real mode: base = selector*16 = 0x{Base:x8})");
        }
        else
        {
            sb.Append($"selector 0x{Selector:x4} = {Table}[{Index}] of CPU {Cpu}");
            if (DescriptorAddress is uint d)
            {
                sb.Append($" @0x{d:x8}");
            }

            sb.Append($" -> cached base 0x{Base:x8} limit 0x{Limit:x8} {TypeName(AccessRights)}");
            if (Stale)
            {
                sb.Append($" (STALE: the descriptor now says base 0x{MemoryBase:x8}; %{SegReg.Name(Segment)} was not reloaded)");
            }
        }

        sb.Append($" -> linear 0x{Linear:x8}");
        sb.Append(Physical is uint p ? $" -> physical 0x{p:x8}" : " -> not mapped");
        sb.Append($" = {Target}");
        if (Value is uint v)
        {
            sb.Append(Write ? " <- " : " -> ");
            sb.Append(Size switch { 1 => $"0x{v:x2}", 2 => $"0x{v:x4}", _ => $"0x{v:x8}" });
        }

        if (Cache is not null)
        {
            sb.Append($" [{Cache}]");
        }

        return sb.ToString();
    }

    public static string TypeName(byte accessRights)
    {
        if ((accessRights & 0x10) == 0)
        {
            return (accessRights & 0xF) switch
            {
                0x1 => "16-bit TSS (available)",
                0x2 => "LDT",
                0x3 => "16-bit TSS (busy)",
                0x4 => "16-bit call gate",
                0x5 => "task gate",
                0x6 => "16-bit interrupt gate",
                0x7 => "16-bit trap gate",
                0x9 => "32-bit TSS (available)",
                0xB => "32-bit TSS (busy)",
                0xC => "32-bit call gate",
                0xE => "32-bit interrupt gate",
                0xF => "32-bit trap gate",
                _ => "reserved system type",
            } + $" dpl{(accessRights >> 5) & 3}";
        }

        bool code = (accessRights & 0x08) != 0;
        bool bit1 = (accessRights & 0x02) != 0;
        bool bit2 = (accessRights & 0x04) != 0;
        string dpl = $"dpl{(accessRights >> 5) & 3}";
        return code
            ? $"code{(bit1 ? " readable" : " exec-only")}{(bit2 ? " conforming" : string.Empty)} {dpl}"
            : $"data{(bit1 ? " read/write" : " read-only")}{(bit2 ? " expand-down" : string.Empty)} {dpl}";
    }
}

public static class AccessExplainer
{
    /// <summary>
    /// Explains the explicit memory operand of <paramref name="ins"/> as it will resolve on
    /// <paramref name="cpu"/> now (call before executing it). Null when it has none (or is LEA).
    /// </summary>
    public static AccessExplanation? Explain(CpuCore cpu, in Instruction ins, PerCpuResolver? resolver)
    {
        int memOp = -1;
        for (int i = 0; i < ins.OpCount; i++)
        {
            if (ins.GetOpKind(i) == OpKind.Memory)
            {
                memOp = i;
                break;
            }
        }

        if (memOp < 0 || ins.Mnemonic is Mnemonic.Lea or Mnemonic.Nop || ins.IsStackInstruction)
        {
            return null;
        }

        uint offset = ins.MemoryDisplacement32;
        if (ins.MemoryBase != Register.None)
        {
            offset += cpu.R(Translator.GprNumber(ins.MemoryBase));
        }

        if (ins.MemoryIndex != Register.None)
        {
            offset += cpu.R(Translator.GprNumber(ins.MemoryIndex)) * (uint)ins.MemoryIndexScale;
        }

        if (ins.MemoryBase.IsGPR16() || ins.MemoryIndex.IsGPR16() || (ins.MemoryBase == Register.None && ins.MemoryIndex == Register.None && ins.MemoryDisplSize == 2))
        {
            offset &= 0xFFFF;
        }

        int seg = Translator.SegmentNumber(ins.MemorySegment);
        int size = Math.Max(1, ins.MemorySize.GetSize());
        bool write = memOp == 0 && ins.Mnemonic is not (Mnemonic.Cmp or Mnemonic.Test or Mnemonic.Bt or Mnemonic.Push or
            Mnemonic.Lgdt or Mnemonic.Lidt or Mnemonic.Lldt or Mnemonic.Ltr or Mnemonic.Lmsw or Mnemonic.Verr or Mnemonic.Verw);
        return Explain(cpu, seg, offset, Math.Min(size, 4), write, resolver);
    }

    /// <summary>Explains an access of <paramref name="size"/> bytes at <paramref name="segment"/>:<paramref name="offset"/>.</summary>
    public static AccessExplanation Explain(CpuCore cpu, int segment, uint offset, int size, bool write, PerCpuResolver? resolver)
    {
        ref SegmentCache s = ref cpu.Seg(segment);
        ushort sel = s.Selector;
        bool realMode = !cpu.ProtectedMode || (cpu.GetEflags() & Emulator.Cpu.EFlags.VM) != 0;
        string table = realMode ? "real-mode" : (sel & 4) != 0 ? "LDT" : "GDT";
        uint? descAddr = null;
        bool stale = false;
        uint? memBase = null;
        if (!realMode && (sel & 0xFFFC) != 0)
        {
            uint tableBase = (sel & 4) != 0 ? cpu.Ldtr.Base : cpu.Gdtr.Base;
            descAddr = tableBase + (uint)(sel & 0xFFF8);
            Span<byte> raw = stackalloc byte[8];
            if (cpu.DebugRead(descAddr.Value, raw))
            {
                ulong d = BitConverter.ToUInt64(raw);
                memBase = SegmentCache.DescriptorBase(d);
                uint memLimit = SegmentCache.DescriptorLimit(d);
                stale = memBase != s.Base || memLimit != s.Limit;
            }
        }

        uint linear = s.Base + offset;
        uint? phys = cpu.DebugTranslate(linear, out uint p) ? p : null;
        var e = new AccessExplanation
        {
            Cpu = cpu.Id,
            Segment = segment,
            Selector = sel,
            Table = table,
            Index = sel >> 3,
            DescriptorAddress = descAddr,
            Base = s.Base,
            Limit = s.Limit,
            AccessRights = s.AccessRights,
            DescriptorFlags = s.Flags,
            Stale = stale,
            MemoryBase = memBase,
            Offset = offset,
            Linear = linear,
            Physical = phys,
            Target = resolver?.Describe(linear) ?? $"0x{linear:x8}",
            Size = size,
            Write = write,
            Cache = phys is uint at && cpu.Cache is { } port && cpu.Bus.FindDevice(at) is null && at < cpu.Bus.RamSize
                ? FormatCache(port.Hierarchy.Predict(cpu.Id, at, write))
                : null,
        };
        if (!write)
        {
            e.Value = ReadValue(cpu, linear, size);
        }

        return e;
    }

    private static string FormatCache((string Outcome, int Latency) p) => $"{p.Outcome}: {p.Latency} cycle{(p.Latency == 1 ? string.Empty : "s")}";

    /// <summary>The value at a linear address now, or null when unmapped.</summary>
    public static uint? ReadValue(CpuCore cpu, uint linear, int size)
    {
        Span<byte> b = stackalloc byte[4];
        if (!cpu.DebugRead(linear, b[..size]))
        {
            return null;
        }

        return size switch { 1 => b[0], 2 => BitConverter.ToUInt16(b), _ => BitConverter.ToUInt32(b) };
    }
}
