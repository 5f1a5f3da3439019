using System.Text.Json;

namespace Emulator.Tests.Integration;

/// <summary>`run --timeline FILE` on the per-CPU teaching kernel: Chrome trace-event JSON with a track per CPU.</summary>
public class TimelineTests
{
    private sealed record Event(string Ph, int Tid, long Ts, long Dur, string Name, string? Cat);

    private static (List<Event> Events, JsonElement Root, string Serial) RunWithTimeline(params string[] extra)
    {
        string path = Path.Combine(Path.GetTempPath(), $"timeline-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output, err) = CliRunner.Run(["run", RepoPaths.GuestImage("percpu"), "--cpus", "4", "--timeline", path, .. extra]);
            Assert.True(code == 1, err); // the teaching kernel exits through port 0xf4 with 0: status 1
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray()
                .Where(e => e.GetProperty("ph").GetString() != "M")
                .Select(e => new Event(
                    e.GetProperty("ph").GetString()!,
                    e.GetProperty("tid").GetInt32(),
                    e.GetProperty("ts").GetInt64(),
                    e.TryGetProperty("dur", out var d) ? d.GetInt64() : 0,
                    e.GetProperty("name").GetString()!,
                    e.TryGetProperty("cat", out var c) ? c.GetString() : null))
                .ToList();
            var meta = doc.RootElement.GetProperty("traceEvents").EnumerateArray()
                .Where(e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "thread_name")
                .Select(e => (e.GetProperty("tid").GetInt32(), e.GetProperty("args").GetProperty("name").GetString()))
                .ToList();
            Assert.Equal(Enumerable.Range(0, 4).Select(i => (i, (string?)$"CPU {i}")), meta);
            return (events, doc.RootElement.Clone(), output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EveryCpuHasATrackWithRunSlicesHaltsInterruptsAndIpis()
    {
        var (events, root, serial) = RunWithTimeline();
        Assert.Equal("Cycle", root.GetProperty("otherData").GetProperty("timing").GetString());
        Assert.All(events, e => Assert.InRange(e.Tid, 0, 3));
        for (int cpu = 0; cpu < 4; cpu++)
        {
            var track = events.Where(e => e.Tid == cpu).ToList();

            // Guest code by function, never overlapping on one CPU's clock.
            var runs = track.Where(e => e.Ph == "X" && e.Cat == "run").OrderBy(e => e.Ts).ToList();
            Assert.NotEmpty(runs);
            Assert.All(runs, r => Assert.True(r.Dur > 0));
            for (int i = 1; i < runs.Count; i++)
            {
                Assert.True(runs[i].Ts >= runs[i - 1].Ts + runs[i - 1].Dur, $"CPU {cpu}: {runs[i - 1]} overlaps {runs[i]}");
            }

            Assert.Contains(track, e => e.Ph == "i" && e.Cat == "interrupt" && e.Name.StartsWith("interrupt 0x", StringComparison.Ordinal));
            if (cpu > 0)
            {
                // An AP waits for STARTUP, is woken by CPU 0's INIT/STARTUP, runs start_secondary and idles in HLT.
                Assert.Contains(track, e => e.Name == "wait for STARTUP" && e.Ts == 0);
                Assert.Contains(track, e => e.Name == "IPI received: INIT from CPU 0");
                Assert.Contains(track, e => e.Name == "IPI received: STARTUP page 0x08 from CPU 0");
                Assert.Contains(runs, e => e.Name == "start_secondary");
                Assert.Contains(track, e => e.Name == "halt" && e.Dur > 0);
                Assert.Contains(events, e => e.Tid == 0 && e.Name == $"IPI sent: INIT to CPU {cpu}");
            }
        }

        // Flow arrows pair every IPI sent with its receiver.
        Assert.Equal(events.Count(e => e.Ph == "s"), events.Count(e => e.Ph == "f"));
        Assert.Contains(events, e => e.Ph == "s");

        // The shared-counter demo stalls on coherence in the cycle mode.
        Assert.Contains(events, e => e.Cat == "coherence" && e.Dur > 0);

        // Recording does not change the run.
        var (_, plain, _) = CliRunner.Run("run", RepoPaths.GuestImage("percpu"), "--cpus", "4");
        Assert.Equal(plain, serial);
    }

    [Fact]
    public void FunctionalTimingHasNoCoherenceTrack()
    {
        var (events, root, _) = RunWithTimeline("--timing", "functional");
        Assert.Equal("Functional", root.GetProperty("otherData").GetProperty("timing").GetString());
        Assert.DoesNotContain(events, e => e.Cat == "coherence");
        Assert.Contains(events, e => e.Name == "halt");
    }

    [Fact]
    public void AnUnwritableTimelineFileIsAUsageError()
    {
        var (code, _, err) = CliRunner.Run("run", "--timeline", Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "t.json"));
        Assert.Equal(2, code);
        Assert.StartsWith("emulator: --timeline ", err);
        Assert.Single(err.TrimEnd().Split('\n'));
    }
}
