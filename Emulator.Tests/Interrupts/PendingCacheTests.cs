using Emulator.Interrupts;
using Emulator.Platform;

namespace Emulator.Tests.Interrupts;

/// <summary>
/// <see cref="LocalApic.HasPendingInterrupt"/> is cached; random register traffic must never
/// leave the cache different from the value computed from the registers.
/// </summary>
public class PendingCacheTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void CacheMatchesTheRegistersUnderRandomTraffic(int seed)
    {
        var random = new Random(seed);
        var events = new EventQueue();
        var cpus = FakeApicCpu.Many(2);
        var system = new ApicSystem(events, cpus);
        var pic = new Pic8259Pair(system.LocalApics[0].Lint0);
        var ioApic = new IoApic(system);
        system.ExtIntController = pic;
        pic.InitializeLikeBios(0x20, 0x28);
        int[] lvts = [LocalApic.RegLvtTimer, LocalApic.RegLvtLint0, LocalApic.RegLvtLint1, LocalApic.RegLvtError];
        uint[] lvtValues = [0x700, 0x10700, 0x400, 0x8045, 0x45, 0x20050, 0x30050, 0xFE];
        long now = 0;
        for (int step = 0; step < 20000; step++)
        {
            var apic = system.LocalApics[random.Next(2)];
            switch (random.Next(14))
            {
                case 0: apic.WriteRegister(LocalApic.RegSvr, random.Next(2) == 0 ? 0xFFu : 0x1FFu); break;
                case 1: apic.WriteRegister(LocalApic.RegTpr, (uint)random.Next(256)); break;
                case 2: apic.AcceptFixed(random.Next(256), random.Next(2) == 0); break;
                case 3: apic.AcknowledgeInterrupt(); break;
                case 4: apic.WriteRegister(LocalApic.RegEoi, 0); break;
                case 5: apic.WriteRegister(lvts[random.Next(lvts.Length)], lvtValues[random.Next(lvtValues.Length)]); break;
                case 6: apic.Lint0.SetLevel(random.Next(2) == 0); break;
                case 7: pic.GetPin(random.Next(16)).SetLevel(random.Next(2) == 0); break;
                case 8: pic.AcknowledgeInterrupt(); break;
                case 9: ioApic.WriteRegister(0x10 + (uint)random.Next(8), (uint)random.Next(0x20000)); break;
                case 10: ioApic.GetPin(random.Next(4)).SetLevel(random.Next(2) == 0); break;
                case 11: apic.WriteRegister(LocalApic.RegTimerInitial, (uint)random.Next(50)); break;
                case 12:
                    now += random.Next(20);
                    cpus[0].Cycles = cpus[1].Cycles = now;
                    events.RunDue(now);
                    break;
                case 13:
                    if (random.Next(50) == 0)
                    {
                        apic.SetGloballyEnabled(!apic.GloballyEnabled);
                    }
                    else
                    {
                        apic.WriteRegister(LocalApic.RegIcrLow, (uint)random.Next(0x100000) & ~0x300u);
                    }

                    break;
            }

            foreach (var a in system.LocalApics)
            {
                Assert.Equal(a.ComputePendingInterrupt(), a.HasPendingInterrupt);
            }
        }
    }
}
