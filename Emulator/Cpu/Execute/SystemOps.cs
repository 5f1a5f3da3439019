using Emulator.Cpu.Decode;
using Iced.Intel;

namespace Emulator.Cpu.Execute;

/// <summary>System instructions: segment loads, far transfers, INT/IRET, descriptor tables, control registers.</summary>
public static unsafe class SystemOps
{
    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends) => false;
}
