using System.Diagnostics.CodeAnalysis;

namespace Emulator.Loading;

/// <summary>What a symbol names.</summary>
public enum SymbolKind
{
    /// <summary>Code (<c>STT_FUNC</c>, <c>STT_GNU_IFUNC</c>).</summary>
    Function,

    /// <summary>Data (<c>STT_OBJECT</c>, <c>STT_COMMON</c>).</summary>
    Object,

    /// <summary>Anything else with an address, typically an assembly label (<c>STT_NOTYPE</c>).</summary>
    Other,
}

/// <summary>Symbol visibility to the linker (<c>STB_*</c>).</summary>
public enum SymbolBinding
{
    Local,
    Global,
    Weak,
}

/// <summary>A named address of a loaded image.</summary>
/// <param name="Name">The symbol name.</param>
/// <param name="Address">The symbol value: an address in the image's (virtual) address space.</param>
/// <param name="Size">Size in bytes; 0 for labels whose size the assembler or linker did not record.</param>
/// <param name="Kind">Function, object or other.</param>
/// <param name="Binding">Local, global or weak.</param>
/// <param name="SectionName">The section the symbol is defined in, or null for absolute symbols.</param>
public sealed record Symbol(string Name, uint Address, uint Size, SymbolKind Kind, SymbolBinding Binding, string? SectionName);

/// <summary>An address resolved to a symbol: <c>Symbol.Address + Offset</c> is the address looked up.</summary>
public readonly record struct SymbolMatch(Symbol Symbol, uint Offset)
{
    /// <summary>"name" or "name+0x1c".</summary>
    public override string ToString() => Offset == 0 ? Symbol.Name : $"{Symbol.Name}+0x{Offset:x}";
}

/// <summary>The address range of an allocated section, used to decide which section an address is in.</summary>
public readonly record struct SymbolSection(string Name, uint Address, uint Size);

/// <summary>
/// The symbols of an image with lookups by name and by address. Address lookups are answered from
/// a table of disjoint address intervals, each mapped to its answer, built once; a lookup is a
/// binary search over a sorted array and allocates nothing, so it can be used on trace paths.
/// </summary>
/// <remarks>
/// <para>An address resolves to the symbol with a non-zero size that contains it
/// (<c>Address &lt;= a &lt; Address + Size</c>); if several do, the innermost (the one that starts last)
/// wins, then the smaller, then global over weak over local, then function over object over other,
/// then the ordinal name order.</para>
/// <para>An address no sized symbol contains resolves to the nearest preceding zero-size symbol in the
/// same section, unless a sized symbol of that section starts after that label (the address is
/// then in a gap behind a sized symbol, and nothing is returned). Addresses outside every section
/// resolve to nothing.</para>
/// <para>Only symbols defined in one of the given sections take part in address lookups; absolute
/// symbols (section null) are found by name only.</para>
/// </remarks>
public sealed class SymbolTable
{
    private readonly Symbol[] _sorted;
    private readonly Dictionary<string, Symbol> _byName;
    private readonly uint[] _intervalStarts;
    private readonly Symbol?[] _intervalAnswers;

    /// <summary>A table with no symbols.</summary>
    public static SymbolTable Empty { get; } = new([], []);

    /// <param name="symbols">The symbols, in table order (the order decides among equal names of equal binding).</param>
    /// <param name="sections">The allocated sections of the image; empty ones are ignored.</param>
    public SymbolTable(IEnumerable<Symbol> symbols, IEnumerable<SymbolSection> sections)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        ArgumentNullException.ThrowIfNull(sections);

