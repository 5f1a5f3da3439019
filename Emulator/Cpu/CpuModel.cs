namespace Emulator.Cpu;

/// <summary>
/// The processor model the guest sees: CPUID leaves and the model-specific registers. CPUID
/// describes a P6-family processor with exactly the features this core implements.
/// </summary>
public sealed partial class Cpu
{
    public const uint MsrTsc = 0x10;
    public const uint MsrApicBase = 0x1B;
    public const uint MsrMtrrCap = 0xFE;
    public const uint MsrSysenterCs = 0x174;
    public const uint MsrSysenterEsp = 0x175;
    public const uint MsrSysenterEip = 0x176;
    public const uint MsrPat = 0x277;
    public const uint MsrMtrrDefType = 0x2FF;

    /// <summary>CPUID.1:EDX bits: DE(2), PSE(3), TSC(4), MSR(5), CX8(8), APIC(9), SEP(11), MTRR(12), PGE(13), CMOV(15), PAT(16).</summary>
    public const uint CpuidFeaturesEdx = (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 8) | (1u << 9) | (1u << 11) |
        (1u << 12) | (1u << 13) | (1u << 15) | (1u << 16);

    /// <summary>Added to the cycle clock to give the TSC (WRMSR to IA32_TSC sets it).</summary>
    public long TscOffset;

    /// <summary>Number of logical processors reported in CPUID.1:EBX[23:16] (set by the machine).</summary>
    public int LogicalProcessorCount = 1;

    /// <summary>The local APIC ID (CPUID.1:EBX[31:24]); the machine sets it, equal to <see cref="Id"/> by default.</summary>
    public int ApicId;

    public ulong ReadTsc() => (ulong)(Cycles + TscOffset);

    public void ExecuteCpuid()
    {
        uint leaf = Eax;
        switch (leaf)
        {
            case 0:
                Eax = 1;
                Ebx = 0x756E6547; // "Genu"
                Edx = 0x49656E69; // "ineI"
                Ecx = 0x6C65746E; // "ntel"
                break;
            case 1:
                Eax = ProcessorSignature;
                Ebx = ((uint)ApicId << 24) | ((uint)LogicalProcessorCount << 16);
                Ecx = 0;
                Edx = CpuidFeaturesEdx;
                break;
            default:
                // Leaves above the maximum return the highest basic leaf's values on Intel; we
                // report zeros for unknown leaves (documented deviation).
                Eax = Ebx = Ecx = Edx = 0;
                break;
        }
    }

    private static bool IsMtrrMsr(uint msr) =>
        (msr >= 0x200 && msr <= 0x20F) || msr == 0x250 || msr == 0x258 || msr == 0x259 ||
        (msr >= 0x268 && msr <= 0x26F) || msr == MsrMtrrDefType;

    public bool ReadMsr(uint msr, out ulong value)
    {
        switch (msr)
        {
            case MsrTsc:
                value = ReadTsc();
                return true;
            case MsrApicBase:
                value = Msrs.TryGetValue(msr, out ulong b) ? b : DefaultApicBase();
                return true;
            case MsrMtrrCap:
                value = 0x508; // WC supported, fixed MTRRs supported, 8 variable ranges
                return true;
            case MsrSysenterCs:
            case MsrSysenterEsp:
            case MsrSysenterEip:
            case MsrPat:
                value = Msrs.TryGetValue(msr, out ulong v) ? v : msr == MsrPat ? 0x0007040600070406UL : 0;
                return true;
        }

        if (IsMtrrMsr(msr))
        {
            value = Msrs.TryGetValue(msr, out ulong v) ? v : 0;
            return true;
        }

        value = 0;
        return false;
    }

    public bool WriteMsr(uint msr, ulong value)
    {
        switch (msr)
        {
            case MsrTsc:
                TscOffset = (long)value - Cycles;
                return true;
            case MsrApicBase:
                bool wasEnabled = ReadMsr(msr, out ulong old) && (old & (1UL << 11)) != 0;
                Msrs[msr] = (value & 0xFFFFF900UL) | (DefaultApicBase() & 0x100);
                bool enabled = (value & (1UL << 11)) != 0;
                if (enabled != wasEnabled)
                {
                    ApicEnableChanged?.Invoke(enabled);
                }

                return true;
            case MsrMtrrCap:
                return false;
            case MsrSysenterCs:
            case MsrSysenterEsp:
            case MsrSysenterEip:
            case MsrPat:
                Msrs[msr] = msr == MsrSysenterCs ? value & 0xFFFF : value;
                return true;
        }

        if (IsMtrrMsr(msr))
        {
            Msrs[msr] = value;
            return true;
        }

        return false;
    }

    /// <summary>IA32_APIC_BASE at reset: 0xFEE00000, enabled (bit 11), BSP flag (bit 8) on CPU 0.</summary>
    private ulong DefaultApicBase() => 0xFEE00000UL | (1UL << 11) | (Id == 0 ? 1UL << 8 : 0);
}
