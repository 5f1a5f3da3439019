using Emulator.Cpu.Segmentation;
using Emulator.Loading;
using Iced.Intel;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Tracing;

/// <summary>Decodes and formats the instruction at a CPU's CS:EIP (AT&amp;T syntax, as gdb and Linux sources show it).</summary>
public sealed class InstructionView
{
    private readonly GasFormatter _formatter;
    private readonly StringOutput _output = new();

    public InstructionView(SymbolTable? symbols)
    {
        _formatter = new GasFormatter(symbols is null ? null : new Resolver(symbols));
        _formatter.Options.FirstOperandCharIndex = 8;
        _formatter.Options.UppercaseHex = false;
    }

    /// <summary>Decodes the instruction at the CPU's current CS:EIP without side effects. False when its bytes are not mapped.</summary>
    public static bool TryDecode(CpuCore cpu, out Instruction instruction)
    {
        uint linear = cpu.Seg(SegReg.CS).Base + cpu.Eip;
        Span<byte> bytes = stackalloc byte[15];
        int n = 0;
        while (n < bytes.Length && cpu.DebugRead(linear + (uint)n, bytes.Slice(n, 1)))
        {
            n++;
        }

        var decoder = Decoder.Create(cpu.Code32 ? 32 : 16, new ByteArrayCodeReader(bytes[..n].ToArray()), cpu.Eip);
        decoder.Decode(out instruction);
        return n > 0 && !instruction.IsInvalid;
    }

    public string Format(in Instruction instruction)
    {
        _formatter.Format(instruction, _output);
        return _output.ToStringAndReset();
    }

    private sealed class Resolver(SymbolTable symbols) : ISymbolResolver
    {
        public bool TryGetSymbol(in Instruction instruction, int operand, int instructionOperand, ulong address, int addressSize, out SymbolResult symbol)
        {
            if (instruction.IsCallNear || instruction.IsJmpNear || instruction.IsJccShortOrNear)
            {
                if (symbols.FindByAddress((uint)address) is { } m)
                {
                    symbol = m.Offset == 0
                        ? new SymbolResult(address, m.Symbol.Name)
                        : new SymbolResult(address, $"{m.Symbol.Name}+0x{m.Offset:x}");
                    return true;
                }
            }

            symbol = default;
            return false;
        }
    }
}
