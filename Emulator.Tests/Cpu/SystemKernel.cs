using Emulator.Cpu;
using Emulator.Cpu.Segmentation;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using CpuCore = Emulator.Cpu.Cpu;

namespace Emulator.Tests.Cpu;

/// <summary>
/// A tiny protected-mode kernel for system-architecture tests, assembled with Iced.
///
/// Memory map (physical = linear until a test turns paging on):
/// GDT 0x1000, IDT 0x2000 (256 gates), main TSS 0x3000, double-fault TSS 0x3100, spare TSS
/// 0x3200, LDT 0x4000, records 0x5000, hook table 0x5400 (one handler address per vector),
/// symbol table 0x5800, exception stubs 0x6000, prologue 0xF000, test body 0x10000, data
/// 0x20000, ring-3 stack top 0x70000, double-fault stack top 0x60000, ring-0 stack top 0x80000.
///
/// GDT: 0x08 ring-0 code, 0x10 ring-0 data, 0x1B ring-3 code, 0x23 ring-3 data (all flat
/// 4 GiB), 0x28 main TSS, 0x30 double-fault TSS, 0x38 LDT, 0x40 a DPL-3 32-bit call gate to
/// 0x08:(symbol-chosen offset), 0x48 a "per-CPU" data segment (base 0x21000, limit 0xFFF);
/// entries from 0x50 up are free for tests.
///
/// Every IDT vector has a ring-0 interrupt gate to a stub that records vector, error code
/// (0xFFFFFFFF when none), the pushed EIP/CS/EFLAGS (and ESP/SS for a ring change), CR2 and a
/// count, then jumps to the vector's hook when the test installed one (with the error code
/// removed, so the hook sees a plain IRET frame and the interrupted EAX and DS), or halts.
///
/// The prologue loads GDTR/IDTR, the data segments, ESP and TR, then far-jumps to the body.
/// </summary>
public sealed class SystemKernel : IDisposable
{
    public const uint GdtBase = 0x1000;
    public const uint IdtBase = 0x2000;
    public const uint TssBase = 0x3000;
    public const uint DfTssBase = 0x3100;
    public const uint SpareTssBase = 0x3200;
    public const uint LdtBase = 0x4000;
    public const uint Records = 0x5000;
    public const uint HookTable = 0x5400;
    public const uint SymbolTable = 0x5800;
    public const uint StubBase = 0x6000;
    public const uint PrologueBase = 0xF000;
    public const uint CodeBase = 0x10000;
    public const uint DataBase = 0x20000;
    public const uint PerCpuBase = 0x21000;
    public const uint Ring3StackTop = 0x70000;
    public const uint DfStackTop = 0x60000;
    public const uint Ring0StackTop = 0x80000;

    public const ushort KernelCode = 0x08;
    public const ushort KernelData = 0x10;
    public const ushort UserCode = 0x1B;
    public const ushort UserData = 0x23;
    public const ushort TssSel = 0x28;
    public const ushort DfTssSel = 0x30;
    public const ushort LdtSel = 0x38;
    public const ushort CallGateSel = 0x40;
    public const ushort PerCpuSel = 0x48;

    public const uint RecVector = Records + 0x00;
    public const uint RecError = Records + 0x04;
    public const uint RecEip = Records + 0x08;
    public const uint RecCs = Records + 0x0C;
    public const uint RecEflags = Records + 0x10;
    public const uint RecEsp = Records + 0x14;
    public const uint RecSs = Records + 0x18;
    public const uint RecCr2 = Records + 0x1C;
    public const uint RecCount = Records + 0x20;

    /// <summary>Free scratch words for test code (0x5040..0x50FF).</summary>
    public const uint Scratch = Records + 0x40;

    private const uint HookTarget = Records + 0x30;
    private const uint GdtPointer = Records + 0x100;
    private const uint IdtPointer = Records + 0x108;

    private static readonly int[] ErrorCodeVectors = [8, 10, 11, 12, 13, 14, 17];

    private readonly AssemblerResult _body;
    private readonly uint[] _stubs = new uint[256];

    /// <summary>Assembles the body (32-bit code at <see cref="CodeBase"/>) and builds the tables; call <see cref="Run"/> after any set-up.</summary>
    public SystemKernel(Action<Assembler> body, uint memory = 4 << 20)
    {
        H = new CpuHarness(memory);
        WriteGdt();
        BuildStubs();
        for (int v = 0; v < 256; v++)
        {
            SetInterruptGate(v, _stubs[v]);
        }

        WriteTss(TssBase, eip: 0, esp: 0);
        WriteTss(DfTssBase, eip: DfTaskEntry, esp: DfStackTop);
        Write16(GdtPointer, (128 * 8) - 1);
        Write32(GdtPointer + 2, GdtBase);
        Write16(IdtPointer, 256 * 8 - 1);
        Write32(IdtPointer + 2, IdtBase);
        BuildPrologue();

        var a = new Assembler(32);
        body(a);
        _body = Assemble(a, CodeBase);

        Cpu.SetMultibootEntryState(PrologueBase, 0, 0);
        Cpu.Esp = Ring0StackTop;
    }

