using System.Text;
using Emulator.Cpu;
using Emulator.Tests.Cpu;
using Xunit.Abstractions;

namespace Emulator.Tests.Oracle;

/// <summary>
/// The emulator against the host CPU: every form in <see cref="OracleCatalog"/> runs on random
/// and edge-value inputs (a fixed seed) natively and in the emulator, and the registers, the
/// memory operand, the string buffers and every flag the SDM defines for the instruction must
/// agree. ORACLE_CASES (cases per form, default 200) and ORACLE_SEED change the campaign.
/// </summary>
public class DifferentialTests(ITestOutputHelper output)
{
    public static int CasesPerForm => int.TryParse(Environment.GetEnvironmentVariable("ORACLE_CASES"), out int n) && n > 0 ? n : 200;

    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("ORACLE_SEED"), out int s) ? s : 20240611;

    public static TheoryData<string> FamilyNames
    {
        get
        {
            var d = new TheoryData<string>();
            foreach (string f in OracleCatalog.Families)
            {
                d.Add(f);
            }

            return d;
        }
    }

    [NativeOracleTheory]
    [MemberData(nameof(FamilyNames))]
    public void EmulatorMatchesHost(string family)
    {
        using var native = new NativeExecutor();
        using var emu = new EmulatorExecutor();
        var failures = new List<string>();
        int forms = 0;
        long cases = 0, nativeRuns = 0, divideFaults = 0, mismatches = 0;
        foreach (var form in OracleCatalog.Family(family))
        {
            forms++;
            var rng = new Random(unchecked((Seed * 7919) + StableHash(form.Name)));
            for (int i = 0; i < CasesPerForm; i++)
            {
                var c = OracleCatalog.NewCase(rng, form);
                cases++;
                string? diff = RunCase(form, c, native, emu, ref nativeRuns, ref divideFaults);
                if (diff is not null)
                {
                    mismatches++;
                    if (failures.Count < 25)
                    {
                        failures.Add($"{form.Name}: {c}\n    {diff}");
                    }
                }
            }
        }

        Assert.Empty(emu.Unimplemented);
        output.WriteLine($"{family}: {forms} forms, {cases} cases ({nativeRuns} run natively, {divideFaults} #DE checked), {mismatches} mismatches");
        Assert.True(mismatches == 0, $"{family}: {mismatches} mismatches in {cases} cases\n" + string.Join("\n", failures));
    }

    public static string? RunCase(OracleForm form, OracleCase c, NativeExecutor native, EmulatorExecutor emu, ref long nativeRuns, ref long divideFaults)
    {
        var e = emu.Run(form.Build(c, native: false), c, form.Strings);
        if (form.Faults?.Invoke(c) == true)
        {
            divideFaults++;
            if (e.Vector != Vectors.DE)
            {
                return $"expected #DE, emulator raised {e.Vector}";
            }

            return Enumerable.Range(0, 6).All(i => e.Regs[i] == c.Regs[i]) && e.Mem.SequenceEqual(c.Mem)
                ? null
                : "#DE changed registers or memory";
        }

        var n = native.Run(form.Build(c, native: true), c, form.Strings);
        nativeRuns++;
        if (e.Vector != -1)
        {
            return $"emulator raised vector {e.Vector}";
        }

        var sb = new StringBuilder();
        bool skipDest = form.ResultUndefined?.Invoke(c) == true;
        for (int i = 0; i < 6; i++)
        {
            if (skipDest && i == 0)
            {
                continue;
            }

            if (n.Regs[i] != e.Regs[i])
            {
                sb.Append($"{StateLayout.RegNames[i]}: host {n.Regs[i]:x8} emulator {e.Regs[i]:x8}; ");
            }
        }

        uint mask = form.Defined(c);
        if (((n.Flags ^ e.Flags) & mask) != 0)
        {
            sb.Append($"flags (defined {RefFlags.Describe(mask)}{((mask & EFlags.DF) != 0 ? "D" : string.Empty)}): host {RefFlags.Describe(n.Flags & mask)} {((n.Flags & EFlags.DF) != 0 ? "DF" : string.Empty)} emulator {RefFlags.Describe(e.Flags & mask)} {((e.Flags & EFlags.DF) != 0 ? "DF" : string.Empty)}; ");
        }

        if (!n.Mem.SequenceEqual(e.Mem))
        {
            sb.Append($"mem: host {Convert.ToHexString(n.Mem)} emulator {Convert.ToHexString(e.Mem)}; ");
        }

        if (!n.Src.SequenceEqual(e.Src) || !n.Dst.SequenceEqual(e.Dst))
        {
            sb.Append("string buffers differ; ");
        }

        return sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>A hash of the form name that is the same in every process (string.GetHashCode is randomized).</summary>
    public static int StableHash(string s)
    {
        int h = 17;
        foreach (char ch in s)
        {
            h = unchecked((h * 31) + ch);
        }

        return h;
    }

    [Fact]
    public void CatalogCoversEveryFamily()
    {
        foreach (string f in OracleCatalog.Families)
        {
            Assert.NotEmpty(OracleCatalog.Family(f));
        }

        Assert.True(OracleCatalog.All.Count > 400, $"{OracleCatalog.All.Count} forms");
    }
}
