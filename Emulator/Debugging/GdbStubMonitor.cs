using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Emulator.Cpu.Segmentation;
using Emulator.Tracing;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Debugging;

/// <summary>The `monitor` commands (qRcmd).</summary>
public sealed partial class GdbStub
{
    /// <summary>What `monitor info version` answers: "VERSION (DESCRIPTION)", the shape of QEMU's answer.</summary>
    public const string VersionText = "0.1.0 (x86-32 SMP per-CPU teaching emulator)";

    private string Monitor(string command)
    {
        string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || words[0] == "help")
        {
            return """
                monitor commands:
                  info version     the emulator's version (as QEMU answers it)
                  percpu VAR       VAR's value on every CPU: &VAR + __per_cpu_offset[cpu]
                  gdt [CPU]        the GDT of a CPU (default: the selected thread's)
                  explain          how the selected thread's memory operand resolves (segment -> linear -> physical -> per-CPU variable)
                  help             this list

                """;
        }

        return words[0] switch
        {
            "info" when words.Length > 1 && words[1] == "version" => VersionText + "\n",
            "percpu" when words.Length == 2 => PerCpu(words[1]),
            "gdt" when words.Length <= 2 => Gdt(words.Length == 2 ? words[1] : null),
            "explain" when words.Length == 1 => Explain(),
            _ => $"unknown monitor command '{command}' (try 'monitor help')\n",
        };
    }

    private string PerCpu(string name)
    {
        if (M.Image is not { } image || !image.Symbols.TryGetByName(name, out var symbol))
        {
            return $"no symbol '{name}' in the image\n";
        }

        var resolver = Resolver;
        if (resolver is null || !resolver.HasPerCpu)
        {
            return "the image has no per-CPU section (__per_cpu_start, __per_cpu_end, __per_cpu_offset)\n";
        }

        int size = symbol.Size is 1 or 2 ? (int)symbol.Size : 4;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{name} @ 0x{symbol.Address:x8} (template, {symbol.Size} bytes; showing {size})\n");
        foreach (var cpu in M.Cpus)
        {
            uint? offset = resolver.Offset(cpu.Id);
            if (offset is not uint o)
            {
                text.Append(CultureInfo.InvariantCulture, $"  CPU {cpu.Id}: no __per_cpu_offset entry\n");
                continue;
            }

            uint linear = symbol.Address + o;
            uint? value = AccessExplainer.ReadValue(cpu, linear, size);
            string shown = value is uint v ? $"0x{v:x} ({v})" : "unmapped";
            text.Append(CultureInfo.InvariantCulture, $"  CPU {cpu.Id}: __per_cpu_offset=0x{o:x8}  &{name}=0x{linear:x8}  = {shown}\n");
        }

        return text.ToString();
    }

    private string Gdt(string? cpuText)
    {
        int id = _current;
        if (cpuText is not null && (!int.TryParse(cpuText, NumberStyles.None, CultureInfo.InvariantCulture, out id) || id >= M.Cpus.Length))
        {
            return $"no CPU '{cpuText}' (0-{M.Cpus.Length - 1})\n";
        }

        CpuCore cpu = M.Cpus[id];
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"CPU {id}: GDTR base=0x{cpu.Gdtr.Base:x8} limit=0x{cpu.Gdtr.Limit:x4} ({(cpu.Gdtr.Limit + 1) / 8} entries)\n");
        if (!cpu.ProtectedMode)
        {
            text.Append("  (the CPU is in real mode: no GDT in use)\n");
            return text.ToString();
        }

        Span<byte> raw = stackalloc byte[8];
        for (int index = 0; index * 8 + 7 <= cpu.Gdtr.Limit; index++)
        {
            if (!cpu.DebugRead(cpu.Gdtr.Base + (uint)(index * 8), raw))
            {
                text.Append(CultureInfo.InvariantCulture, $"  [{index,2}] unmapped\n");
                break;
            }

            ulong d = BinaryPrimitives.ReadUInt64LittleEndian(raw);
            if (d == 0)
            {
                continue;
            }

            byte access = (byte)(d >> 40);
            int flags = (int)(d >> 52) & 0xF;
            string loaded = string.Concat(Enumerable.Range(0, SegReg.Count)
                .Where(s => (cpu.Seg(s).Selector & 0xFFF8) == index * 8)
                .Select(s => $" %{SegReg.Name(s)}"));
            text.Append(CultureInfo.InvariantCulture,
                $"  [{index,2}] sel 0x{index * 8:x4}  base=0x{SegmentCache.DescriptorBase(d):x8} limit=0x{SegmentCache.DescriptorLimit(d):x8} {AccessExplanation.TypeName(access)} {((flags & 4) != 0 ? "32-bit" : "16-bit")}{((access & 0x80) == 0 ? " not-present" : string.Empty)}{(loaded.Length > 0 ? "  <-" + loaded : string.Empty)}\n");
        }

        return text.ToString();
    }

    private string Explain()
    {
        CpuCore cpu = Current;
        var text = new StringBuilder();
        if (InstructionView.TryDecode(cpu, out var ins))
        {
            string disasm = new InstructionView(M.Image?.Symbols).Format(ins);
            var next = AccessExplainer.Explain(cpu, ins, Resolver);
            text.Append(CultureInfo.InvariantCulture, $"CPU {cpu.Id} next: {disasm}\n  {next?.Format() ?? "no explicit memory operand"}\n");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"CPU {cpu.Id} next: the instruction at 0x{Pc(cpu):x8} cannot be decoded\n");
        }

        var last = Control.LastAccess(cpu.Id);
        text.Append(last is null
            ? "  last access: none recorded (accesses are recorded while stepping or watching)\n"
            : $"  last access (recorded while stepping or watching): {last.Format()}\n");
        return text.ToString();
    }
}
