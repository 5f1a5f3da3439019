using System.Globalization;
using Emulator.Platform;

namespace Emulator.Tests.Oracle;

/// <summary>One CPU of a fuzz case: the mode it starts in and the random bytes it runs.</summary>
public sealed record FuzzCpu(FuzzEnv Env, byte[] Program);

/// <summary>
/// A fuzz input: the timing mode and, per CPU, a mode and a program. One CPU in functional
/// timing runs on a bare <see cref="Emulator.Cpu.Cpu"/>; anything else on a <see cref="Machine"/>
/// whose CPUs share memory. Saved failures and the regression corpus are lines of
/// <see cref="Format"/>: <c>Cycle Ring0Paging:0F0B90,Real:CD03</c> (text after '#' is a comment).
/// </summary>
public sealed record FuzzCase(TimingMode Timing, FuzzCpu[] Cpus)
{
    public string Format() => $"{Timing} {string.Join(',', Cpus.Select(c => $"{c.Env}:{Convert.ToHexString(c.Program)}"))}";

    public override string ToString() => Format();

    /// <summary>Parses a <see cref="Format"/> line (a trailing '# comment' is ignored); null for a blank or comment-only line.</summary>
    public static FuzzCase? Parse(string line)
    {
        int hash = line.IndexOf('#');
        string text = (hash >= 0 ? line[..hash] : line).Trim();
        if (text.Length == 0)
        {
            return null;
        }

        string[] parts = text.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !Enum.TryParse(parts[0], out TimingMode timing))
        {
            throw new FormatException($"not a fuzz case (TIMING ENV:HEX[,ENV:HEX...]): '{text}'");
        }

        var cpus = parts[1].Split(',').Select(c =>
        {
            string[] kv = c.Split(':');
            if (kv.Length != 2 || !Enum.TryParse(kv[0].Trim(), out FuzzEnv env))
            {
                throw new FormatException($"not a fuzz CPU (ENV:HEX): '{c}'");
            }

            return new FuzzCpu(env, Convert.FromHexString(kv[1].Trim()));
        }).ToArray();
        return new FuzzCase(timing, cpus);
    }

    /// <summary>Reads every case of a corpus file (one per line, '#' comments).</summary>
    public static IEnumerable<(FuzzCase Case, int Line)> ReadFile(string path)
    {
        int n = 0;
        foreach (string line in File.ReadLines(path))
        {
            n++;
            if (Parse(line) is { } c)
            {
                yield return (c, n);
            }
        }
    }

    /// <summary>Appends the case (and, as a comment, what went wrong) to a corpus file.</summary>
    public void AppendTo(string path, string problem)
    {
        string firstLine = problem.Split('\n')[0].Replace('#', ' ');
        File.AppendAllText(path, string.Create(CultureInfo.InvariantCulture, $"# {firstLine}\n{Format()}\n"));
    }
}
