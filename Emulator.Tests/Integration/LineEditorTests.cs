using Emulator.Cli;

namespace Emulator.Tests.Integration;

/// <summary>The `debug` prompt's line editor, fed keys as a terminal would send them.</summary>
public class LineEditorTests
{
    private static ConsoleKeyInfo Key(ConsoleKey key, bool ctrl = false) => new('\0', key, shift: false, alt: false, control: ctrl);

    private static IEnumerable<ConsoleKeyInfo> Text(string s) =>
        s.Select(c => new ConsoleKeyInfo(c, c == ' ' ? ConsoleKey.Spacebar : ConsoleKey.A, false, false, false));

    private static (LineEditor Editor, Queue<ConsoleKeyInfo> Keys, StringWriter Screen) Editor()
    {
        var keys = new Queue<ConsoleKeyInfo>();
        var screen = new StringWriter();
        return (new LineEditor(keys.Dequeue, screen), keys, screen);
    }

    [Fact]
    public void EditsInTheMiddleOfTheLine()
    {
        var (editor, keys, _) = Editor();
        foreach (var k in Text("stp 5"))
        {
            keys.Enqueue(k);
        }

        // Home, right twice, insert 'e'; End, backspace, '3'.
        keys.Enqueue(Key(ConsoleKey.Home));
        keys.Enqueue(Key(ConsoleKey.RightArrow));
        keys.Enqueue(Key(ConsoleKey.RightArrow));
        keys.Enqueue(Text("e").Single());
        keys.Enqueue(Key(ConsoleKey.End));
        keys.Enqueue(Key(ConsoleKey.Backspace));
        keys.Enqueue(Text("3").Single());
        keys.Enqueue(Key(ConsoleKey.Enter));
        Assert.Equal("step 3", editor.ReadLine("(emu) "));
    }

    [Fact]
    public void UpAndDownWalkTheHistoryAndKeepTheDraft()
    {
        var (editor, keys, _) = Editor();
        foreach (string line in new[] { "regs", "gdt diff", "gdt diff" })
        {
            foreach (var k in Text(line))
            {
                keys.Enqueue(k);
            }

            keys.Enqueue(Key(ConsoleKey.Enter));
            editor.ReadLine("> ");
        }

        Assert.Equal(["regs", "gdt diff"], editor.History);

        // Type a draft, go up twice (to "regs"), down once ("gdt diff"), down again (the draft).
        foreach (var k in Text("x/4"))
        {
            keys.Enqueue(k);
        }

        keys.Enqueue(Key(ConsoleKey.UpArrow));
        keys.Enqueue(Key(ConsoleKey.UpArrow));
        keys.Enqueue(Key(ConsoleKey.Enter));
        Assert.Equal("regs", editor.ReadLine("> "));

        // The history is now regs, gdt diff, regs: up three times to the oldest, down once.
        keys.Enqueue(Key(ConsoleKey.UpArrow));
        keys.Enqueue(Key(ConsoleKey.UpArrow));
        keys.Enqueue(Key(ConsoleKey.UpArrow));
        keys.Enqueue(Key(ConsoleKey.DownArrow));
        keys.Enqueue(Key(ConsoleKey.Enter));
        Assert.Equal("gdt diff", editor.ReadLine("> "));

        foreach (var k in Text("draft"))
        {
            keys.Enqueue(k);
        }

        keys.Enqueue(Key(ConsoleKey.UpArrow));
        keys.Enqueue(Key(ConsoleKey.DownArrow));
        keys.Enqueue(Key(ConsoleKey.Enter));
        Assert.Equal("draft", editor.ReadLine("> "));
    }

    [Fact]
    public void CtrlUClearsAndCtrlDOnAnEmptyLineEndsInput()
    {
        var (editor, keys, screen) = Editor();
        foreach (var k in Text("oops"))
        {
            keys.Enqueue(k);
        }

        keys.Enqueue(Key(ConsoleKey.U, ctrl: true));
        keys.Enqueue(Key(ConsoleKey.D, ctrl: true));
        Assert.Null(editor.ReadLine("(emu) "));
        Assert.StartsWith("(emu) ", screen.ToString());
        Assert.EndsWith("\r(emu) \u001b[K" + Environment.NewLine, screen.ToString());
    }
}
