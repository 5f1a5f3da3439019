using Emulator.Cpu.Decode;
using Iced.Intel;

namespace Emulator.Cpu.Execute;

/// <summary>Flag instructions, NOP/PAUSE/WAIT, HLT, UD0-2, CPUID, RDTSC, RDMSR/WRMSR.</summary>
public static unsafe class Misc
{
    public static int Nop(Cpu c, ref MicroOp op) => Exec.Next;

    public static int Clc(Cpu c, ref MicroOp op)
    {
        c.SetArithFlags(0, EFlags.CF);
        return Exec.Next;
    }

    public static int Stc(Cpu c, ref MicroOp op)
    {
        c.SetArithFlags(EFlags.CF, EFlags.CF);
        return Exec.Next;
    }

    public static int Cmc(Cpu c, ref MicroOp op)
    {
        c.SetArithFlags(c.GetCF() ^ 1, EFlags.CF);
        return Exec.Next;
    }

    public static int Cld(Cpu c, ref MicroOp op)
    {
        c.FlagsBase &= ~EFlags.DF;
        return Exec.Next;
    }

    public static int Std(Cpu c, ref MicroOp op)
    {
        c.FlagsBase |= EFlags.DF;
        return Exec.Next;
    }

    /// <summary>CLI: allowed when CPL &lt;= IOPL (or in real mode), else #GP(0). (VME/PVI are not offered in CPUID.)</summary>
    public static int Cli(Cpu c, ref MicroOp op)
    {
        if (!IoplOk(c))
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        c.FlagsBase &= ~EFlags.IF;
        return Exec.Next;
    }

    /// <summary>STI: as CLI, and when it sets IF, interrupts stay blocked until after the next instruction.</summary>
    public static int Sti(Cpu c, ref MicroOp op)
    {
        if (!IoplOk(c))
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        if ((c.FlagsBase & EFlags.IF) == 0)
        {
            c.FlagsBase |= EFlags.IF;
            c.InterruptShadow = true;
        }

        c.Eip = op.NextEip;
        return Exec.Jump;
    }

    private static bool IoplOk(Cpu c)
    {
        if (!c.ProtectedMode)
        {
            return true;
        }

        if ((c.FlagsBase & EFlags.VM) != 0)
        {
            return ((c.FlagsBase >> 12) & 3) == 3;
        }

        return c.Cpl <= ((c.FlagsBase >> 12) & 3);
    }

    /// <summary>HLT: privileged (#GP(0) above CPL 0); the CPU sleeps until an interrupt, resuming after the HLT.</summary>
    public static int Hlt(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0)
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        c.Eip = op.NextEip;
        c.State = RunState.Halted;
        return Exec.Stop;
    }

    public static int Cpuid(Cpu c, ref MicroOp op)
    {
        c.ExecuteCpuid();
        return Exec.Next;
    }

    /// <summary>RDTSC: the CPU's own cycle clock (plus the offset WRMSR to IA32_TSC set); #GP(0) when CR4.TSD and CPL &gt; 0.</summary>
    public static int Rdtsc(Cpu c, ref MicroOp op)
    {
        if ((c.Cr4 & Cr4Bits.TSD) != 0 && c.Cpl != 0 && c.ProtectedMode)
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        ulong tsc = c.ReadTsc();
        c.Eax = (uint)tsc;
        c.Edx = (uint)(tsc >> 32);
        return Exec.Next;
    }

    public static int Rdmsr(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0 || !c.ReadMsr(c.Ecx, out ulong v))
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        c.Eax = (uint)v;
        c.Edx = (uint)(v >> 32);
        return Exec.Next;
    }

    public static int Wrmsr(Cpu c, ref MicroOp op)
    {
        if (c.Cpl != 0 || !c.WriteMsr(c.Ecx, ((ulong)c.Edx << 32) | c.Eax))
        {
            c.FaultWithCode(Vectors.GP, 0);
            return Exec.Fault;
        }

        // A WRMSR may change how later code runs (SYSENTER MSRs, APIC base): leave the block.
        c.Eip = op.NextEip;
        return Exec.Jump;
    }

    /// <summary>WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set; otherwise nothing (no x87 is modelled).</summary>
    public static int Wait(Cpu c, ref MicroOp op)
    {
        if ((c.Cr0 & (Cr0Bits.MP | Cr0Bits.TS)) == (Cr0Bits.MP | Cr0Bits.TS))
        {
            c.Fault(Vectors.NM);
            return Exec.Fault;
        }

        return Exec.Next;
    }

    public static bool TryTranslate(in Instruction ins, ref MicroOp op, ref bool ends)
    {
        switch (ins.Mnemonic)
        {
            case Mnemonic.Nop:
            case Mnemonic.Pause:
            case Mnemonic.Endbr32:
            case Mnemonic.Reservednop:
            case Mnemonic.Prefetchnta:
            case Mnemonic.Prefetcht0:
            case Mnemonic.Prefetcht1:
            case Mnemonic.Prefetcht2:
                op.Fn = &Nop;
                return true;
            case Mnemonic.Clc:
                op.Fn = &Clc;
                return true;
            case Mnemonic.Stc:
                op.Fn = &Stc;
                return true;
            case Mnemonic.Cmc:
                op.Fn = &Cmc;
                return true;
            case Mnemonic.Cld:
                op.Fn = &Cld;
                return true;
            case Mnemonic.Std:
                op.Fn = &Std;
                return true;
            case Mnemonic.Cli:
                op.Fn = &Cli;
                return true;
            case Mnemonic.Sti:
                op.Fn = &Sti;
                ends = true;
                return true;
            case Mnemonic.Hlt:
                op.Fn = &Hlt;
                ends = true;
                return true;
            case Mnemonic.Ud0:
            case Mnemonic.Ud1:
            case Mnemonic.Ud2:
                op.Fn = &Handlers.Undefined;
                ends = true;
                return true;
            case Mnemonic.Cpuid:
                op.Fn = &Cpuid;
                return true;
            case Mnemonic.Rdtsc:
                op.Fn = &Rdtsc;
                return true;
            case Mnemonic.Rdmsr:
                op.Fn = &Rdmsr;
                return true;
            case Mnemonic.Wrmsr:
                op.Fn = &Wrmsr;
                ends = true;
                return true;
            case Mnemonic.Wait:
                op.Fn = &Wait;
                return true;
            default:
                return false;
        }
    }
}
