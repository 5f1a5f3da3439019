using System.Reflection;

namespace Emulator.Cli;

/// <summary>The guest images embedded in the emulator, so that `run` needs no toolchain.</summary>
public static class GuestImages
{
    /// <summary>The guest `run` boots when no image is given.</summary>
    public const string DefaultName = "percpu";

    /// <summary>CPUs the default guest is booted with when --cpus is not given.</summary>
    public const int DefaultCpus = 4;

    public static IReadOnlyList<string> Names =>
        Assembly.GetExecutingAssembly().GetManifestResourceNames()
            .Where(n => n.StartsWith("GuestImages.", StringComparison.Ordinal) && n.EndsWith(".elf", StringComparison.Ordinal))
            .Select(n => n["GuestImages.".Length..^".elf".Length])
            .Order(StringComparer.Ordinal)
            .ToList();

    public static byte[]? TryGet(string name)
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream($"GuestImages.{name}.elf");
        if (s is null)
        {
            return null;
        }

        var bytes = new byte[s.Length];
        s.ReadExactly(bytes);
        return bytes;
    }
}
