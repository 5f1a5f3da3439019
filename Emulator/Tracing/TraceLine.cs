namespace Emulator.Tracing;

/// <summary>The one-line text form of an executed instruction that `trace` and the `debug` command's steps print.</summary>
public static class TraceLine
{
    /// <summary>CPU, its clock before the instruction, CS:EIP, symbol, disassembly and, for a memory operand, the resolution chain.</summary>
    public static string Format(int cpu, long cycle, ushort cs, uint eip, string where, string disasm, AccessExplanation? access)
    {
        string line = $"cpu{cpu} {cycle,10} {cs:x4}:{eip:x8} <{where}>  {disasm}";
        return access is null ? line : $"{line.PadRight(80)} ; {access.Format()}";
    }
}
