using Emulator.Platform;
using Iced.Intel;

namespace Emulator.Tests.Platform;

/// <summary>
/// Builds a flat Multiboot image (the address-fields form) from Iced-assembled 32-bit code, so
/// platform tests can boot a whole machine on a few lines of assembly.
/// </summary>
public static class FlatGuest
{
    public const uint LoadAddress = 0x100000;
    public const uint HeaderSize = 32;

    /// <summary>The first instruction's address (the entry point).</summary>
    public const uint Entry = LoadAddress + HeaderSize;

    public static byte[] Build(Action<Assembler> code)
    {
        var a = new Assembler(32);
        code(a);
        var w = new Writer();
        a.Assemble(w, LoadAddress + HeaderSize);
        var image = new List<byte>();
        void U32(uint v) => image.AddRange(BitConverter.GetBytes(v));
        const uint flags = 1u << 16;
        U32(0x1BADB002);
        U32(flags);
        U32(unchecked(0u - 0x1BADB002u - flags));
        U32(LoadAddress);              // header_addr
        U32(LoadAddress);              // load_addr
        U32(0);                        // load_end_addr: the whole file
        U32(0);                        // bss_end_addr: none
        U32(LoadAddress + HeaderSize); // entry_addr
        image.AddRange(w.Bytes);
        return [.. image];
    }

    /// <summary>Assembles 32-bit code at a fixed address (a handler placed inside an image) and returns its bytes.</summary>
    public static byte[] Assemble32(uint at, Action<Assembler> code)
    {
        var a = new Assembler(32);
        code(a);
        var w = new Writer();
        a.Assemble(w, at);
        return [.. w.Bytes];
    }

    /// <summary>Assembles 16-bit code at a fixed address (an AP trampoline) and returns its bytes.</summary>
    public static byte[] Assemble16(uint at, Action<Assembler> code)
    {
        var a = new Assembler(16);
        code(a);
        var w = new Writer();
        a.Assemble(w, at);
        return [.. w.Bytes];
    }

    public static Machine Boot(MachineConfig config, Action<Assembler> code)
    {
        var m = new Machine(config);
        m.Load("flat-test-guest", Build(code));
        return m;
    }

    private sealed class Writer : CodeWriter
    {
        public List<byte> Bytes { get; } = [];

        public override void WriteByte(byte value) => Bytes.Add(value);
    }
}
