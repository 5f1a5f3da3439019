using Emulator.Cpu;
using Emulator.Tests.Cpu;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Oracle;

/// <summary>
/// Runs one instruction in the emulator, in flat 32-bit protected mode with the exception
/// harness's IDT (so #DE and #UD are recorded instead of shutting the CPU down). The registers
/// are set directly; the code is <c>push flags; popfd; instruction; pushfd; pop [out]; hlt</c>,
/// the same shape as the native function. One harness is reused for many cases.
/// </summary>
public sealed class EmulatorExecutor : IDisposable
{
    public const uint StateBase = CpuHarness.DataBase;

    private readonly CpuHarness _h;

    public EmulatorExecutor()
    {
        _h = new CpuHarness(1 << 20);
        ExceptionHarness.InstallProtectedMode(_h);
    }

    public static MemoryOperand MemOperand => new(Register.None, StateBase + StateLayout.Mem, 4);

    public OracleResult Run(Instruction instruction, OracleCase c, bool strings)
    {
        var a = new Assembler(32);
        a.push((int)c.Flags);
        a.popfd();
        a.AddInstruction(instruction);
        a.pushfd();
        a.pop(__dword_ptr[(long)(StateBase + StateLayout.FlagsOut)]);
        a.hlt();
        _h.Load(32, CpuHarness.CodeBase, a2 => Copy(a, a2));

        var m = _h.Memory;
        m.Write(StateBase, new byte[StateLayout.Size]);
        m.Write(StateBase + StateLayout.Mem, c.Mem);
        m.Write(StateBase + StateLayout.Src, c.Src);
        m.Write(StateBase + StateLayout.Dst, c.Dst);
        m.Write32(ExceptionHarness.Record, ExceptionHarness.None);

        var cpu = _h.Cpu;
        cpu.SetMultibootEntryState(CpuHarness.CodeBase, 0, 0);
        uint pointerBase = strings ? StateBase : 0;
        int[] map = [Reg.EAX, Reg.EBX, Reg.ECX, Reg.EDX, Reg.ESI, Reg.EDI];
        for (int i = 0; i < 6; i++)
        {
            cpu.R(map[i]) = c.Regs[i] + (i >= 4 ? pointerBase : 0);
        }

        cpu.Esp = CpuHarness.StackTop;
        cpu.Run(long.MaxValue, 100);
        if (cpu.State != RunState.Halted)
        {
            throw new InvalidOperationException($"emulator did not halt: state {cpu.State}, EIP=0x{cpu.Eip:x} {cpu.Shutdown}");
        }

        var r = new OracleResult();
        uint vector = m.Read32(ExceptionHarness.Record);
        if (vector != ExceptionHarness.None)
        {
            r.Vector = (int)vector;
        }

        for (int i = 0; i < 6; i++)
        {
            r.Regs[i] = cpu.R(map[i]) - (i >= 4 ? pointerBase : 0);
        }

        r.Flags = m.Read32(StateBase + StateLayout.FlagsOut);
        Read(StateBase + StateLayout.Mem, r.Mem);
        Read(StateBase + StateLayout.Src, r.Src);
        Read(StateBase + StateLayout.Dst, r.Dst);
        return r;
    }

    /// <summary>The unimplemented-instruction counters (an unimplemented form raises #UD in the guest).</summary>
    public IReadOnlyDictionary<string, long> Unimplemented => _h.Cpu.Unimplemented;

    public void Dispose() => _h.Dispose();

    private void Read(uint at, byte[] into)
    {
        for (int i = 0; i < into.Length; i++)
        {
            into[i] = _h.Memory.Read8(at + (uint)i);
        }
    }

    private static void Copy(Assembler from, Assembler to)
    {
        foreach (var i in from.Instructions)
        {
            to.AddInstruction(i);
        }
    }
}