        var inOrder = symbols.ToArray();
        foreach (var s in inOrder)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(symbols));
        }

        _byName = new Dictionary<string, Symbol>(inOrder.Length, StringComparer.Ordinal);
        foreach (var s in inOrder)
        {
            if (!_byName.TryGetValue(s.Name, out var existing) || BindingRank(s.Binding) > BindingRank(existing.Binding))
            {
                _byName[s.Name] = s;
            }
        }

        _sorted = (Symbol[])inOrder.Clone();
        Array.Sort(_sorted, static (a, b) =>
        {
            int c = a.Address.CompareTo(b.Address);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });

        var sectionList = sections.Where(static s => s.Size > 0).OrderBy(static s => s.Address).ToArray();
        (_intervalStarts, _intervalAnswers) = BuildIntervals(inOrder, sectionList);
    }

    /// <summary>All symbols, sorted by address (then name).</summary>
    public IReadOnlyList<Symbol> Symbols => _sorted;

    public int Count => _sorted.Length;

    /// <summary>Finds a symbol by exact name. If several share it, a global one is preferred over a weak one over a local one.</summary>
    public bool TryGetByName(string name, [MaybeNullWhen(false)] out Symbol symbol)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out symbol);
    }

    /// <summary>Resolves an address to a symbol and an offset into it (see the class remarks), or null.</summary>
    public SymbolMatch? FindByAddress(uint address)
    {
        var starts = _intervalStarts;
        int lo = 0;
        int hi = starts.Length - 1;
        int found = -1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (starts[mid] <= address)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        if (found < 0)
        {
            return null;
        }

        var symbol = _intervalAnswers[found];
        return symbol is null ? null : new SymbolMatch(symbol, address - symbol.Address);
    }

    /// <summary>"name+0x1c" for an address that resolves, else the address as "0x0010002c".</summary>
    public string Format(uint address) => FindByAddress(address)?.ToString() ?? $"0x{address:x8}";

    private static int BindingRank(SymbolBinding b) => b switch
    {
        SymbolBinding.Global => 2,
        SymbolBinding.Weak => 1,
        _ => 0,
    };

    private static int KindRank(SymbolKind k) => k switch
    {
        SymbolKind.Function => 2,
        SymbolKind.Object => 1,
        _ => 0,
    };

    /// <summary>Orders candidates so that the best one compares greatest.</summary>
    private sealed class PreferenceComparer : IComparer<(Symbol Symbol, int Id)>
    {
        public static readonly PreferenceComparer Instance = new();

        public int Compare((Symbol Symbol, int Id) x, (Symbol Symbol, int Id) y)
        {
            var a = x.Symbol;
            var b = y.Symbol;
            int c = a.Address.CompareTo(b.Address);
            if (c == 0)
            {
                c = b.Size.CompareTo(a.Size);
            }

            if (c == 0)
            {
                c = BindingRank(a.Binding).CompareTo(BindingRank(b.Binding));
            }

            if (c == 0)
            {
                c = KindRank(a.Kind).CompareTo(KindRank(b.Kind));
            }

            if (c == 0)
            {
                c = string.CompareOrdinal(b.Name, a.Name);
            }

            return c != 0 ? c : y.Id.CompareTo(x.Id);
        }
    }

    /// <summary>
    /// Splits the 32-bit address space at every symbol start and end and every section boundary,
    /// and computes the lookup answer of each piece with one sweep in address order.
    /// </summary>
    private static (uint[] Starts, Symbol?[] Answers) BuildIntervals(Symbol[] symbols, SymbolSection[] sections)
    {
        var sectionNames = new HashSet<string>(sections.Select(static s => s.Name), StringComparer.Ordinal);
        var located = symbols
            .Select(static (s, i) => (Symbol: s, Id: i))
            .Where(x => x.Symbol.SectionName is not null && sectionNames.Contains(x.Symbol.SectionName))
            .OrderBy(static x => x.Symbol.Address)
            .ThenBy(static x => x.Id)
            .ToArray();

        var cuts = new SortedSet<uint> { 0 };
        foreach (var (s, _) in located)
        {
            cuts.Add(s.Address);
            ulong end = (ulong)s.Address + s.Size;
            if (s.Size > 0 && end <= uint.MaxValue)
            {
                cuts.Add((uint)end);
            }
        }

        foreach (var sec in sections)
        {
            cuts.Add(sec.Address);
            ulong end = (ulong)sec.Address + sec.Size;
            if (end <= uint.MaxValue)
            {
                cuts.Add((uint)end);
            }
        }

        var starts = new List<uint>(cuts.Count);
        var answers = new List<Symbol?>(cuts.Count);
        var active = new SortedSet<(Symbol Symbol, int Id)>(PreferenceComparer.Instance);
        var expiries = new PriorityQueue<(Symbol Symbol, int Id), ulong>();
        int next = 0;
        SymbolSection? currentSection = null;
        Symbol? lastLabel = null;

        foreach (uint p in cuts)
        {
            while (expiries.TryPeek(out var expiring, out ulong end) && end <= p)
            {
                expiries.Dequeue();
                active.Remove(expiring);
            }

            var section = SectionAt(sections, p);
            if (section != currentSection)
            {
                currentSection = section;
                lastLabel = null;
            }

            bool sizedStartsHere = false;
            (Symbol Symbol, int Id)? bestLabel = null;
            while (next < located.Length && located[next].Symbol.Address <= p)
            {
                var entry = located[next++];
                var s = entry.Symbol;
                bool inThisSection = section is { } cs && string.Equals(cs.Name, s.SectionName, StringComparison.Ordinal);
                if (s.Size > 0)
                {
                    active.Add(entry);
                    expiries.Enqueue(entry, (ulong)s.Address + s.Size);
                    sizedStartsHere |= inThisSection;
                }
                else if (inThisSection && (bestLabel is null || PreferenceComparer.Instance.Compare(entry, bestLabel.Value) > 0))
                {
                    bestLabel = entry;
                }
            }

            if (sizedStartsHere)
            {
                lastLabel = null;
            }
            else if (bestLabel is not null)
            {
                lastLabel = bestLabel.Value.Symbol;
            }

            var answer = currentSection is null ? null : active.Count > 0 ? active.Max.Symbol : lastLabel;
            if (answers.Count == 0 || !ReferenceEquals(answers[^1], answer))
            {
                starts.Add(p);
                answers.Add(answer);
            }
        }

        return (starts.ToArray(), answers.ToArray());
    }

    private static SymbolSection? SectionAt(SymbolSection[] sections, uint address)
    {
        for (int i = sections.Length - 1; i >= 0; i--)
        {
            var s = sections[i];
            if (s.Address <= address && address - s.Address < s.Size)
            {
                return s;
            }
        }

        return null;
    }
}
