using Emulator.Cpu.Decode;
using Iced.Intel;

namespace Emulator.Cpu.Execute;

/// <summary>Instruction family under construction: everything here raises #UD (counted as unimplemented) until written.</summary>
public static unsafe class StringOps
{
    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends) => false;
}
