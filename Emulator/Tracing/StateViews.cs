using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Emulator.Cpu.Segmentation;
using Emulator.Loading;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Tracing;

/// <summary>One non-null GDT entry as a CPU's GDTR sees it, with the segment registers that use it.</summary>
/// <param name="Users">"%fs", or "%fs(stale: cached base 0x...)" when the register's hidden cache differs from the entry.</param>
public sealed record GdtEntry(int Index, ulong Raw, uint Base, uint Limit, byte Access, byte Flags, IReadOnlyList<string> Users)
{
    public string Type => AccessExplanation.TypeName(Access);

    /// <summary>The entry in one line: selector, base, limit, type, size, granularity, raw, users.</summary>
    public string Format() =>
        $"[{Index,2}] sel 0x{Index * 8:x4} base 0x{Base:x8} limit 0x{Limit:x8} {Type}{((Access & 0x80) == 0 ? " not-present" : string.Empty)} {((Access & 0x10) == 0 ? string.Empty : (Flags & 4) != 0 ? "32-bit" : "16-bit")}{((Flags & 8) != 0 ? " 4K-granular" : string.Empty)} raw 0x{Raw:x16}{(Users.Count > 0 ? "  <- " + string.Join(' ', Users) : string.Empty)}";
}

/// <summary>A per-CPU variable's copy on one CPU.</summary>
public sealed record PerCpuValue(int Cpu, uint Offset, uint Address, uint? Value, uint FsBase);

/// <summary>
/// Side-effect-free views of machine state shared by the inspection commands, the gdb stub's
/// monitor and the `debug` command: GDT, IDT, TSS, registers with their hidden descriptor
/// caches, per-CPU variables and memory dumps.
/// </summary>
public static class StateViews
{
    /// <summary>Reads the GDT of a CPU (its own table, as its GDTR points), skipping null entries.</summary>
    public static IReadOnlyList<GdtEntry> ReadGdt(CpuCore cpu)
    {
        var entries = new List<GdtEntry>();
        Span<byte> raw = stackalloc byte[8];
        int count = Math.Min((cpu.Gdtr.Limit + 1) / 8, 8192);
        for (int i = 0; i < count; i++)
        {
            if (!cpu.DebugRead(cpu.Gdtr.Base + (uint)(i * 8), raw))
            {
                continue;
            }

            ulong d = BinaryPrimitives.ReadUInt64LittleEndian(raw);
            if (d == 0)
            {
                continue;
            }

            uint b = SegmentCache.DescriptorBase(d);
            uint limit = SegmentCache.DescriptorLimit(d);
            var users = new List<string>();
            for (int s = 0; s < SegReg.Count; s++)
            {
                ref var seg = ref cpu.Seg(s);
                if ((seg.Selector & 0xFFFC) == i * 8 && (seg.Selector & 4) == 0 && seg.Valid)
                {
                    users.Add(seg.Base == b && seg.Limit == limit ? $"%{SegReg.Name(s)}" : $"%{SegReg.Name(s)}(stale: cached base 0x{seg.Base:x8})");
                }
            }

            entries.Add(new GdtEntry(i, d, b, limit, (byte)(d >> 40), (byte)((d >> 52) & 0xF), users));
        }

        return entries;
    }

    /// <summary>
    /// One CPU's GDT as text: a GDTR line (with what the table's address is, e.g. which CPU's
    /// per-CPU copy of <c>gdt_page</c>) and one line per non-null entry (<see cref="GdtEntry.Format"/>).
    /// Shared by <c>gdt</c>, the <c>debug</c> command and the gdb stub's <c>monitor gdt</c>.
    /// </summary>
    public static string FormatGdt(CpuCore cpu, PerCpuResolver? resolver, string? where = null)
    {
        var text = new StringBuilder();
        string what = resolver?.Describe(cpu.Gdtr.Base) ?? $"0x{cpu.Gdtr.Base:x8}";
        text.AppendLine(CultureInfo.InvariantCulture, $"cpu{cpu.Id}: GDTR base 0x{cpu.Gdtr.Base:x8} limit 0x{cpu.Gdtr.Limit:x4} = {what}{(where is null ? string.Empty : ", " + where)}");
        if (!cpu.ProtectedMode)
        {
            text.AppendLine("  (real mode: no GDT in use)");
        }

        foreach (var e in ReadGdt(cpu))
        {
            text.AppendLine("  " + e.Format());
        }

        return text.ToString();
    }

