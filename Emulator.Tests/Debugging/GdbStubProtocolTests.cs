using System.Text;
using Emulator.Debugging;
using Emulator.Platform;
using Emulator.Tests.Platform;
using Iced.Intel;

namespace Emulator.Tests.Debugging;

/// <summary>The stub at the packet level: framing, acks, registers, memory, threads, breakpoints, stepping, junk.</summary>
public class GdbStubProtocolTests
{
    private static string Hex(string text) => Convert.ToHexStringLower(Encoding.ASCII.GetBytes(text));

    [Fact]
    public void ChecksumsAreVerifiedAndAcknowledged()
    {
        using var c = new RspClient();
        c.SendRaw("$qC#00");
        Assert.Equal('-', c.ReadAck());
        Assert.Equal("QC1", c.Ask("qC"));
        Assert.Contains("PacketSize=", c.Ask("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386"));
        Assert.Contains("qXfer:features:read+", c.Ask("qSupported"));

        // A '-' from the client makes the stub send its last packet again.
        c.SendRaw(RspClient.Frame("qAttached"));
        Assert.Equal('+', c.ReadAck());
        Assert.Equal("1", c.ReadPacket());
        c.SendRaw("-");
        Assert.Equal("1", c.ReadPacket());
    }

    [Fact]
    public void NoAckModeStopsAcknowledgements()
    {
        using var c = new RspClient();
        Assert.Equal("OK", c.Ask("QStartNoAckMode"));
        c.SendRaw(RspClient.Frame("qC"));
        Assert.Equal("QC1", c.ReadPacket());
    }

    [Fact]
    public void TargetDescriptionIsI386WithSegmentBases()
    {
        using var c = new RspClient();
        var xml = new StringBuilder();
        int offset = 0;
        while (true)
        {
            string part = c.Ask($"qXfer:features:read:target.xml:{offset:x},200");
            xml.Append(part[1..]);
            offset += part.Length - 1;
            if (part[0] == 'l')
            {
                break;
            }

            Assert.Equal('m', part[0]);
        }

        Assert.Equal(GdbStub.TargetXml, xml.ToString());
        Assert.Contains("<architecture>i386</architecture>", GdbStub.TargetXml);
        Assert.Contains("name=\"fs_base\"", GdbStub.TargetXml);
        Assert.Equal("E00", c.Ask("qXfer:features:read:other.xml:0,100"));
    }

    [Fact]
    public void EveryCpuIsAThread()
    {
        using var c = new RspClient();
        Assert.Equal("m1,2,3,4", c.Ask("qfThreadInfo"));
        Assert.Equal("l", c.Ask("qsThreadInfo"));
        Assert.Equal(Hex("CPU 0, running"), c.Ask("qThreadExtraInfo,1"));
        Assert.Equal(Hex("CPU 3, wait-for-SIPI"), c.Ask("qThreadExtraInfo,4"));
        Assert.Equal("OK", c.Ask("T4"));
        Assert.Equal("E01", c.Ask("T5"));
        Assert.Equal("E01", c.Ask("Hg9"));
        Assert.Equal("T05thread:01;", c.Ask("?"));
        Assert.Equal("vCont;c;C;s;S", c.Ask("vCont?"));
    }

    [Fact]
    public void RegistersAndMemoryOfTheBootCpu()
    {
        using var c = new RspClient();
        byte[] regs = Convert.FromHexString(c.Ask("g"));
        uint entry = c.Machine.Image!.EntryPoint;
        Assert.Equal(entry, BitConverter.ToUInt32(regs, GdbStub.Regs.Eip * 4));
        Assert.Equal(0x2BADB002u, BitConverter.ToUInt32(regs, 0));
        Assert.Equal(entry, c.Register(1, GdbStub.Regs.Eip));

        // Memory reads go through the selected CPU; MMIO (the local APIC) is not readable.
        byte[] code = Convert.FromHexString(c.Ask($"m{entry:x},8"));
        Assert.Equal(8, code.Length);
        Assert.Equal("E14", c.Ask("mfee00000,4"));

        // Writes: a register and a word of memory.
        Assert.Equal("OK", c.Ask("P0=78563412"));
        Assert.Equal(0x12345678u, c.Machine.Cpus[0].Eax);
        Assert.Equal("OK", c.Ask("M200000,4:efbeadde"));
        Assert.Equal(0xDEADBEEFu, c.ReadWord(0x200000));
        Assert.Equal("OK", c.Ask("X200000,2:}]}\u0003"));
        Assert.Equal(0xDEAD237Du, c.ReadWord(0x200000));
    }

