using System.Runtime.InteropServices;
using Iced.Intel;

namespace Emulator.Cpu.Decode;

/// <summary>
/// One decoded instruction translated into the compact form the interpreter loop executes:
/// a handler pointer plus the operands the handler needs, extracted once from Iced's
/// <see cref="Instruction"/> at decode time so that the hot loop never re-reads Iced's
/// 40-byte struct (the design measurements attribute half of a naive interpreter's time to that).
///
/// Register operands are byte offsets into the register file (so 8-bit AH = 1, EBX = 12) and
/// memory operands are pre-split into base/index register numbers (<see cref="Reg.Zero"/> when
/// absent), scale shift, displacement and effective segment.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct MicroOp
{
    /// <summary>The handler. Returns <see cref="Exec.Next"/>, <see cref="Exec.Jump"/>, <see cref="Exec.Fault"/> or <see cref="Exec.Stop"/>.</summary>
    public delegate*<Cpu, ref MicroOp, int> Fn;

    /// <summary>Memory displacement (or absolute moffs).</summary>
    public uint Disp;

    /// <summary>Immediate operand; for near branches the target EIP.</summary>
    public uint Imm;

    /// <summary>Second immediate (ENTER level, far pointer selector, I/O port) or auxiliary data.</summary>
    public uint Imm2;

    /// <summary>EIP of the instruction after this one (the return address of CALL, the fall-through of Jcc).</summary>
    public uint NextEip;

    /// <summary>Destination register byte offset (or register number where documented by the handler).</summary>
    public byte Dst;

    /// <summary>Source register byte offset.</summary>
    public byte Src;

    /// <summary>Memory base register number (<see cref="Reg.Zero"/> when none).</summary>
    public byte Base;

    /// <summary>Memory index register number (<see cref="Reg.Zero"/> when none).</summary>
    public byte Index;

    /// <summary>Index scale as a shift count (0-3).</summary>
    public byte Scale;

    /// <summary>Effective segment of the memory operand (<see cref="Segmentation.SegReg"/>).</summary>
    public byte Seg;

    /// <summary>Instruction length in bytes.</summary>
    public byte Length;

    /// <summary><see cref="OpFlags"/> bits.</summary>
    public byte Flags;

    /// <summary>Iced's code: for statistics, timing tables and traces (never read by handlers on the hot path).</summary>
    public ushort Code;

    /// <summary>Condition code, size or other small selector used by generic handlers.</summary>
    public byte Cc;

    /// <summary>Operand size in bytes (1, 2, 4).</summary>
    public byte OpSize;

    public readonly uint Eip => NextEip - Length;
}

/// <summary>Bits of <see cref="MicroOp.Flags"/>.</summary>
public static class OpFlags
{
    /// <summary>16-bit addressing (ModRM 16-bit forms, SI/DI/CX for strings).</summary>
    public const byte Addr16 = 1;

    /// <summary>REP / REPE prefix.</summary>
    public const byte Rep = 2;

    /// <summary>REPNE prefix.</summary>
    public const byte Repne = 4;

    /// <summary>A locked operation: a LOCK prefix, or XCHG with a memory operand (locked implicitly).</summary>
    public const byte Lock = 8;

    /// <summary>16-bit code segment (IP wraps at 64 KiB, near branches truncate to 16 bits).</summary>
    public const byte Code16 = 16;

    /// <summary>The memory operand's segment came from a prefix (not the default).</summary>
    public const byte SegOverride = 32;
}

/// <summary>Handler return codes.</summary>
public static class Exec
{
    /// <summary>Done; continue with the next micro-op in the block.</summary>
    public const int Next = 0;

    /// <summary>The handler set <see cref="Cpu.Eip"/>; leave the block.</summary>
    public const int Jump = 1;

    /// <summary>A guest exception is pending; EIP stays at this instruction.</summary>
    public const int Fault = 2;

    /// <summary>The handler set <see cref="Cpu.Eip"/> and the CPU stops running for now (HLT, state change).</summary>
    public const int Stop = 3;
}
