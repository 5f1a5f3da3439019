using Emulator.Loading;
using Emulator.Memory;

namespace Emulator.Tracing;

/// <summary>
/// Names addresses the way a Linux developer thinks of them: a plain ELF symbol plus offset, or,
/// for an address inside one CPU's per-CPU area, "CPU n's copy of VAR". It reads the guest's own
/// <c>__per_cpu_offset[]</c> (so it follows whatever the guest's setup_per_cpu_areas computed)
/// and the section bounds <c>__per_cpu_start</c>/<c>__per_cpu_end</c>.
/// </summary>
public sealed class PerCpuResolver
{
    private readonly SymbolTable _symbols;
    private readonly PhysicalMemory _memory;
    private readonly uint _start;
    private readonly uint _end;
    private readonly uint _offsetsAddress;
    private readonly int _offsetCount;

    public PerCpuResolver(SymbolTable symbols, PhysicalMemory memory)
    {
        _symbols = symbols;
        _memory = memory;
        if (symbols.TryGetByName("__per_cpu_start", out var start) && symbols.TryGetByName("__per_cpu_end", out var end) &&
            symbols.TryGetByName("__per_cpu_offset", out var offsets))
        {
            _start = start.Address;
            _end = end.Address;
            _offsetsAddress = offsets.Address;
            _offsetCount = (int)Math.Min(offsets.Size / 4, 4096);
            HasPerCpu = _end > _start && _offsetCount > 0;
        }
    }

    /// <summary>True when the image has a per-CPU section and an offset table.</summary>
    public bool HasPerCpu { get; }

    /// <summary>The guest's <c>__per_cpu_offset[cpu]</c> (read from guest memory now), or null.</summary>
    public uint? Offset(int cpu)
    {
        if (!HasPerCpu || cpu < 0 || cpu >= _offsetCount)
        {
            return null;
        }

        uint addr = _offsetsAddress + ((uint)cpu * 4);
        return _memory.Contains(addr, 4) ? _memory.Read32(addr) : null;
    }

    /// <summary>Describes a linear address (flat kernel mapping assumed: linear = physical for symbols).</summary>
    public string Describe(uint linear)
    {
        var r = Resolve(linear);
        return r.Cpu switch
        {
            int cpu => $"CPU {cpu}'s copy of {Format(r)}",
            null when r.Template => $"the per-CPU template's {Format(r)}",
            _ => Format(r),
        };
    }

    private string Format(PerCpuAddress r) => r.Symbol?.ToString() ?? $"0x{r.Address:x8}";

    /// <summary>
    /// Resolves an address to the symbol it belongs to: for one CPU's per-CPU area, that CPU and
    /// the template variable; for the template itself, <see cref="PerCpuAddress.Template"/>.
    /// </summary>
    public PerCpuAddress Resolve(uint linear)
    {
        if (HasPerCpu)
        {
            for (int cpu = 0; cpu < _offsetCount; cpu++)
            {
                uint? off = Offset(cpu);
                if (off is not uint o || o == 0)
                {
                    continue;
                }

                uint template = linear - o;
                if (template >= _start && template < _end)
                {
                    return new PerCpuAddress(template, cpu, false, _symbols.FindByAddress(template));
                }
            }

            if (linear >= _start && linear < _end)
            {
                return new PerCpuAddress(linear, null, true, _symbols.FindByAddress(linear));
            }
        }

        return new PerCpuAddress(linear, null, false, _symbols.FindByAddress(linear));
    }
}

/// <summary>
/// An address named: <see cref="Address"/> is the symbol-space address (for a CPU's per-CPU
/// copy, the template address of the variable), <see cref="Cpu"/> the CPU whose copy it is.
/// </summary>
public readonly record struct PerCpuAddress(uint Address, int? Cpu, bool Template, SymbolMatch? Symbol)
{
    /// <summary>The symbol's name (with "+0x.." when inside it) or the hex address.</summary>
    public string Name => Symbol?.ToString() ?? $"0x{Address:x8}";

    /// <summary>The variable's name, without the offset, or the hex address.</summary>
    public string Variable => Symbol?.Symbol.Name ?? $"0x{Address:x8}";
}