    [Fact]
    public void MalformedInputNeverStopsTheServer()
    {
        using var c = new RspClient();
        c.SendRaw([0x00, 0xFF, 0x80, (byte)'#', 0x7F, 0x03, (byte)'+']);
        Assert.Equal(string.Empty, c.Ask("qNoSuchThing"));
        Assert.Equal(string.Empty, c.Ask("\u00ff\u0001junk"));
        Assert.Equal("E01", c.Ask("mzz,4"));
        Assert.Equal("E01", c.Ask("m10"));
        Assert.Equal("E01", c.Ask("Pzz"));
        Assert.Equal(string.Empty, c.Ask("Z9,0,0"));
        Assert.Equal("E01", c.Ask("vCont;q"));
        Assert.Equal("E01", c.Ask(new string('x', GdbStub.MaxPacket + 100)));
        c.SendRaw("$qC#zz");
        Assert.Equal('-', c.ReadAck());
        Assert.Equal("QC1", c.Ask("qC"));
    }

    [Fact]
    public void BreakpointStopsTheCpuThatReachedIt()
    {
        using var c = new RspClient();
        uint target = c.Symbol("count_percpu");
        Assert.Equal("OK", c.Ask($"Z0,{target:x},1"));
        var seen = new HashSet<int>();
        for (int i = 0; i < 4; i++)
        {
            string stop = c.Ask("vCont;c");
            Assert.Matches("^T05thread:0[1-4];swbreak:;$", stop);
            int tid = Convert.ToInt32(stop[10..12], 16);
            seen.Add(tid);
            Assert.Equal($"QC{tid:x}", c.Ask("qC"));
            Assert.Equal(target, c.Register(tid, GdbStub.Regs.Eip));

            // That CPU's %fs base is its __per_cpu_offset, and its cpu_number says which CPU it is.
            uint offset = c.ReadWord(c.Symbol("__per_cpu_offset") + (uint)(4 * (tid - 1)));
            Assert.Equal(offset, c.Register(tid, GdbStub.Regs.FsBase));
            Assert.Equal((uint)(tid - 1), c.ReadWord(c.Symbol("cpu_number") + offset));
        }

        Assert.Equal(4, seen.Count);
        Assert.Equal("OK", c.Ask($"z0,{target:x},1"));
        string monitor = Encoding.UTF8.GetString(Convert.FromHexString(MonitorOutput(c, "percpu cpu_number")));
        Assert.StartsWith("cpu_number (link address 0x", monitor);
        Assert.Contains("cpu2: __per_cpu_offset=", monitor);
        Assert.Contains("value=0x00000002 (2)", monitor);

        // The monitor's GDT is the one `gdt` and `debug` print: CPU 2's table, its %fs entry
        // based at CPU 2's per-CPU offset.
        string gdt = Encoding.UTF8.GetString(Convert.FromHexString(MonitorOutput(c, "gdt 2")));
        uint offset2 = c.ReadWord(c.Symbol("__per_cpu_offset") + 8);
        Assert.StartsWith("cpu2: GDTR base 0x", gdt);
        Assert.Matches($"\\[27\\] sel 0x00d8 base 0x{offset2:x8} .*<- %fs", gdt); // GDT_ENTRY_PERCPU, __KERNEL_PERCPU
    }

    private static string MonitorOutput(RspClient c, string command)
    {
        string first = c.Ask("qRcmd," + Hex(command));
        Assert.StartsWith("O", first);
        Assert.Equal("OK", c.ReadPacket());
        return first[1..];
    }

