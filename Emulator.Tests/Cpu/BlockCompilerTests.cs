using Emulator.Cpu;
using Emulator.Cpu.Compile;
using Emulator.Platform;
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

    private const uint FsBase = 0x30000;

    private static (uint[] Regs, long Instructions, long Cycles, uint Eip, byte[] Data, RunState State) Run(Action<Assembler> code, int jitThreshold, long budget = 1_000_000, Action<CpuHarness>? setup = null, int kernelFactor = 1)
    {
        using var h = CpuHarness.Flat32(code);
        h.Cpu.JitThreshold = jitThreshold;
        h.Cpu.JitKernelFactor = kernelFactor;
        setup?.Invoke(h);
        h.Cpu.Run(long.MaxValue, budget);
        var regs = new uint[10];
        for (int i = 0; i < 8; i++)
        {
            regs[i] = h.Cpu.R(i);
        }

        regs[8] = h.Cpu.GetEflags();
        regs[9] = (uint)h.Cpu.PendingVector;
        var data = new byte[64 + 256];
        h.Memory.Read(Data, data.AsSpan(0, 64));
        h.Memory.Read(FsBase, data.AsSpan(64));
        return (regs, h.Cpu.Instructions, h.Cpu.Cycles, h.Cpu.Eip, data, h.Cpu.State);
    }

    private static RunState AssertSameAsInterpreter(Action<Assembler> code, long budget = 1_000_000, Action<CpuHarness>? setup = null)
    {
        // Compiled with the specialised kernels from the first entry, and compiled without
        // them first and again with them at the 16th entry (in the middle of the loops).
        var interpreted = Run(code, 0, budget, setup);
        var compiled = Run(code, 1, budget, setup);
        foreach (var other in new[] { compiled, Run(code, 1, budget, setup, kernelFactor: 16) })
        {
            Assert.Equal(interpreted.State, other.State);
            Assert.Equal(interpreted.Regs, other.Regs);
            Assert.Equal(interpreted.Instructions, other.Instructions);
            Assert.Equal(interpreted.Cycles, other.Cycles);
            Assert.Equal(interpreted.Eip, other.Eip);
            Assert.Equal(interpreted.Data, other.Data);
        }

        return compiled.State;
    }

    /// <summary>%fs: a data segment at <see cref="FsBase"/> with a 256-byte limit.</summary>
    private static void SmallFs(CpuHarness h) =>
        h.Cpu.Seg(Emulator.Cpu.Segmentation.SegReg.FS) = TestSystem.DataSegment(FsBase, 0xFF);

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

    [Fact]
    public void EveryHandlerTableEntryNamesAHandlerAndItsKernel()
    {
        Assert.Empty(BlockCompiler.UnresolvedTableEntries());
    }

    [Fact]
    public void EverySpecialisedFormGivesTheInterpretersState()
    {
        // The forms BlockCompiler emits as the handlers' field forms with constant fields, at every operand
        // size, with base, index, scale, displacement and a segment override, and the flags
        // they leave read back through PUSHFD and conditional jumps; 300 iterations.
        var state = AssertSameAsInterpreter(
            a =>
            {
                var loop = a.CreateLabel();
                var skip = a.CreateLabel();
                var skip2 = a.CreateLabel();
                a.mov(ecx, 300);
                a.mov(esi, 0x12345678);
                a.mov(edi, 8);
                a.mov(ebp, 0);
                a.Label(ref loop);
                a.mov(eax, __dword_ptr.fs[edi + 4]);
                a.mov(bx, __word_ptr.fs[edi * 2 + 16]);
                a.mov(dl, __byte_ptr[Data + 3]);
                a.mov(__dword_ptr.fs[edi * 4 + 32], esi);
                a.mov(__word_ptr.fs[0x60], cx);
                a.mov(__byte_ptr.fs[ebp + 0x70], cl);
                a.mov(__dword_ptr[Data + 12], 0xCAFE);
                a.mov(__word_ptr.fs[0x64], 0x1234);
                a.mov(edx, esi);
                a.mov(ax, 7);
                a.add(eax, esi);
                a.sub(ebx, ecx);
                a.adc(edx, eax);
                a.sbb(si, bx);
                a.and(al, 0x5A);
                a.or(edx, 0x100);
                a.xor(bl, cl);
                a.cmp(eax, __dword_ptr.fs[edi + 4]);
                a.add(eax, __dword_ptr.fs[edi + 4]);
                a.add(__dword_ptr.fs[edi * 4 + 32], eax);
                a.sub(__word_ptr.fs[0x60], bx);
                a.cmp(__dword_ptr[Data + 12], esi);
                a.add(__dword_ptr.fs[8], 3);
                a.xor(__byte_ptr.fs[0x70], 0x81);
                a.cmp(__dword_ptr.fs[8], 1000);
                a.test(__dword_ptr.fs[0x60], 0x8000);
                a.inc(ebp);
                a.neg(bx);
                a.not(dl);
                a.and(ebp, 0x3F);
                a.xor(edx, ebx);
                a.rol(edx, 3);
                a.pushfd();
                a.pop(__dword_ptr.fs[0x80]);
                a.xor(eax, edx);
                a.ror(eax, 5);
                a.rol(eax, 1);
                a.pushfd();
                a.pop(__dword_ptr.fs[0x84]);
                a.add(esi, eax);
                a.rol(esi, 7);
                a.pushfd();
                a.pop(__dword_ptr.fs[0x88]);
                a.shl(edx, 2);
                a.sar(ebx, 1);
                a.shr(al, 3);
                a.jl(skip);
                a.add(__dword_ptr.fs[0x8C], 1);
                a.Label(ref skip);
                a.cmp(esi, eax);
                a.jb(skip2);
                a.jmp(skip2);
                a.Label(ref skip2);
                a.dec(ecx);
                a.jnz(loop);
                a.hlt();
            },
            setup: h => h.Cpu.Seg(Emulator.Cpu.Segmentation.SegReg.FS) = TestSystem.DataSegment(FsBase, 0xFFFF));
        Assert.Equal(RunState.Halted, state);
    }

    public static TheoryData<string> MemoryForms => ["load", "store", "store imm", "alu r,m", "alu m,r", "alu m,imm", "cmp m,imm"];

    [Theory]
    [MemberData(nameof(MemoryForms))]
    public void AFaultAtEachSpecialisedMemoryFormStopsAtTheSameInstruction(string form)
    {
        // A loop that walks %fs (limit 0xFF) four bytes per pass: the access crosses the limit
        // in the 64th pass, long after the block was compiled. Without an IDT the #GP shuts the
        // CPU down with EIP at the faulting instruction and the instructions before it retired.
        var state = AssertSameAsInterpreter(
            a =>
            {
                var loop = a.CreateLabel();
                a.mov(ecx, 1000);
                a.xor(edi, edi);
                a.Label(ref loop);
                a.add(eax, ecx);
                switch (form)
                {
                    case "load": a.mov(ebx, __dword_ptr.fs[edi + 4]); break;
                    case "store": a.mov(__dword_ptr.fs[edi + 4], eax); break;
                    case "store imm": a.mov(__dword_ptr.fs[edi + 4], 0x55); break;
                    case "alu r,m": a.add(ebx, __dword_ptr.fs[edi + 4]); break;
                    case "alu m,r": a.xor(__dword_ptr.fs[edi + 4], eax); break;
                    case "alu m,imm": a.add(__dword_ptr.fs[edi + 4], 9); break;
                    default: a.cmp(__dword_ptr.fs[edi + 4], 9); break;
                }

                a.add(edi, 4);
                a.dec(ecx);
                a.jnz(loop);
                a.hlt();
            },
            setup: SmallFs);
        Assert.Equal(RunState.Shutdown, state);
    }

    [Fact]
    public void AOneInstructionSelfLoopStillCallsAfterInstructionEveryTime()
    {
        // "jmp $": a compiled one-op block that jumps to itself must not loop inside the
        // compiled code while a per-instruction hook is set.
        long Count(int threshold)
        {
            using var h = CpuHarness.Flat32(a =>
            {
                var self = a.CreateLabel();
                a.Label(ref self);
                a.jmp(self);
            });
            h.Cpu.JitThreshold = threshold;
            long calls = 0;
            h.Cpu.AfterInstruction = _ => calls++;
            h.Cpu.Run(long.MaxValue, 500);
            Assert.Equal(500, h.Cpu.Instructions);
            return calls;
        }

        Assert.Equal(Count(0), Count(1));
    }

    [Theory]
    [InlineData(TimingMode.Functional)]
    [InlineData(TimingMode.Cycle)]
    public void ALoopInsideACompiledBlockCountsTheSameOnAMachine(TimingMode timing)
    {
        // The ALU loop on a machine (slices, the cycle model's charges and slice ends inside a
        // block, the instruction limit ending in the middle of a pass): instructions, cycles and
        // registers as interpreted.
        (long, long, uint, uint, uint, uint) RunIt(int threshold, int kernelFactor)
        {
            using var m = Emulator.Tests.Platform.FlatGuest.Boot(
                new MachineConfig { Timing = timing, MaxInstructions = 123_457 },
                a =>
                {
                    var loop = a.CreateLabel();
                    a.mov(ecx, 100_000);
                    a.Label(ref loop);
                    a.mov(eax, __dword_ptr[Data]);
                    a.add(ebx, eax);
                    a.xor(edx, ebx);
                    a.rol(edx, 3);
                    a.mov(__dword_ptr[Data + 4], edx);
                    a.add(__dword_ptr[Data + 8], 3);
                    a.dec(ecx);
                    a.jnz(loop);
                    a.hlt();
                });
            m.Cpus[0].JitThreshold = threshold;
            m.Cpus[0].JitKernelFactor = kernelFactor;
            m.Run();
            var c = m.Cpus[0];
            return (c.Instructions, c.Cycles, c.Eip, c.Ecx, c.Edx, c.GetEflags());
        }

        var interpreted = RunIt(0, 1);
        Assert.Equal(interpreted, RunIt(1, 1));
        Assert.Equal(interpreted, RunIt(1, 256));
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
