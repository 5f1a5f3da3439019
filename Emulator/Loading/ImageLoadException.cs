namespace Emulator.Loading;

/// <summary>
/// A boot image (kernel, module) could not be read, parsed or placed in guest memory. The message
/// is one line that starts with the image's display name, e.g.
/// <c>kernel.elf: program header 2 extends past the end of the file (offset 0x1000, size 0x2000)</c>.
/// </summary>
public sealed class ImageLoadException : Exception
{
    public ImageLoadException(string message)
        : base(message)
    {
    }

    public ImageLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Builds the exception for <paramref name="displayName"/> with the one-line <paramref name="problem"/>.</summary>
    internal static ImageLoadException For(string displayName, string problem) => new($"{displayName}: {problem}");
}
