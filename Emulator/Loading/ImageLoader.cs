using Emulator.Memory;

namespace Emulator.Loading;

/// <summary>File-level entry points: read an image or module from disk, reporting problems as <see cref="ImageLoadException"/>.</summary>
public static class ImageLoader
{
    /// <summary>Reads <paramref name="path"/> and loads it with <see cref="MultibootLoader.Load"/>; messages name the file by <paramref name="path"/>.</summary>
    /// <exception cref="ImageLoadException">The file cannot be read or the image cannot be loaded.</exception>
    public static LoadedImage LoadFile(string path, PhysicalMemory memory, LoadOptions options)
    {
        var bytes = ReadFile(path);
        return MultibootLoader.Load(path, bytes, memory, options);
    }

    /// <summary>Reads a whole file (an image or a module).</summary>
    /// <exception cref="ImageLoadException">"no such file: ...", "... is a directory", "cannot read ...: reason".</exception>
    public static byte[] ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            throw new ImageLoadException("no file name given");
        }

        if (Directory.Exists(path))
        {
            throw new ImageLoadException($"{path}: is a directory, not a file");
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long length = stream.Length;
            if (length > Array.MaxLength)
            {
                throw new ImageLoadException($"{path}: is too large (0x{length:x} bytes)");
            }

            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ImageLoadException($"no such file: {path}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ImageLoadException($"cannot read {path}: permission denied", e);
        }
        catch (EndOfStreamException e)
        {
            throw new ImageLoadException($"cannot read {path}: the file shrank while it was being read", e);
        }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException)
        {
            throw new ImageLoadException($"cannot read {path}: {e.Message}", e);
        }
    }
}
