using Emulator.Cpu.Decode;
using Iced.Intel;

namespace Emulator.Cpu.Execute;

/// <summary>Handlers shared by every family.</summary>
public static class Handlers
{
    /// <summary>An invalid encoding (or LOCK where not allowed): #UD.</summary>
    public static int Undefined(Cpu c, ref MicroOp op)
    {
        c.Fault(Vectors.UD);
        return Exec.Fault;
    }

    /// <summary>A valid instruction this core does not implement: #UD, counted by mnemonic so a run can report it.</summary>
    public static int Unimplemented(Cpu c, ref MicroOp op)
    {
        string name = ((Iced.Intel.Code)op.Code).Mnemonic().ToString().ToLowerInvariant();
        c.Unimplemented.TryGetValue(name, out long n);
        c.Unimplemented[name] = n + 1;
        c.Fault(Vectors.UD);
        return Exec.Fault;
    }
}