    public CpuHarness H { get; }

    public CpuCore Cpu => H.Cpu;

    /// <summary>Entry of the double-fault task (EIP in the double-fault TSS): records vector 8 and the error code from its stack, then halts.</summary>
    public uint DfTaskEntry { get; private set; }

    public uint Vector => Read32(RecVector);

    public uint ErrorCode => Read32(RecError);

    public uint FaultEip => Read32(RecEip);

    public uint FaultCs => Read32(RecCs) & 0xFFFF;

    public uint FaultEflags => Read32(RecEflags);

    public uint FaultCr2 => Read32(RecCr2);

    public uint Count => Read32(RecCount);

    /// <summary>Address of a label of the body, after assembly.</summary>
    public uint Addr(Label label) => (uint)_body.GetLabelRIP(label);

    /// <summary>Writes a label's address in symbol slot <paramref name="slot"/>, for code that needs it as data (far pointers, IRET frames).</summary>
    public void SetSymbol(int slot, Label label) => Write32(Symbol(slot), Addr(label));

    public static uint Symbol(int slot) => SymbolTable + (uint)(4 * slot);

    /// <summary>Makes the stub of <paramref name="vector"/> continue at <paramref name="label"/> instead of halting.</summary>
    public void Hook(int vector, Label label) => Write32(HookTable + (uint)(4 * vector), Addr(label));

    public void SetGdt(int index, ulong descriptor) => Write64(GdtBase + (uint)(8 * index), descriptor);

    public ulong GetGdt(int index) => Read64(GdtBase + (uint)(8 * index));

    public void SetLdt(int index, ulong descriptor) => Write64(LdtBase + (uint)(8 * index), descriptor);

    public void SetIdt(int vector, ulong gate) => Write64(IdtBase + (uint)(8 * vector), gate);

    /// <summary>A 32-bit interrupt gate to ring-0 code (DPL <paramref name="dpl"/> decides who may INT n to it).</summary>
    public void SetInterruptGate(int vector, uint offset, int dpl = 0, bool trap = false) =>
        SetIdt(vector, Descriptor.Gate(trap ? Descriptor.TrapGate32 : Descriptor.InterruptGate32, KernelCode, offset, dpl));

    public void SetInterruptGate(int vector, Label label, int dpl = 0, bool trap = false) =>
        SetInterruptGate(vector, Addr(label), dpl, trap);

    /// <summary>Writes a 32-bit TSS at <paramref name="at"/>: ring-0 flat segments, ESP0 = ring-0 stack, EFLAGS = 2, no I/O bitmap.</summary>
    public void WriteTss(uint at, uint eip, uint esp, ushort cs = KernelCode, ushort data = KernelData)
    {
        H.Memory.Write(at, new byte[0x68]);
        Write32(at + 0x04, Ring0StackTop);
        Write16(at + 0x08, KernelData);
        Write32(at + 0x1C, Cpu.Cr3);
        Write32(at + 0x20, eip);
        Write32(at + 0x24, 0x2);
        Write32(at + 0x38, esp);
        Write16(at + 0x48, data);
        Write16(at + 0x4C, cs);
        Write16(at + 0x50, data);
        Write16(at + 0x54, data);
        Write16(at + 0x66, 0x68);
    }

    /// <summary>
    /// Emits code that drops to ring 3 at the address in symbol slot <paramref name="slot"/>
    /// with the ring-3 stack, DS = ES = ring-3 data and IF as given (clobbers EAX).
    /// </summary>
    public static void EnterRing3(Assembler a, int slot, bool interrupts = false)
    {
        a.mov(eax, UserData);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.push(UserData);
        a.push(Ring3StackTop);
        a.push(interrupts ? 0x202 : 0x2);
        a.push(UserCode);
        a.push(__dword_ptr[Symbol(slot)]);
        a.iretd();
    }

    /// <summary>Runs until the CPU halts or shuts down.</summary>
    public long Run(long maxInstructions = 1_000_000)
    {
        long n = H.Cpu.Run(long.MaxValue, maxInstructions);
        Assert.True(H.Cpu.State != Emulator.Cpu.RunState.Running, $"guest did not stop within {maxInstructions} instructions (EIP=0x{H.Cpu.Eip:x})");
        Assert.Empty(H.Cpu.Unimplemented);
        return n;
    }

    public uint Read32(uint at) => H.Memory.Read32(at);

    public ulong Read64(uint at) => H.Memory.Read32(at) | ((ulong)H.Memory.Read32(at + 4) << 32);

    public void Write32(uint at, uint value) => H.Memory.Write32(at, value);

