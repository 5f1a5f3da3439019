using System.Text;

namespace Emulator.Cli;

/// <summary>
/// A small line editor for the `debug` prompt on a terminal: left/right, Home/End (Ctrl-A/E),
/// Backspace/Delete, Ctrl-U (clear), Ctrl-K (kill to end), Up/Down through this session's
/// history, Ctrl-D on an empty line ends input. Written here because the NuGet line-editing
/// packages this build can restore are unmaintained previews with unresolvable dependencies
/// (RadLine 0.6.0 needs a Spectre.Console version that is not served); it needs nothing but
/// System.Console and VT100 cursor movement.
/// </summary>
public sealed class LineEditor
{
    private readonly List<string> _history = [];
    private readonly Func<ConsoleKeyInfo> _readKey;
    private readonly TextWriter _output;

    /// <summary>Edits lines on the process's console.</summary>
    public LineEditor()
        : this(() => Console.ReadKey(intercept: true), Console.Out)
    {
    }

    /// <summary>Edits lines read key by key from <paramref name="readKey"/>, echoing to <paramref name="output"/> (tests feed keys).</summary>
    public LineEditor(Func<ConsoleKeyInfo> readKey, TextWriter output)
    {
        _readKey = readKey;
        _output = output;
    }

    /// <summary>The lines entered so far (consecutive duplicates once).</summary>
    public IReadOnlyList<string> History => _history;

    /// <summary>Reads one line with editing; null at end of input (Ctrl-D on an empty line).</summary>
    public string? ReadLine(string prompt)
    {
        var buffer = new StringBuilder();
        int cursor = 0;
        int historyIndex = _history.Count;
        string draft = string.Empty;
        _output.Write(prompt);
        while (true)
        {
            ConsoleKeyInfo key = _readKey();
            bool ctrl = (key.Modifiers & ConsoleModifiers.Control) != 0;
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    _output.WriteLine();
                    string line = buffer.ToString();
                    if (line.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != line))
                    {
                        _history.Add(line);
                    }

                    return line;
                case ConsoleKey.D when ctrl:
                    if (buffer.Length == 0)
                    {
                        _output.WriteLine();
                        return null;
                    }

                    if (cursor < buffer.Length)
                    {
                        buffer.Remove(cursor, 1);
                    }

                    break;
                case ConsoleKey.Backspace:
                    if (cursor > 0)
                    {
                        buffer.Remove(--cursor, 1);
                    }

                    break;
                case ConsoleKey.Delete:
                    if (cursor < buffer.Length)
                    {
                        buffer.Remove(cursor, 1);
                    }

                    break;
                case ConsoleKey.LeftArrow:
                case ConsoleKey.B when ctrl:
                    cursor = Math.Max(0, cursor - 1);
                    break;
                case ConsoleKey.RightArrow:
                case ConsoleKey.F when ctrl:
                    cursor = Math.Min(buffer.Length, cursor + 1);
                    break;
                case ConsoleKey.Home:
                case ConsoleKey.A when ctrl:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                case ConsoleKey.E when ctrl:
                    cursor = buffer.Length;
                    break;
                case ConsoleKey.U when ctrl:
                    buffer.Clear();
                    cursor = 0;
                    break;
                case ConsoleKey.K when ctrl:
                    buffer.Length = cursor;
                    break;
                case ConsoleKey.UpArrow:
                case ConsoleKey.P when ctrl:
                    if (historyIndex > 0)
                    {
                        if (historyIndex == _history.Count)
                        {
                            draft = buffer.ToString();
                        }

                        historyIndex--;
                        buffer.Clear().Append(_history[historyIndex]);
                        cursor = buffer.Length;
                    }

                    break;
                case ConsoleKey.DownArrow:
                case ConsoleKey.N when ctrl:
                    if (historyIndex < _history.Count)
                    {
                        historyIndex++;
                        buffer.Clear().Append(historyIndex == _history.Count ? draft : _history[historyIndex]);
                        cursor = buffer.Length;
                    }

                    break;
                default:
                    if (!ctrl && key.KeyChar >= ' ')
                    {
                        buffer.Insert(cursor++, key.KeyChar);
                    }

                    break;
            }

            // Redraw: back to the line start, prompt and text, clear the rest, cursor into place.
            _output.Write($"\r{prompt}{buffer}\u001b[K");
            int back = buffer.Length - cursor;
            if (back > 0)
            {
                _output.Write($"\u001b[{back}D");
            }
        }
    }
}
