using Emulator.Loading;

namespace Emulator.Tests.Loading;

public sealed class ImageLoaderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "loader-tests-" + Guid.NewGuid().ToString("N"));

    public ImageLoaderTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LoadsAFile()
    {
        string path = Path.Combine(_dir, "kernel.elf");
        File.WriteAllBytes(path, TestImages.Kernel().Build().Bytes);
        using var mem = TestImages.Memory();
        var img = ImageLoader.LoadFile(path, mem, new LoadOptions());
        Assert.Equal(path, img.DisplayName);
        Assert.Equal(TestImages.Entry, img.EntryPoint);
        Assert.Equal(0x1BADB002u, mem.Read32(TestImages.TextAddress));
    }

    [Fact]
    public void ErrorsNameTheFile()
    {
        string path = Path.Combine(_dir, "kernel.elf");
        File.WriteAllBytes(path, [1, 2, 3]);
        using var mem = TestImages.Memory();
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadFile(path, mem, new LoadOptions()));
        Assert.Equal($"{path}: has no Multiboot header in its first 8192 bytes and is not an ELF file", e.Message);
    }

    [Fact]
    public void MissingFilesAndDirectoriesAreReported()
    {
        using var mem = TestImages.Memory();
        string missing = Path.Combine(_dir, "nope.elf");
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.LoadFile(missing, mem, new LoadOptions()));
        Assert.Equal($"no such file: {missing}", e.Message);

        string inMissingDir = Path.Combine(_dir, "no-dir", "k.elf");
        e = Assert.Throws<ImageLoadException>(() => ImageLoader.ReadFile(inMissingDir));
        Assert.Equal($"no such file: {inMissingDir}", e.Message);

        e = Assert.Throws<ImageLoadException>(() => ImageLoader.ReadFile(_dir));
        Assert.Equal($"{_dir}: is a directory, not a file", e.Message);

        e = Assert.Throws<ImageLoadException>(() => ImageLoader.ReadFile(string.Empty));
        Assert.Equal("no file name given", e.Message);
    }

    [Fact]
    public void ReadsModules()
    {
        string path = Path.Combine(_dir, "initrd");
        File.WriteAllBytes(path, [9, 8, 7]);
        Assert.Equal([9, 8, 7], ImageLoader.ReadFile(path));
        File.WriteAllBytes(path, []);
        Assert.Empty(ImageLoader.ReadFile(path));
    }
}
