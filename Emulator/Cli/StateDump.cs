using System.Text;
using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Emulator.Platform;

namespace Emulator.Cli;

/// <summary>A compact register dump of every CPU, printed with fatal stops.</summary>
public static class StateDump
{
    public static string Format(Machine m)
    {
        var sb = new StringBuilder();
        foreach (var c in m.Cpus)
        {
            sb.AppendLine($"  cpu{c.Id} {c.State}: eip={c.Eip:x8} eflags={c.GetEflags():x8} cpl={c.Cpl} cr0={c.Cr0:x8} cr2={c.Cr2:x8} cr3={c.Cr3:x8} cr4={c.Cr4:x8}");
            sb.AppendLine($"        eax={c.Eax:x8} ebx={c.Ebx:x8} ecx={c.Ecx:x8} edx={c.Edx:x8} esi={c.Esi:x8} edi={c.Edi:x8} ebp={c.Ebp:x8} esp={c.Esp:x8}");
            sb.Append("       ");
            for (int s = 0; s < SegReg.Count; s++)
            {
                ref var seg = ref c.Seg(s);
                sb.Append($" {SegReg.Name(s)}={seg.Selector:x4}(base={seg.Base:x8} limit={seg.Limit:x8})");
                if (s == 2)
                {
                    sb.AppendLine();
                    sb.Append("       ");
                }
            }

            sb.AppendLine();
            sb.AppendLine($"        gdtr={c.Gdtr.Base:x8}/{c.Gdtr.Limit:x4} idtr={c.Idtr.Base:x8}/{c.Idtr.Limit:x4} instructions={c.Instructions} cycles={c.Cycles}");
        }

        return sb.ToString();
    }
}