    public void Write16(uint at, ushort value) => H.Memory.Write(at, [(byte)value, (byte)(value >> 8)]);

    public void Write64(uint at, ulong value)
    {
        Write32(at, (uint)value);
        Write32(at + 4, (uint)(value >> 32));
    }

    public void Dispose() => H.Dispose();

    private void WriteGdt()
    {
        SetGdt(0, 0);
        SetGdt(1, Descriptor.Build(0, 0xFFFFF, 0x9B, 0xC));
        SetGdt(2, Descriptor.Build(0, 0xFFFFF, 0x93, 0xC));
        SetGdt(3, Descriptor.Build(0, 0xFFFFF, 0xFB, 0xC));
        SetGdt(4, Descriptor.Build(0, 0xFFFFF, 0xF3, 0xC));
        SetGdt(5, Descriptor.Build(TssBase, 0x67, 0x89, 0));
        SetGdt(6, Descriptor.Build(DfTssBase, 0x67, 0x89, 0));
        SetGdt(7, Descriptor.Build(LdtBase, 0x3F, 0x82, 0));
        SetGdt(8, Descriptor.Gate(Descriptor.CallGate32, KernelCode, 0, 3));
        SetGdt(9, Descriptor.Build(PerCpuBase, 0xFFF, 0x93, 0x4));
    }

    private void BuildStubs()
    {
        var a = new Assembler(32);
        var labels = new Label[256];
        for (int v = 0; v < 256; v++)
        {
            labels[v] = a.CreateLabel();
            a.Label(ref labels[v]);
            EmitStub(a, v, ErrorCodeVectors.Contains(v));
        }

        var dfTask = a.CreateLabel();
        a.Label(ref dfTask);
        a.mov(__dword_ptr[RecVector], 8);
        a.pop(__dword_ptr[RecError]);
        a.inc(__dword_ptr[RecCount]);
        var spin = a.CreateLabel();
        a.Label(ref spin);
        a.hlt();
        a.jmp(spin);

        var result = Assemble(a, StubBase);
        for (int v = 0; v < 256; v++)
        {
            _stubs[v] = (uint)result.GetLabelRIP(labels[v]);
        }

        DfTaskEntry = (uint)result.GetLabelRIP(dfTask);
    }

    private static void EmitStub(Assembler a, int vector, bool hasError)
    {
        // [esp] eax, [esp+4] ds, then the error code (if any) and the IRET frame.
        a.push(ds);
        a.push(eax);
        a.mov(ax, KernelData);
        a.mov(ds, ax);
        int frame = 8;
        if (hasError)
        {
            a.mov(eax, __dword_ptr[esp + 8]);
            a.mov(__dword_ptr[RecError], eax);
            frame = 12;
        }
        else
        {
            a.mov(__dword_ptr[RecError], 0xFFFFFFFF);
        }

        a.mov(__dword_ptr[RecVector], vector);
        uint[] slots = [RecEip, RecCs, RecEflags, RecEsp, RecSs];
        for (int i = 0; i < slots.Length; i++)
        {
            a.mov(eax, __dword_ptr[esp + frame + (4 * i)]);
            a.mov(__dword_ptr[slots[i]], eax);
        }

        a.mov(eax, cr2);
        a.mov(__dword_ptr[RecCr2], eax);
        a.inc(__dword_ptr[RecCount]);
        a.mov(eax, __dword_ptr[HookTable + (uint)(4 * vector)]);
        a.test(eax, eax);
        var halt = a.CreateLabel();
        a.jz(halt);
        a.mov(__dword_ptr[HookTarget], eax);
        a.pop(eax);
        a.pop(ds);
        if (hasError)
        {
            a.lea(esp, __[esp + 4]);
        }

        a.jmp(__dword_ptr.cs[HookTarget]);
        a.Label(ref halt);
        a.hlt();
        a.jmp(halt);
    }

    private void BuildPrologue()
    {
        var a = new Assembler(32);
        a.lgdt(__[GdtPointer]);
        a.lidt(__[IdtPointer]);
        a.mov(ax, KernelData);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        a.mov(esp, Ring0StackTop);
        a.xor(eax, eax);
        a.mov(fs, ax);
        a.mov(gs, ax);
        a.mov(ax, TssSel);
        a.ltr(ax);
        a.xor(eax, eax);
        a.jmp(KernelCode, CodeBase);
        Assemble(a, PrologueBase);
    }

    private AssemblerResult Assemble(Assembler a, uint at)
    {
        var writer = new ByteWriter();
        var result = a.Assemble(writer, at, BlockEncoderOptions.ReturnNewInstructionOffsets);
        H.Memory.Write(at, writer.Bytes.ToArray());
        return result;
    }

    private sealed class ByteWriter : CodeWriter
    {
        public List<byte> Bytes { get; } = [];

        public override void WriteByte(byte value) => Bytes.Add(value);
    }
}
