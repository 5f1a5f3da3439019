using System.Text;
using Emulator.Memory;

namespace Emulator.Tests.Loading;

/// <summary>The small kernels the loader tests use.</summary>
internal static class TestImages
{
    public const uint TextAddress = 0x100000;
    public const uint DataAddress = 0x102000;
    public const uint TextSize = 0x200;
    public const uint DataFileSize = 0x100;
    public const uint DataMemorySize = 0x1000;
    public const uint Entry = TextAddress + 12;

    /// <summary>
    /// A Multiboot ELF kernel: .text (with the Multiboot header first) at 1 MiB, .data with a bss
    /// tail at 1 MiB + 8 KiB, and a symbol table with functions, objects, labels and an absolute symbol.
    /// </summary>
    public static ElfBuilder Kernel(bool multiboot = true, uint headerFlags = 3)
    {
        var b = new ElfBuilder { Entry = Entry };
        var text = new byte[TextSize];
        for (int i = 0; i < text.Length; i++)
        {
            text[i] = 0x90;
        }

        if (multiboot)
        {
            MultibootHeaderBytes.Create(headerFlags).CopyTo(text, 0);
        }

        var data = new byte[DataFileSize];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(0xA0 + (i & 0xF));
        }

        var textSeg = b.AddSegment(TextAddress, text, flags: 5);
        var dataSeg = b.AddSegment(DataAddress, data, memSize: DataMemorySize, flags: 6);
        b.AddSectionIn(".text", textSeg, 0, TextSize, ElfBuilder.ShfExec);
        b.AddSectionIn(".data", dataSeg, 0, DataFileSize, ElfBuilder.ShfWrite);
        b.Sections.Add(new ElfBuilder.Section
        {
            Name = ".bss",
            Type = ElfBuilder.ShtNoBits,
            Flags = ElfBuilder.ShfAlloc | ElfBuilder.ShfWrite,
            Address = DataAddress + DataFileSize,
            Size = DataMemorySize - DataFileSize,
        });
        b.AddSection(".comment", ElfBuilder.ShtProgBits, Encoding.ASCII.GetBytes("test builder\0"));

        b.AddSymbol("_start", Entry, 0, ElfBuilder.SttNoType, ".text");
        b.AddSymbol("kmain", TextAddress + 0x40, 0x40, ElfBuilder.SttFunc, ".text");
        b.AddSymbol("helper", TextAddress + 0x80, 0x20, ElfBuilder.SttFunc, ".text", ElfBuilder.StbLocal);
        b.AddSymbol("after_helper", TextAddress + 0xC0, 0, ElfBuilder.SttNoType, ".text", ElfBuilder.StbLocal);
        b.AddSymbol("data_start", DataAddress, 0, ElfBuilder.SttNoType, ".data");
        b.AddSymbol("counter", DataAddress + 0x10, 4, ElfBuilder.SttObject, ".data");
        b.AddSymbol("buffer", DataAddress + DataFileSize, 0x100, ElfBuilder.SttObject, ".bss");
        b.AddSymbol("KERNEL_VERSION", 0x00010203, 0, ElfBuilder.SttNoType, null);
        b.AddSymbol(".text", TextAddress, 0, ElfBuilder.SttSection, ".text", ElfBuilder.StbLocal);
        return b;
    }

    public static PhysicalMemory Memory(uint megabytes = 4) => new(megabytes << 20);

    public static string ReadCString(PhysicalMemory memory, uint address)
    {
        var bytes = new List<byte>();
        for (uint a = address; ; a++)
        {
            byte b = memory.Read8(a);
            if (b == 0)
            {
                return Encoding.UTF8.GetString(bytes.ToArray());
            }

            bytes.Add(b);
        }
    }

    public static byte[] ReadBytes(PhysicalMemory memory, uint address, int length)
    {
        var b = new byte[length];
        memory.Read(address, b);
        return b;
    }
}
