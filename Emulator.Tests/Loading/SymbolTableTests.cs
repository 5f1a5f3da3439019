using Emulator.Loading;

namespace Emulator.Tests.Loading;

public class SymbolTableTests
{
    private static readonly SymbolSection[] Sections =
    [
        new(".text", 0x1000, 0x1000),
        new(".data", 0x3000, 0x100),
    ];

    private static Symbol Sym(string name, uint address, uint size, string? section = ".text", SymbolKind kind = SymbolKind.Function, SymbolBinding binding = SymbolBinding.Global) =>
        new(name, address, size, kind, binding, section);

    [Fact]
    public void SizedSymbolContainsItsRange()
    {
        var t = new SymbolTable([Sym("f", 0x1100, 0x20)], Sections);
        Assert.Null(t.FindByAddress(0x10FF));
        Assert.Equal(new SymbolMatch(t.Symbols[0], 0), t.FindByAddress(0x1100));
        Assert.Equal(0x1Fu, t.FindByAddress(0x111F)!.Value.Offset);
        Assert.Null(t.FindByAddress(0x1120)); // a gap behind a sized symbol
        Assert.Equal("f+0x1f", t.Format(0x111F));
        Assert.Equal("f", t.Format(0x1100));
        Assert.Equal("0x00001120", t.Format(0x1120));
    }

    [Fact]
    public void ZeroSizeSymbolCoversUpToTheNextSymbolInItsSection()
    {
        var t = new SymbolTable(
            [Sym("_start", 0x1000, 0, kind: SymbolKind.Other), Sym("main", 0x1200, 0x10), Sym("tail", 0x1300, 0, kind: SymbolKind.Other)],
            Sections);
        Assert.Equal(("_start", 0x1FFu), Resolve(t, 0x11FF));
        Assert.Equal(("main", 4u), Resolve(t, 0x1204));
        Assert.Null(t.FindByAddress(0x1210)); // after main, before the next label
        Assert.Equal(("tail", 0xCFFu), Resolve(t, 0x1FFF));
        Assert.Null(t.FindByAddress(0x2000)); // past the end of .text
        Assert.Null(t.FindByAddress(0x3000)); // .data has no symbols
        Assert.Null(t.FindByAddress(0x0FFF));
    }

    [Fact]
    public void ZeroSizeSymbolDoesNotReachIntoAnotherSection()
    {
        var t = new SymbolTable(
            [Sym("text_end", 0x2000, 0, ".text", SymbolKind.Other), Sym("data_label", 0x3000, 0, ".data", SymbolKind.Other)],
            [new(".text", 0x1000, 0x1000), new(".rodata", 0x2000, 0x1000), new(".data", 0x3000, 0x100)]);
        Assert.Null(t.FindByAddress(0x2000)); // in .rodata, the label belongs to .text
        Assert.Equal(("data_label", 0x10u), Resolve(t, 0x3010));
        Assert.True(t.TryGetByName("text_end", out _));
    }

    [Fact]
    public void InnermostSymbolWinsAndItsOuterSymbolResumesAfterIt()
    {
        var t = new SymbolTable(
            [Sym("outer", 0x1000, 0x100, kind: SymbolKind.Object), Sym("inner", 0x1040, 0x10)],
            Sections);
        Assert.Equal(("outer", 0x3Fu), Resolve(t, 0x103F));
        Assert.Equal(("inner", 0xFu), Resolve(t, 0x104F));
        Assert.Equal(("outer", 0x50u), Resolve(t, 0x1050));
        Assert.Null(t.FindByAddress(0x1100));
    }

    [Fact]
    public void AliasesPreferSmallerThenGlobalThenFunction()
    {
        var t = new SymbolTable(
            [
                Sym("local_alias", 0x1000, 0x10, binding: SymbolBinding.Local),
                Sym("global_alias", 0x1000, 0x10),
                Sym("object_alias", 0x1000, 0x10, kind: SymbolKind.Object),
                Sym("big", 0x1000, 0x20),
            ],
            Sections);
        Assert.Equal(("global_alias", 8u), Resolve(t, 0x1008));
        Assert.Equal(("big", 0x18u), Resolve(t, 0x1018));
    }

    [Fact]
    public void NameLookupPrefersGlobalOverWeakOverLocal()
    {
        var t = new SymbolTable(
            [
                Sym("x", 0x1000, 4, binding: SymbolBinding.Local),
                Sym("x", 0x1010, 4, binding: SymbolBinding.Weak),
                Sym("x", 0x1020, 4, binding: SymbolBinding.Global),
                Sym("x", 0x1030, 4, binding: SymbolBinding.Global),
                Sym("y", 0x1040, 4, binding: SymbolBinding.Local),
                Sym("y", 0x1050, 4, binding: SymbolBinding.Local),
            ],
            Sections);
        Assert.True(t.TryGetByName("x", out var x));
        Assert.Equal(0x1020u, x.Address);
        Assert.True(t.TryGetByName("y", out var y));
        Assert.Equal(0x1040u, y.Address);
        Assert.False(t.TryGetByName("z", out _));
    }

