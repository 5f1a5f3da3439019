namespace Emulator.Tests.Oracle;

/// <summary>
/// The state block both executors share, at the same offsets natively and in the emulator: the
/// six general registers an instruction under test may use (ESP and EBP are never operands),
/// the input and output EFLAGS, a 16-byte memory operand area and two 64-byte string buffers.
/// </summary>
public static class StateLayout
{
    public const int Regs = 0;       // eax, ebx, ecx, edx, esi, edi: 6 x 4 bytes
    public const int FlagsIn = 32;   // 8 bytes (popfq natively)
    public const int FlagsOut = 40;  // 8 bytes (pushfq natively)
    public const int Mem = 64;       // the memory operand: 16 bytes
    public const int Src = 128;      // string source buffer (DS:ESI)
    public const int Dst = 192;      // string destination buffer (ES:EDI)
    public const int BufferSize = 64;
    public const int Size = 256;

    public const int MemSize = 16;

    public static readonly string[] RegNames = ["eax", "ebx", "ecx", "edx", "esi", "edi"];
}

/// <summary>One test input: registers, flags, memory; for string forms ESI/EDI are offsets from the block.</summary>
public sealed class OracleCase
{
    public uint[] Regs { get; } = new uint[6];

    public uint Flags { get; set; }

    public byte[] Mem { get; } = new byte[StateLayout.MemSize];

    public byte[] Src { get; } = new byte[StateLayout.BufferSize];

    public byte[] Dst { get; } = new byte[StateLayout.BufferSize];

    /// <summary>The immediate operand, already in the range the instruction's immediate kind takes.</summary>
    public int Imm { get; set; }

    public uint Eax { get => Regs[0]; set => Regs[0] = value; }

    public uint Ebx { get => Regs[1]; set => Regs[1] = value; }

    public uint Ecx { get => Regs[2]; set => Regs[2] = value; }

    public uint Edx { get => Regs[3]; set => Regs[3] = value; }

    public uint Esi { get => Regs[4]; set => Regs[4] = value; }

    public uint Edi { get => Regs[5]; set => Regs[5] = value; }

    public uint Mem32 => BitConverter.ToUInt32(Mem, 0);

    public override string ToString() =>
        $"eax={Eax:x8} ebx={Ebx:x8} ecx={Ecx:x8} edx={Edx:x8} esi={Esi:x8} edi={Edi:x8} flags={Flags:x} imm={Imm} mem={Convert.ToHexString(Mem)}";
}

/// <summary>What an executor observed after the instruction: registers, EFLAGS (from PUSHF) and memory, or the exception raised.</summary>
public sealed class OracleResult
{
    public uint[] Regs { get; } = new uint[6];

    public uint Flags { get; set; }

    public byte[] Mem { get; } = new byte[StateLayout.MemSize];

    public byte[] Src { get; } = new byte[StateLayout.BufferSize];

    public byte[] Dst { get; } = new byte[StateLayout.BufferSize];

    /// <summary>The exception vector the instruction raised, or -1.</summary>
    public int Vector { get; set; } = -1;
}
