using System.Text;
using Emulator.Platform;
using Iced.Intel;
using static Emulator.Tests.Platform.ProtectedGuest;
using static Iced.Intel.AssemblerRegisters;

namespace Emulator.Tests.Platform;

/// <summary>
/// COM1's IRQ4 taken by a guest that programs the interrupt controllers itself: through the
/// IOAPIC (redirection entry 4), or through the 8259 pair (ICW1-4) reaching the boot CPU by the
/// virtual wire (LINT0 in ExtINT mode) or, with the local APIC globally disabled, as its INTR
/// pin. The guest transmits a message from its THRE interrupt handler, one byte per interrupt,
/// then turns the interrupt off.
/// </summary>
public class UartInterruptTests
{
    private const string Message = "irq4 says hi";
    private const uint Text = 0x6100;
    private const uint SentCount = 0x6000;
    private const uint Done = 0x6004;
    private const uint OtherIir = 0x6008;
    private const ushort Com1 = 0x3F8;

    public enum Route
    {
        IoApic,
        PicVirtualWire,
        PicIntrApicDisabled,
    }

    private static byte[] Handler(Action<Assembler> eoi) => FlatGuest.Assemble32(Handlers, h =>
    {
        var stop = h.CreateLabel();
        var other = h.CreateLabel();
        var end = h.CreateLabel();
        h.push(eax);
        h.push(edx);
        h.mov(dx, Com1 + 2);
        h.@in(al, dx);                              // IIR: reading it clears a THRE interrupt
        h.and(al, 0x0F);
        h.cmp(al, 0x02);
        h.jne(other);
        h.mov(eax, __dword_ptr[SentCount]);
        h.cmp(eax, Message.Length);
        h.jae(stop);
        h.mov(al, __byte_ptr[eax + Text]);
        h.mov(dx, Com1);
        h.@out(dx, al);                             // THR: empty again at once, a new THRE interrupt
        h.inc(__dword_ptr[SentCount]);
        h.jmp(end);
        h.Label(ref stop);
        h.mov(dx, Com1 + 1);
        h.xor(al, al);
        h.@out(dx, al);                             // IER = 0: no more interrupts
        h.mov(__dword_ptr[Done], 1);
        h.jmp(end);
        h.Label(ref other);
        h.inc(__dword_ptr[OtherIir]);
        h.Label(ref end);
        eoi(h);
        h.pop(edx);
        h.pop(eax);
        h.iretd();
    });

    private static void Out(Assembler a, ushort port, byte value)
    {
        a.mov(al, value);
        a.mov(dx, port);
        a.@out(dx, al);
    }

    /// <summary>Programs the controllers so that IRQ4 reaches the boot CPU on <paramref name="vector"/> by <paramref name="route"/>.</summary>
    private static void RouteIrq4(Assembler a, Route route, int vector)
    {
        if (route == Route.IoApic)
        {
            // Redirection entry 4: vector, fixed, physical, edge, unmasked, to APIC 0.
            a.mov(__dword_ptr[0xFEC00000], 0x10 + (2 * 4));
            a.mov(__dword_ptr[0xFEC00010], (uint)vector);
            a.mov(__dword_ptr[0xFEC00000], 0x11 + (2 * 4));
            a.mov(__dword_ptr[0xFEC00010], 0);
        }
        else
        {
            // ICW1-4 on both chips: IRQ0-7 at 0x20, IRQ8-15 at 0x28; then only IRQ4 unmasked.
            Out(a, 0x20, 0x11);
            Out(a, 0x21, 0x20);
            Out(a, 0x21, 1 << 2);
            Out(a, 0x21, 0x01);
            Out(a, 0xA0, 0x11);
            Out(a, 0xA1, 0x28);
            Out(a, 0xA1, 2);
            Out(a, 0xA1, 0x01);
            Out(a, 0x21, 0xEF);
            Out(a, 0xA1, 0xFF);
            if (route == Route.PicIntrApicDisabled)
            {
                a.mov(ecx, 0x1B);                  // IA32_APIC_BASE: clear the global enable
                a.rdmsr();
                a.and(eax, ~0x800);
                a.wrmsr();
            }
        }
    }

    private static void Eoi(Assembler h, Route route)
    {
        if (route == Route.IoApic)
        {
            h.mov(__dword_ptr[ApicEoi], 0);
        }
        else
        {
            h.mov(al, 0x20);                            // OCW2: non-specific EOI
            h.@out(0x20, al);
        }
    }

    private static (Machine Machine, Func<string> Output) Boot(Route route, TimingMode timing)
    {
        int vector = route == Route.IoApic ? 0x54 : 0x24;
        var serial = new StringBuilder();
        var m = new Machine(new MachineConfig { MemoryBytes = 16u << 20, Timing = timing, MaxInstructions = 1_000_000 }, b => serial.Append((char)b));
        m.Load("uart-irq-guest", FlatGuest.Build(a =>
        {
            EnterFlat(a, 0x80000);
            SetGate(a, vector, Handlers);
            RouteIrq4(a, route, vector);
            Out(a, 0x3FB, 0x03);                       // LCR: 8N1
            Out(a, 0x3FC, 0x08);                       // MCR: OUT2 gates the IRQ line
            a.sti();
            Out(a, 0x3F9, 0x02);                       // IER: THRE, raised at once (THR is empty)
            a.mov(ecx, 1);
            WaitForEcx(a, Done);
            a.xor(eax, eax);
            a.@out(0xF4, al);
            a.hlt();
        }));
        m.Memory.Write(Text, Encoding.ASCII.GetBytes(Message));
        m.Memory.Write(Handlers, Handler(h => Eoi(h, route)));
        return (m, serial.ToString);
    }