    [Fact]
    public void AbsoluteAndUnknownSectionSymbolsAreFoundByNameOnly()
    {
        var t = new SymbolTable([Sym("ABS", 0x1000, 0x10, null), Sym("dbg", 0x1000, 0x10, ".debug_info")], Sections);
        Assert.Null(t.FindByAddress(0x1004));
        Assert.True(t.TryGetByName("ABS", out _));
        Assert.True(t.TryGetByName("dbg", out _));
    }

    [Fact]
    public void NothingResolvesOutsideTheSections()
    {
        var t = new SymbolTable([Sym("overhang", 0x1FF0, 0x20)], Sections);
        Assert.Equal(("overhang", 0xFu), Resolve(t, 0x1FFF));
        Assert.Null(t.FindByAddress(0x2000));
    }

    [Fact]
    public void SymbolAtTopOfAddressSpace()
    {
        var t = new SymbolTable([Sym("top", 0xFFFFFFF0, 0x10, ".hi")], [new(".hi", 0xFFFFF000, 0x1000)]);
        Assert.Equal(("top", 0xFu), Resolve(t, 0xFFFFFFFF));
        Assert.Null(t.FindByAddress(0xFFFFFFEF));
    }

    [Fact]
    public void EmptyTableFindsNothing()
    {
        Assert.Equal(0, SymbolTable.Empty.Count);
        Assert.Null(SymbolTable.Empty.FindByAddress(0));
        Assert.Null(SymbolTable.Empty.FindByAddress(uint.MaxValue));
        Assert.False(SymbolTable.Empty.TryGetByName("x", out _));
    }

    [Fact]
    public void ManySymbolsAgreeWithABruteForceSearch()
    {
        var rng = new Random(1234);
        var symbols = new List<Symbol>();
        for (int i = 0; i < 400; i++)
        {
            uint address = 0x1000 + (uint)rng.Next(0x1000);
            uint size = rng.Next(3) == 0 ? 0 : (uint)rng.Next(1, 0x80);
            symbols.Add(Sym($"s{i}", address, size, kind: (SymbolKind)rng.Next(3), binding: (SymbolBinding)rng.Next(3)));
        }

        var t = new SymbolTable(symbols, Sections);
        for (uint a = 0xF00; a < 0x2100; a++)
        {
            var expected = BruteForce(symbols, a);
            var actual = t.FindByAddress(a);
            Assert.Equal(expected?.Name, actual?.Symbol.Name);
            if (actual is { } m)
            {
                Assert.Equal(a - m.Symbol.Address, m.Offset);
            }
        }
    }

    private static (string, uint)? Resolve(SymbolTable t, uint address) =>
        t.FindByAddress(address) is { } m ? (m.Symbol.Name, m.Offset) : null;

    /// <summary>The documented rules, written the slow way (all symbols are in .text here).</summary>
    private static Symbol? BruteForce(List<Symbol> symbols, uint a)
    {
        if (a < 0x1000 || a >= 0x2000)
        {
            return null;
        }

        var containing = symbols.Where(s => s.Size > 0 && a >= s.Address && a - s.Address < s.Size).ToList();
        if (containing.Count > 0)
        {
            return containing
                .OrderByDescending(s => s.Address)
                .ThenBy(s => s.Size)
                .ThenByDescending(s => s.Binding switch { SymbolBinding.Global => 2, SymbolBinding.Weak => 1, _ => 0 })
                .ThenByDescending(s => s.Kind switch { SymbolKind.Function => 2, SymbolKind.Object => 1, _ => 0 })
                .ThenBy(s => s.Name, StringComparer.Ordinal)
                .ThenBy(symbols.IndexOf)
                .First();
        }

        var preceding = symbols.Where(s => s.Address <= a).ToList();
        if (preceding.Count == 0)
        {
            return null;
        }

        uint nearest = preceding.Max(s => s.Address);
        var group = preceding.Where(s => s.Address == nearest).ToList();
        if (group.Any(s => s.Size > 0))
        {
            return null;
        }

        return group
            .OrderByDescending(s => s.Binding switch { SymbolBinding.Global => 2, SymbolBinding.Weak => 1, _ => 0 })
            .ThenByDescending(s => s.Kind switch { SymbolKind.Function => 2, SymbolKind.Object => 1, _ => 0 })
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ThenBy(symbols.IndexOf)
            .First();
    }
}
