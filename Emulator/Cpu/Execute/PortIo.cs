using Emulator.Cpu.Decode;
using Emulator.Cpu.Segmentation;
using Iced.Intel;

namespace Emulator.Cpu.Execute;

/// <summary>IN and OUT with an immediate port or DX, guarded by IOPL and the TSS I/O permission bitmap.</summary>
public static unsafe class PortIo
{
    /// <summary>op.Imm2 = immediate port, op.Cc = 1 when the port is in DX.</summary>
    private static ushort Port(Cpu c, ref MicroOp op) => op.Cc != 0 ? c.RegWord(8) : (ushort)op.Imm2;

    public static int In(Cpu c, ref MicroOp op)
    {
        ushort port = Port(c, ref op);
        if (!c.CheckIoPermission(port, op.OpSize))
        {
            return Exec.Fault;
        }

        uint v = c.Io.In(port, op.OpSize);
        switch (op.OpSize)
        {
            case 1: c.RegByte(0) = (byte)v; break;
            case 2: c.RegWord(0) = (ushort)v; break;
            default: c.Eax = v; break;
        }

        return Exec.Next;
    }

    public static int Out(Cpu c, ref MicroOp op)
    {
        ushort port = Port(c, ref op);
        if (!c.CheckIoPermission(port, op.OpSize))
        {
            return Exec.Fault;
        }

        uint v = op.OpSize switch { 1 => c.RegByte(0), 2 => c.RegWord(0), _ => c.Eax };
        c.Io.Out(port, op.OpSize, v);
        return Exec.Next;
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        bool isIn = ins.Mnemonic == Mnemonic.In;
        var dataReg = isIn ? ins.Op0Register : ins.Op1Register;
        var portKind = isIn ? ins.Op1Kind : ins.Op0Kind;
        op.OpSize = (byte)dataReg.GetSize();
        if (portKind == OpKind.Register)
        {
            op.Cc = 1;
        }
        else
        {
            op.Imm2 = ins.Immediate8;
        }

        // A port write may stop the machine (debug exit) or change device state a later
        // instruction depends on: end the block so the machine can react at once.
        ends = !isIn;
        op.Fn = isIn ? &In : &Out;
        return true;
    }
}