    /// <summary>
    /// The CPUs' GDTs side by side: one row per entry index any CPU uses, one column per CPU
    /// (base/limit), rows where the CPUs' entries differ marked with '*'.
    /// </summary>
    public static string FormatGdtDiff(IReadOnlyList<CpuCore> cpus, PerCpuResolver? resolver)
    {
        // A CPU still in real mode (an AP waiting for STARTUP) has no GDT in use: its column is empty.
        var tables = cpus.Select(c => c.ProtectedMode ? ReadGdt(c).ToDictionary(e => e.Index) : []).ToList();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"  entry  sel",-15}");
        foreach (var c in cpus)
        {
            text.Append(CultureInfo.InvariantCulture, $" {"cpu" + c.Id,-19}");
        }

        text.AppendLine("  type (of the first CPU that has the entry)");
        text.Append(CultureInfo.InvariantCulture, $"{"  GDTR",-15}");
        foreach (var c in cpus)
        {
            text.Append(CultureInfo.InvariantCulture, $" {(c.ProtectedMode ? $"{c.Gdtr.Base:x8}/{c.Gdtr.Limit:x4}" : "(real mode)"),-19}");
        }

        text.AppendLine();
        foreach (int index in tables.SelectMany(t => t.Keys).Distinct().Order())
        {
            var cells = tables.Select(t => t.TryGetValue(index, out var e) ? e : null).ToList();

            // Bit 41 of a TSS descriptor is its busy flag and bit 40 of a segment its accessed
            // flag: both change by themselves, so they do not count as a difference.
            const ulong volatileBits = 3UL << 40;
            // Only CPUs with a GDT in use (protected mode) take part in the comparison.
            var inUse = cells.Where((_, i) => cpus[i].ProtectedMode).ToList();
            bool differs = inUse.Any(e => e is null) || inUse.Select(e => e!.Raw & ~volatileBits).Distinct().Count() > 1;
            text.Append(CultureInfo.InvariantCulture, $"{(differs ? "*" : " ")} [{index,4}] 0x{index * 8:x4}");
            foreach (var e in cells)
            {
                text.Append(CultureInfo.InvariantCulture, $" {(e is null ? "-" : $"{e.Base:x8}/{e.Limit:x8}"),-19}");
            }

            var first = cells.First(e => e is not null)!;
            string users = string.Join(' ', cells.Where(e => e is not null).SelectMany(e => e!.Users).Select(u => u.Split('(')[0]).Distinct());
            text.AppendLine(CultureInfo.InvariantCulture, $"  {first.Type}{(users.Length > 0 ? "  <- " + users : string.Empty)}");
        }

        if (resolver is { HasPerCpu: true })
        {
            text.Append("  __per_cpu_offset:");
            foreach (var c in cpus)
            {
                text.Append(resolver.Offset(c.Id) is uint o ? $" cpu{c.Id}=0x{o:x8}" : $" cpu{c.Id}=?");
            }

            text.AppendLine();
        }

