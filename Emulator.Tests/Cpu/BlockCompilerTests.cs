using Emulator.Cpu;
using Emulator.Tests.Integration;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Cpu;

/// <summary>
/// Hot blocks compiled to IL (<c>--jit on</c>) must give exactly the interpreter's results:
/// registers, memory, instruction counts, cycle counts, fault points and self-modifying code.
/// Each case runs twice, interpreted and with every block compiled on first entry.
/// </summary>
public class BlockCompilerTests
{
    private const uint Code = CpuHarness.CodeBase;
    private const uint Data = CpuHarness.DataBase;

    private static (uint[] Regs, long Instructions, long Cycles, uint Eip, byte[] Data, RunState State) Run(Action<Assembler> code, int jitThreshold, long budget = 1_000_000)
    {
        using var h = CpuHarness.Flat32(code);
        h.Cpu.JitThreshold = jitThreshold;
        h.Cpu.Run(long.MaxValue, budget);
        var regs = new uint[8];
        for (int i = 0; i < 8; i++)
        {
            regs[i] = h.Cpu.R(i);
        }

        var data = new byte[64];
        h.Memory.Read(Data, data);
        return (regs, h.Cpu.Instructions, h.Cpu.Cycles, h.Cpu.Eip, data, h.Cpu.State);
    }

    private static RunState AssertSameAsInterpreter(Action<Assembler> code, long budget = 1_000_000)
    {
        var interpreted = Run(code, 0, budget);
        var compiled = Run(code, 1, budget);
        Assert.Equal(interpreted.State, compiled.State);
        Assert.Equal(interpreted.Regs, compiled.Regs);
        Assert.Equal(interpreted.Instructions, compiled.Instructions);
        Assert.Equal(interpreted.Cycles, compiled.Cycles);
        Assert.Equal(interpreted.Eip, compiled.Eip);
        Assert.Equal(interpreted.Data, compiled.Data);
        return compiled.State;
    }

    [Fact]
    public void AHotLoopGivesTheInterpretersState()
    {
        var state = AssertSameAsInterpreter(a =>
        {
            var loop = a.CreateLabel();
            a.mov(ecx, 1000);
            a.xor(ebx, ebx);
            a.xor(edx, edx);
            a.Label(ref loop);
            a.mov(eax, __dword_ptr[Data]);
            a.add(ebx, eax);
            a.xor(edx, ebx);
            a.rol(edx, 3);
            a.mov(__dword_ptr[Data + 4], edx);
            a.add(__dword_ptr[Data + 8], 3);
            a.adc(esi, ebx);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
        });
        Assert.Equal(RunState.Halted, state);
    }

    [Fact]
    public void AnInstructionBudgetEndingInsideACompiledBlockStopsAtTheSameInstruction()
    {
        // 1000 iterations of 4 instructions; a budget of 1234 ends in the middle of a block.
        var state = AssertSameAsInterpreter(
            a =>
            {
                var loop = a.CreateLabel();
                a.mov(ecx, 1000);
                a.Label(ref loop);
                a.add(eax, ecx);
                a.inc(ebx);
                a.dec(ecx);
                a.jnz(loop);
                a.hlt();
            },
            budget: 1234);
        Assert.Equal(RunState.Running, state);
    }

    [Fact]
    public void AFaultInACompiledBlockLeavesEipAtTheFaultingInstruction()
    {
        // The tenth iteration divides by zero: without an IDT the CPU shuts down there, with
        // EIP at the DIV and the instructions before it retired.
        var state = AssertSameAsInterpreter(a =>
        {
            var loop = a.CreateLabel();
            a.mov(ecx, 10);
            a.mov(ebx, 100);
            a.Label(ref loop);
            a.xor(edx, edx);
            a.mov(eax, 1000);
            a.lea(esi, __dword_ptr[ecx - 1]);
            a.div(esi);
            a.add(edi, eax);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
        });
        Assert.NotEqual(RunState.Halted, state);
    }

    [Fact]
    public void ACompiledBlockThatPatchesItselfRunsThePatchedCode()
    {
        // Each iteration stores a new immediate into the "mov eax, imm32" later in the same
        // block: the store invalidates the (compiled) block, which must leave at once and be
        // decoded and compiled again with the new immediate. Layout: mov ecx (5 bytes), lea
        // (7), the store (6), then the patched MOV's opcode at Code + 18, its immediate at + 19.
        static void Program(Assembler a)
        {
            var loop = a.CreateLabel();
            a.mov(ecx, 50);
            a.Label(ref loop);
            a.lea(edx, __dword_ptr[ecx * 4 + 7]);
            a.mov(__dword_ptr[Code + 19], edx);
            a.mov(eax, 0x11111111);
            a.add(ebx, eax);
            a.dec(ecx);
            a.jnz(loop);
            a.hlt();
        }

        Assert.Equal(RunState.Halted, AssertSameAsInterpreter(Program));

        using var h = CpuHarness.Flat32(Program);
        var b = new byte[5];
        h.Memory.Read(Code + 18, b);
        Assert.Equal(0xB8, b[0]);
        Assert.Equal(0x11111111u, BitConverter.ToUInt32(b, 1));
        h.Cpu.JitThreshold = 1;
        h.RunToHalt();

        // ebx = sum over ecx = 50..1 of (4 * ecx + 7): every iteration saw its own patch.
        uint expected = 0;
        for (uint c = 50; c >= 1; c--)
        {
            expected += (4 * c) + 7;
        }

        Assert.Equal(expected, h.Cpu.Ebx);
    }

    [Theory]
    [InlineData("functional")]
    [InlineData("cycle")]
    public void TheTeachingKernelGivesTheSameStatisticsCompiled(string timing)
    {
        string Stats(string jit)
        {
            string path = Path.Combine(Path.GetTempPath(), $"jit-{Guid.NewGuid():N}.json");
            try
            {
                var (code, output, err) = CliRunner.Run("run", "--timing", timing, "--stats-json", path, "--jit", jit);
                Assert.True(code == 1, err);
                Assert.Contains("demo counters: ok", output);
                return File.ReadAllText(path);
            }
            finally
            {
                File.Delete(path);
            }
        }

        // Everything the run reports (per-CPU instructions, cycles, cycle breakdown, cache and
        // coherence counters, contended lines) is equal; only host timings may differ.
        Assert.Equal(WithoutHostTimes(Stats("off")), WithoutHostTimes(Stats("on")));
    }

    [Fact]
    public void BenchWithTheJitCountsTheSameRegion()
    {
        var (code, output, err) = CliRunner.Run("bench", "--workload", "alu", "--iterations", "3000", "--timing", "both", "--json", "--jit", "on");
        Assert.True(code == 0, err);
        Assert.Contains("\"region_instructions\": 24002", output);
    }

    private static string WithoutHostTimes(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var keep = new System.Text.StringBuilder();
        Walk(doc.RootElement, "", keep);
        return keep.ToString();
    }

    private static void Walk(System.Text.Json.JsonElement e, string path, System.Text.StringBuilder keep)
    {
        switch (e.ValueKind)
        {
            case System.Text.Json.JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    if (p.Name.Contains("second", StringComparison.Ordinal) || p.Name.Contains("mips", StringComparison.Ordinal) || p.Name.Contains("host", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    Walk(p.Value, path + "." + p.Name, keep);
                }

                break;
            case System.Text.Json.JsonValueKind.Array:
                int i = 0;
                foreach (var x in e.EnumerateArray())
                {
                    Walk(x, path + "[" + i++ + "]", keep);
                }

                break;
            default:
                keep.Append(path).Append('=').Append(e.ToString()).Append('\n');
                break;
        }
    }
}
