namespace Emulator.Loading;

/// <summary>
/// Bookkeeping of which physical ranges are taken while an image is being laid out, and a
/// first-fit allocator for the loader's own data (boot information, sections, modules).
/// </summary>
internal sealed class PhysicalPlacement
{
    private readonly List<(ulong Start, ulong End, string What)> _used = [];
    private readonly ulong _ramEnd;

    public PhysicalPlacement(ulong ramEnd)
    {
        _ramEnd = ramEnd;
    }

    /// <summary>The highest end of anything allocated (not merely reserved) so far, or 0.</summary>
    public ulong AllocatedEnd { get; private set; }

    /// <summary>Marks [start, end) as taken; empty ranges are ignored.</summary>
    public void Reserve(ulong start, ulong end, string what)
    {
        if (end > start)
        {
            _used.Add((start, end, what));
        }
    }

    /// <summary>Returns the description of the first taken range that [start, end) overlaps, or null.</summary>
    public string? FindOverlap(ulong start, ulong end)
    {
        foreach (var u in _used)
        {
            if (start < u.End && end > u.Start)
            {
                return u.What;
            }
        }

        return null;
    }

    /// <summary>
    /// Finds the lowest address at or above <paramref name="from"/>, aligned to <paramref name="alignment"/>
    /// (a power of two), where <paramref name="size"/> bytes fit below min(<paramref name="limit"/>, end of RAM)
    /// without touching a taken range, and marks it taken.
    /// </summary>
    public bool TryAllocate(ulong size, ulong alignment, ulong from, ulong limit, string what, out uint address)
    {
        limit = Math.Min(limit, _ramEnd);
        ulong candidate = AlignUp(from, alignment);
        while (true)
        {
            if (candidate > limit || size > limit - candidate)
            {
                address = 0;
                return false;
            }

            ulong end = candidate + size;
            bool moved = false;
            foreach (var u in _used)
            {
                bool collides = size == 0 ? candidate >= u.Start && candidate < u.End : candidate < u.End && end > u.Start;
                if (collides)
                {
                    candidate = AlignUp(u.End, alignment);
                    moved = true;
                    break;
                }
            }

            if (!moved)
            {
                Reserve(candidate, end, what);
                AllocatedEnd = Math.Max(AllocatedEnd, end);
                address = (uint)candidate;
                return true;
            }
        }
    }

    public static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
}