        text.AppendLine("  (* = the entries of the CPUs in protected mode differ; base/limit shown; accessed and busy bits ignored)");
        return text.ToString();
    }

    /// <summary>A per-CPU variable on every CPU: &amp;VAR + __per_cpu_offset[cpu] and the value there.</summary>
    public static IReadOnlyList<PerCpuValue> ReadPerCpu(IReadOnlyList<CpuCore> cpus, PerCpuResolver resolver, Symbol symbol, int size)
    {
        var rows = new List<PerCpuValue>();
        foreach (var cpu in cpus)
        {
            uint offset = resolver.Offset(cpu.Id) ?? 0;
            uint address = symbol.Address + offset;

            // Read through CPU 0's view: per_cpu(var, cpu) is a flat address every CPU sees alike.
            rows.Add(new PerCpuValue(cpu.Id, offset, address, AccessExplainer.ReadValue(cpus[0], address, size), cpu.Seg(SegReg.FS).Base));
        }

        return rows;
    }

    /// <summary>The size a per-CPU variable is shown with: its own when 1, 2 or 4 bytes, else its first 4.</summary>
    public static int ValueSize(Symbol symbol) => symbol.Size is 1 or 2 or 4 ? (int)symbol.Size : 4;

    public static string FormatPerCpu(string name, int size, PerCpuValue r)
    {
        string value = r.Value is uint v ? $"0x{v.ToString(size == 1 ? "x2" : size == 2 ? "x4" : "x8", CultureInfo.InvariantCulture)} ({v})" : "unmapped";
        return $"cpu{r.Cpu}: __per_cpu_offset=0x{r.Offset:x8} &{name}+offset=0x{r.Address:x8} value={value}   %fs base=0x{r.FsBase:x8}";
    }

    /// <summary>
    /// A per-CPU variable on every CPU as text: a heading with its link address and size, then
    /// one <see cref="FormatPerCpu"/> line per CPU. Shared by <c>percpu</c>, the <c>debug</c>
    /// command and the gdb stub's <c>monitor percpu</c>.
    /// </summary>
    public static string FormatPerCpuTable(IReadOnlyList<CpuCore> cpus, PerCpuResolver resolver, Symbol symbol, string? where = null)
    {
        int size = ValueSize(symbol);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{symbol.Name} (link address 0x{symbol.Address:x8}, {size} bytes){(where is null ? string.Empty : " " + where)}:");
        foreach (var r in ReadPerCpu(cpus, resolver, symbol, size))
        {
            text.AppendLine("  " + FormatPerCpu(symbol.Name, size, r));
        }

        return text.ToString();
    }

    /// <summary>Registers, the segment registers with their hidden descriptor caches, the table registers and control registers.</summary>
    public static string FormatRegisters(CpuCore c, SymbolTable? symbols)
    {
        var sb = new StringBuilder();
        uint pc = c.Seg(SegReg.CS).Base + c.Eip;
        sb.AppendLine(CultureInfo.InvariantCulture, $"cpu{c.Id} {c.State}  cycle {c.Cycles}  instructions {c.Instructions}  cpl {c.Cpl}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  eip {c.Eip:x8} <{symbols?.Format(pc) ?? $"0x{pc:x8}"}>  eflags {c.GetEflags():x8} [{FlagNames(c.GetEflags())}]");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  eax {c.Eax:x8}  ebx {c.Ebx:x8}  ecx {c.Ecx:x8}  edx {c.Edx:x8}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  esi {c.Esi:x8}  edi {c.Edi:x8}  ebp {c.Ebp:x8}  esp {c.Esp:x8}");
        sb.AppendLine("  segment  selector  hidden descriptor cache (what accesses use until the register is reloaded)");
        for (int s = 0; s < SegReg.Count; s++)
        {
            ref var seg = ref c.Seg(s);
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {SegReg.Name(s)}       {seg.Selector:x4}      {FormatCache(seg)}");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"  ldtr     {c.Ldtr.Selector:x4}      {FormatCache(c.Ldtr)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  tr       {c.Tr.Selector:x4}      {FormatCache(c.Tr)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  gdtr base {c.Gdtr.Base:x8} limit {c.Gdtr.Limit:x4}   idtr base {c.Idtr.Base:x8} limit {c.Idtr.Limit:x4}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  cr0 {c.Cr0:x8}  cr2 {c.Cr2:x8}  cr3 {c.Cr3:x8}  cr4 {c.Cr4:x8}");
        return sb.ToString();
    }

    private static string FormatCache(in SegmentCache seg)
    {
        if (!seg.Valid)
        {
            return $"base {seg.Base:x8} limit {seg.Limit:x8} (null: unusable)";
        }

        string size = seg.IsCodeOrData ? (seg.DefaultBig ? " 32-bit" : " 16-bit") : string.Empty;
        return $"base {seg.Base:x8} limit {seg.Limit:x8} {AccessExplanation.TypeName(seg.AccessRights)}{size}{(seg.Present ? string.Empty : " not-present")}";
    }

    private static string FlagNames(uint f)
    {
        (uint Bit, string Name)[] names = [(1u << 0, "CF"), (1u << 2, "PF"), (1u << 4, "AF"), (1u << 6, "ZF"), (1u << 7, "SF"), (1u << 8, "TF"), (1u << 9, "IF"), (1u << 10, "DF"), (1u << 11, "OF"), (1u << 14, "NT"), (1u << 17, "VM")];
        return string.Join(' ', names.Where(n => (f & n.Bit) != 0).Select(n => n.Name));
    }

    /// <summary>The IDT: one line per present gate (vector, selector:offset, type, handler symbol).</summary>
    public static string FormatIdt(CpuCore cpu, SymbolTable? symbols)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"cpu{cpu.Id}: IDTR base 0x{cpu.Idtr.Base:x8} limit 0x{cpu.Idtr.Limit:x4} ({(cpu.Idtr.Limit + 1) / 8} gates)");
        if (!cpu.ProtectedMode)
        {
            sb.AppendLine("  (real mode: the interrupt vector table at IDTR base is used)");
            return sb.ToString();
        }

        Span<byte> raw = stackalloc byte[8];
        int shown = 0;
        for (int v = 0; v * 8 + 7 <= cpu.Idtr.Limit && v < 256; v++)
        {
            if (!cpu.DebugRead(cpu.Idtr.Base + (uint)(v * 8), raw))
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  [{v,3}] unmapped");
                break;
            }

            ulong g = BinaryPrimitives.ReadUInt64LittleEndian(raw);
            byte access = (byte)(g >> 40);
            if ((access & 0x80) == 0)
            {
                continue;
            }

            ushort sel = (ushort)(g >> 16);
            uint offset = (uint)(g & 0xFFFF) | (uint)((g >> 32) & 0xFFFF0000);
            string what = (access & 0xF) == 0x5 ? $"task gate sel 0x{sel:x4}" : $"{sel:x4}:{offset:x8} <{symbols?.Format(offset) ?? $"0x{offset:x8}"}>";
            string mnemonic = Emulator.Cpu.Vectors.Mnemonic(v);
            string name = mnemonic.StartsWith('#') || mnemonic == "NMI" ? " " + mnemonic : string.Empty;
            sb.AppendLine(CultureInfo.InvariantCulture, $"  [{v,3}]{name,-4} {what}  {AccessExplanation.TypeName(access)}");
            shown++;
        }

        if (shown == 0)
        {
            sb.AppendLine("  (no present gate)");
        }

        return sb.ToString();
    }

    /// <summary>The task register and the 32-bit TSS it names (the ring stacks and the saved state).</summary>
    public static string FormatTss(CpuCore cpu, PerCpuResolver? resolver)
    {
        var sb = new StringBuilder();
        var tr = cpu.Tr;
        if (!tr.Valid || tr.Selector == 0)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"cpu{cpu.Id}: TR 0x{tr.Selector:x4}: no task register loaded (ltr not run yet)");
            return sb.ToString();
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"cpu{cpu.Id}: TR 0x{tr.Selector:x4} = GDT[{tr.Selector >> 3}] -> base 0x{tr.Base:x8} limit 0x{tr.Limit:x8} {AccessExplanation.TypeName(tr.AccessRights)} = {resolver?.Describe(tr.Base) ?? $"0x{tr.Base:x8}"}");
        var t = new byte[104];
        if (tr.Limit < 0x67 || !cpu.DebugRead(tr.Base, t))
        {
            sb.AppendLine("  (the TSS is shorter than 104 bytes or not mapped)");
            return sb.ToString();
        }

        uint D(int o) => BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(o));
        ushort W(int o) => BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(o));
        sb.AppendLine(CultureInfo.InvariantCulture, $"  link {W(0):x4}  esp0 {D(4):x8} ss0 {W(8):x4}  esp1 {D(12):x8} ss1 {W(16):x4}  esp2 {D(20):x8} ss2 {W(24):x4}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  cr3 {D(28):x8}  eip {D(32):x8}  eflags {D(36):x8}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  eax {D(40):x8} ecx {D(44):x8} edx {D(48):x8} ebx {D(52):x8} esp {D(56):x8} ebp {D(60):x8} esi {D(64):x8} edi {D(68):x8}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  es {W(72):x4} cs {W(76):x4} ss {W(80):x4} ds {W(84):x4} fs {W(88):x4} gs {W(92):x4} ldt {W(96):x4}  trap {W(100) & 1}  iomap base {W(102):x4}");
        return sb.ToString();
    }

    /// <summary>
    /// N 32-bit words from <paramref name="address"/>, four per line with the symbol at each line's
    /// start; <paramref name="read"/> reads one word (false when unmapped).
    /// </summary>
    public static string FormatWords(uint address, int count, ReadWord read, PerCpuResolver? resolver)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < count; i += 4)
        {
            uint at = address + (uint)(i * 4);
            sb.Append(CultureInfo.InvariantCulture, $"0x{at:x8}:");
            for (int k = i; k < Math.Min(i + 4, count); k++)
            {
                sb.Append(read(address + (uint)(k * 4), out uint w) ? $" 0x{w:x8}" : " ??????????");
            }

            if (resolver is not null)
            {
                sb.Append(CultureInfo.InvariantCulture, $"   <{resolver.Describe(at)}>");
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    public delegate bool ReadWord(uint address, out uint value);
}