    [Fact]
    public void VContStepsOnlyTheNamedThread()
    {
        using var c = new RspClient();
        uint target = c.Symbol("count_percpu");
        Assert.Equal("OK", c.Ask($"Z1,{target:x},1"));
        Assert.Matches("^T05thread:0[1-4];hwbreak:;$", c.Ask("c"));
        Assert.Equal("OK", c.Ask($"z1,{target:x},1"));
        for (int tid = 1; tid <= 4; tid++)
        {
            var cpu = c.Machine.Cpus[tid - 1];
            long before = cpu.Instructions;
            uint eip = cpu.Eip;
            Assert.Equal($"T05thread:{tid:x2};", c.Ask($"vCont;s:{tid:x}"));
            Assert.True(cpu.Instructions == before + 1 || cpu.Eip != eip, $"CPU {tid - 1} did not step");
        }

        // `s` steps the thread selected with Hc.
        Assert.Equal("OK", c.Ask("Hc3"));
        Assert.Equal("T05thread:03;", c.Ask("s"));
    }

    [Fact]
    public void WriteWatchpointOnOneCpusCopy()
    {
        using var c = new RspClient();
        uint target = c.Symbol("count_percpu");
        Assert.Equal("OK", c.Ask($"Z0,{target:x},1"));
        string stop = c.Ask("c");
        int tid = Convert.ToInt32(stop[10..12], 16);
        Assert.Equal("OK", c.Ask($"z0,{target:x},1"));
        uint offset = c.ReadWord(c.Symbol("__per_cpu_offset") + (uint)(4 * (tid - 1)));
        uint copy = c.Symbol("percpu_counter") + offset;
        Assert.Equal("OK", c.Ask($"Z2,{copy:x},4"));
        Assert.Equal($"T05thread:{tid:x2};watch:{copy:x};", c.Ask("vCont;c"));
        Assert.Equal(1u, c.ReadWord(copy));
        Assert.Equal("OK", c.Ask($"z2,{copy:x},4"));
    }

    [Fact]
    public void CtrlCInterruptsARunningGuest()
    {
        // A guest that never ends, so the interrupt cannot race the guest's own exit.
        byte[] spin = FlatGuest.Build(a =>
        {
            var top = a.CreateLabel();
            a.Label(ref top);
            a.inc(AssemblerRegisters.eax);
            a.jmp(top);
        });
        using var c = new RspClient(1, "spin.bin", spin);
        c.SendRaw(RspClient.Frame("vCont;c"));
        Assert.Equal('+', c.ReadAck());
        Thread.Sleep(200);
        c.SendRaw([0x03]);
        Assert.Equal("T02thread:01;", c.ReadPacket());
        Assert.Equal("OK", c.Ask("D"));
    }

    /// <summary>A guest that counts its boots at 0x200000 and asks the keyboard controller for a reset until boot <paramref name="lastBoot"/>, then exits with 0x21.</summary>
    private static byte[] ResettingGuest(int lastBoot) => FlatGuest.Build(a =>
    {
        var done = a.CreateLabel();
        a.inc(AssemblerRegisters.__dword_ptr[0x200000]);
        a.cmp(AssemblerRegisters.__dword_ptr[0x200000], lastBoot);
        a.jae(done);
        a.mov(AssemblerRegisters.al, 0xFE);
        a.@out(0x64, AssemblerRegisters.al);
        a.hlt();
        a.Label(ref done);
        a.mov(AssemblerRegisters.al, 0x21);
        a.@out(0xF4, AssemblerRegisters.al);
        a.hlt();
    });

    [Fact]
    public void ResetsAreTransparentAndTheResetLimitEndsTheProcess()
    {
        using (var c = new RspClient(new MachineConfig(), "reset.bin", ResettingGuest(3)))
        {
            Assert.Equal("W43", c.Ask("vCont;c"));
            Assert.Equal(2, c.Machine.Resets);
        }

        using (var c = new RspClient(new MachineConfig { MaxResets = 1 }, "reset.bin", ResettingGuest(100)))
        {
            Assert.Equal("W0c", c.Ask("vCont;c"));
        }

        using (var c = new RspClient(new MachineConfig { OnResetRequest = ResetPolicy.Stop }, "reset.bin", ResettingGuest(100)))
        {
            Assert.Equal("W00", c.Ask("vCont;c"));
        }
    }
}
