using System.Runtime.InteropServices;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Oracle;

/// <summary>
/// Runs one instruction on the host CPU (Linux x86-64 only): a small function is assembled with
/// Iced into an RWX page mapped below 2 GiB (MAP_32BIT, so string pointers fit ESI/EDI), called
/// through an unmanaged function pointer with the state block in RDI. The function loads
/// EAX..EDI from the block, sets EFLAGS with PUSH/POPFQ, runs the instruction, captures EFLAGS
/// with PUSHFQ, clears DF (the ABI requires it) and stores the registers back. The instruction
/// uses 8-, 16- and 32-bit operands only, so its result is that of the 32-bit form (a 32-bit
/// write also clears bits 63..32, which nothing compares). RBX is callee-saved and restored;
/// RSP and RBP are never operands; R11 (caller-saved) holds the block pointer.
/// </summary>
public sealed unsafe class NativeExecutor : IDisposable
{
    private const int PageSize = 8192;
    private const int CodeSize = 4096;
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20, Map32Bit = 0x40;

    private readonly byte* _page;

    public NativeExecutor()
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException(SkipReason);
        }

        nint p = mmap(0, PageSize, ProtRead | ProtWrite | ProtExec, MapPrivate | MapAnonymous | Map32Bit, -1, 0);
        if (p == -1 || p == 0)
        {
            throw new InvalidOperationException($"mmap of an RWX page failed (errno {Marshal.GetLastPInvokeError()})");
        }

        _page = (byte*)p;
    }

    /// <summary>True on Linux x86-64, the only host the native oracle runs on.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    public const string SkipReason = "the native oracle needs an x86-64 Linux host (it executes the instruction under test on the host CPU)";

    /// <summary>The state block's address; string forms turn buffer offsets into pointers with it.</summary>
    public uint StateBase => (uint)(nuint)(_page + CodeSize);

    /// <summary>The memory operand of the instruction under test: the block's memory area, addressed through R11.</summary>
    public static MemoryOperand MemOperand => new(Register.R11, StateLayout.Mem, 1);

    public OracleResult Run(Instruction instruction, OracleCase c, bool strings)
    {
        var a = new Assembler(64);
        a.push(rbx);
        a.mov(r11, rdi);
        AssemblerRegister32[] regs = [eax, ebx, ecx, edx, esi, edi];
        for (int i = 0; i < regs.Length; i++)
        {
            a.mov(regs[i], __dword_ptr[r11 + (StateLayout.Regs + (i * 4))]);
        }

        a.push(__qword_ptr[r11 + StateLayout.FlagsIn]);
        a.popfq();
        a.AddInstruction(instruction);
        a.pushfq();
        a.pop(__qword_ptr[r11 + StateLayout.FlagsOut]);
        a.cld();
        for (int i = 0; i < regs.Length; i++)
        {
            a.mov(__dword_ptr[r11 + (StateLayout.Regs + (i * 4))], regs[i]);
        }

        a.pop(rbx);
        a.ret();
        var writer = new BytesWriter();
        a.Assemble(writer, (ulong)_page);
        if (writer.Bytes.Count > CodeSize)
        {
            throw new InvalidOperationException("native test function too large");
        }

        writer.Bytes.ToArray().CopyTo(new Span<byte>(_page, CodeSize));

        byte* s = _page + CodeSize;
        new Span<byte>(s, StateLayout.Size).Clear();
        uint pointerBase = strings ? StateBase : 0;
        for (int i = 0; i < 6; i++)
        {
            uint v = c.Regs[i];
            if (strings && i >= 4)
            {
                v += pointerBase;
            }

            *(uint*)(s + StateLayout.Regs + (i * 4)) = v;
        }

        *(ulong*)(s + StateLayout.FlagsIn) = c.Flags;
        c.Mem.CopyTo(new Span<byte>(s + StateLayout.Mem, StateLayout.MemSize));
        c.Src.CopyTo(new Span<byte>(s + StateLayout.Src, StateLayout.BufferSize));
        c.Dst.CopyTo(new Span<byte>(s + StateLayout.Dst, StateLayout.BufferSize));

        ((delegate* unmanaged<void*, void>)_page)(s);

        var r = new OracleResult();
        for (int i = 0; i < 6; i++)
        {
            uint v = *(uint*)(s + StateLayout.Regs + (i * 4));
            r.Regs[i] = strings && i >= 4 ? v - pointerBase : v;
        }

        r.Flags = (uint)*(ulong*)(s + StateLayout.FlagsOut);
        new Span<byte>(s + StateLayout.Mem, StateLayout.MemSize).CopyTo(r.Mem);
        new Span<byte>(s + StateLayout.Src, StateLayout.BufferSize).CopyTo(r.Src);
        new Span<byte>(s + StateLayout.Dst, StateLayout.BufferSize).CopyTo(r.Dst);
        return r;
    }

    public void Dispose() => _ = munmap((nint)_page, PageSize);

    [DllImport("libc", SetLastError = true)]
    private static extern nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int munmap(nint addr, nuint length);

    private sealed class BytesWriter : CodeWriter
    {
        public List<byte> Bytes { get; } = [];

        public override void WriteByte(byte value) => Bytes.Add(value);
    }
}

/// <summary>A fact that is skipped, with the reason, on hosts where the native oracle cannot run.</summary>
public sealed class NativeOracleTheoryAttribute : TheoryAttribute
{
    public NativeOracleTheoryAttribute()
    {
        if (!NativeExecutor.IsSupported)
        {
            Skip = NativeExecutor.SkipReason;
        }
    }
}