    [Theory]
    [InlineData(Route.IoApic, TimingMode.Functional)]
    [InlineData(Route.IoApic, TimingMode.Cycle)]
    [InlineData(Route.PicVirtualWire, TimingMode.Functional)]
    [InlineData(Route.PicVirtualWire, TimingMode.Cycle)]
    [InlineData(Route.PicIntrApicDisabled, TimingMode.Functional)]
    public void ThreInterruptDrivesTheTransmitter(Route route, TimingMode timing)
    {
        int vector = route == Route.IoApic ? 0x54 : 0x24;
        var output = string.Empty;
        var (m, r) = Determinism.RunTwice(() =>
        {
            var (machine, read) = Boot(route, timing);
            return (machine, () => output = read());
        });
        using (m)
        {
            Assert.True(r.Reason == StopReason.GuestExit, $"{r.Reason}: {r.Message}");
            Assert.Equal(Message, output);
            Assert.Equal(0u, m.Memory.Read32(OtherIir));

            // One interrupt per byte and one for the THRE after the last byte, all on the guest's
            // vector: IRQ4 reached the CPU through exactly one controller.
            var cpu = m.Cpus[0];
            Assert.Equal(Message.Length + 1, cpu.ExternalInterruptCounts[vector]);
            Assert.Equal(Message.Length + 1, cpu.ExternalInterrupts);
            Assert.Equal(0, m.Pic.SpuriousCount);
            Assert.False(m.Com1.InterruptAsserted);
            if (route != Route.IoApic)
            {
                Assert.Equal(0, m.Pic.Isr);
            }
        }
    }

    [Fact]
    public void The8259PairStartsAsTheFirmwareLeavesIt()
    {
        using var m = FlatGuest.Boot(new MachineConfig { MemoryBytes = 16u << 20, MaxInstructions = 1000 }, a =>
        {
            a.@in(al, 0x21);
            a.mov(__byte_ptr[0x6000], al);
            a.@in(al, 0xA1);
            a.mov(__byte_ptr[0x6001], al);
            a.xor(eax, eax);
            a.@out(0xF4, al);
        });
        Assert.Equal(StopReason.GuestExit, m.Run().Reason);
        Assert.Equal(0xFB, m.Memory.Read8(0x6000));    // only the cascade unmasked
        Assert.Equal(0xFF, m.Memory.Read8(0x6001));
        Assert.Equal((0x08, 0x70), m.Pic.VectorBases);
    }

    /// <summary>
    /// The receive interrupt: host input waits in COM1 before the guest enables IER.RDA; the
    /// handler drains the receiver while LSR.DR is set (the line stays high while data remains,
    /// so an edge-triggered input would not see another edge), counts into memory and EOIs.
    /// </summary>
    [Theory]
    [InlineData(Route.IoApic)]
    [InlineData(Route.PicVirtualWire)]
    public void ReceiveInterruptDeliversHostInput(Route route)
    {
        const string input = "typed on the host";
        const uint received = 0x6200;
        const uint count = 0x6010;
        int vector = route == Route.IoApic ? 0x54 : 0x24;
        Machine Boot()
        {
            var m = new Machine(new MachineConfig { MemoryBytes = 16u << 20, MaxInstructions = 1_000_000 });
            m.Load("uart-rx-guest", FlatGuest.Build(a =>
            {
                EnterFlat(a, 0x80000);
                SetGate(a, vector, Handlers);
                RouteIrq4(a, route, vector);
                Out(a, 0x3FB, 0x03);
                Out(a, 0x3FC, 0x08);
                a.sti();
                Out(a, 0x3F9, 0x01);                   // IER: received data available
                a.mov(ecx, input.Length);
                WaitForEcx(a, count);
                a.xor(eax, eax);
                a.@out(0xF4, al);
                a.hlt();
            }));
            m.Memory.Write(Handlers, FlatGuest.Assemble32(Handlers, h =>
            {
                var drain = h.CreateLabel();
                var done = h.CreateLabel();
                h.push(eax);
                h.push(edx);
                h.push(ebx);
                h.mov(dx, Com1 + 2);
                h.@in(al, dx);                          // IIR
                h.Label(ref drain);
                h.mov(dx, Com1 + 5);
                h.@in(al, dx);                          // LSR
                h.test(al, 0x01);                       // DR
                h.jz(done);
                h.mov(dx, Com1);
                h.@in(al, dx);                          // RBR
                h.mov(ebx, __dword_ptr[count]);
                h.mov(__byte_ptr[ebx + received], al);
                h.inc(__dword_ptr[count]);
                h.jmp(drain);
                h.Label(ref done);
                h.inc(__dword_ptr[OtherIir]);           // interrupts taken
                Eoi(h, route);
                h.pop(ebx);
                h.pop(edx);
                h.pop(eax);
                h.iretd();
            }));
            m.Com1.EnqueueInput(Encoding.ASCII.GetBytes(input));
            return m;
        }

        var (m, r) = Determinism.RunTwice(Boot);
        using (m)
        {
            Assert.True(r.Reason == StopReason.GuestExit, $"{r.Reason}: {r.Message}");
            byte[] got = new byte[input.Length];
            m.Memory.Read(received, got);
            Assert.Equal(input, Encoding.ASCII.GetString(got));
            long taken = m.Cpus[0].ExternalInterruptCounts[vector];
            Assert.InRange(taken, 1, input.Length);
            Assert.Equal(taken, m.Memory.Read32(OtherIir));
            Assert.Equal(taken, m.Cpus[0].ExternalInterrupts);
            Assert.False(m.Com1.InterruptAsserted);
        }
    }
}
