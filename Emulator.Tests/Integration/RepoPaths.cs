namespace Emulator.Tests.Integration;

/// <summary>Finds files of the repository (guest images, expected transcripts) from the test's output folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string GuestImage(string name) => Path.Combine(Root, "guest-images", "build", name + ".elf");

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "Emulator.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root (Emulator.sln) not found above the test output folder");
    }
}
