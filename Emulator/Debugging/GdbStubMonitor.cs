using System.Globalization;
using System.Text;
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

        return StateViews.FormatPerCpuTable(M.Cpus, resolver, symbol);
    }

    private string Gdt(string? cpuText)
    {
        int id = _current;
        if (cpuText is not null && (!int.TryParse(cpuText, NumberStyles.None, CultureInfo.InvariantCulture, out id) || id >= M.Cpus.Length))
        {
            return $"no CPU '{cpuText}' (0-{M.Cpus.Length - 1})\n";
        }

        return StateViews.FormatGdt(M.Cpus[id], Resolver);
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
