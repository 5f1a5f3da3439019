using System.Numerics;
using System.Text.Json;

namespace Emulator.Timing;

/// <summary>
/// The memory hierarchy's geometry and latencies for the cycle timing mode.
///
/// The defaults are loosely those of Intel's Core Duo ("Yonah", the dual-core Pentium M): 32 KiB
/// 8-way L1 instruction and data caches per core, a shared 2 MiB 8-way L2, 64-byte lines
/// (Intel's optimization reference manual and the Pentium M / Core Duo datasheets give these).
/// The latencies are rounded figures in the spirit of Agner Fog's microarchitecture guide and
/// published measurements of that generation (L2 about 14 cycles, DRAM about 100 ns at 2 GHz,
/// a modified line moved between the two cores' L1s a few tens of cycles); they are a teaching
/// model, not measurements. Every latency is a total in CPU cycles, added to the instruction's
/// base cost from <see cref="CoreTimingTable"/>.
/// </summary>
public sealed record CacheConfig
{
    /// <summary>Cache line size in bytes (a power of two; all levels use the same line).</summary>
    public int LineSize { get; init; } = 64;

    /// <summary>Per-CPU L1 instruction cache size in bytes.</summary>
    public int L1ISize { get; init; } = 32 * 1024;

    public int L1IWays { get; init; } = 8;

    /// <summary>Per-CPU L1 data cache size in bytes.</summary>
    public int L1DSize { get; init; } = 32 * 1024;

    public int L1DWays { get; init; } = 8;

    /// <summary>The shared (inclusive) L2 size in bytes.</summary>
    public int L2Size { get; init; } = 2 * 1024 * 1024;

    public int L2Ways { get; init; } = 8;

    /// <summary>
    /// Cycles for a data access (read, write, locked read-modify-write) that hits the L1D with
    /// the state it needs. Pentium M's load-to-use latency is 3 cycles; the in-order model
    /// charges 1 on top of the instruction's base cost, taking the rest as hidden by the pipeline.
    /// </summary>
    public int L1HitLatency { get; init; } = 1;

    /// <summary>Cycles for an instruction fetch that hits the L1I: 0, as the front end fetches ahead.</summary>
    public int FetchHitLatency { get; init; }

    /// <summary>Cycles for an L1 miss served by the shared L2 (Core Duo: about 14).</summary>
    public int L2HitLatency { get; init; } = 14;

    /// <summary>Cycles for an access that misses the L2 and goes to DRAM (about 100 ns at 2 GHz).</summary>
    public int DramLatency { get; init; } = 200;

    /// <summary>
    /// Cycles for an L1 miss served by another CPU's L1 holding the line Modified (a
    /// cache-to-cache transfer); replaces the L2 latency for that access.
    /// </summary>
    public int TransferLatency { get; init; } = 40;

    /// <summary>
    /// Cycles for obtaining ownership when other caches hold copies: a write to a Shared line
    /// (an upgrade, charged even when no other copy remains, since the core cannot know) or a
    /// write miss that must invalidate other copies (added to the L2 or DRAM latency).
    /// </summary>
    public int InvalidationLatency { get; init; } = 20;

    /// <summary>Cycles charged to the access whose fill evicts a Modified line (L1D to L2, or a dirty L2 line to DRAM).</summary>
    public int WriteBackLatency { get; init; } = 4;

    // Reflection-based on purpose: the source generator passes default(int) for init-only
    // properties missing from the JSON instead of keeping their initializers.
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,

        // A misspelt field must not silently keep its default.
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The defaults.</summary>
    public static CacheConfig Default { get; } = new();

    /// <summary>Reads a configuration from JSON (property names as here, case-insensitive; missing ones keep their defaults).</summary>
    public static CacheConfig FromJson(string json)
    {
        CacheConfig config = JsonSerializer.Deserialize<CacheConfig>(json, s_json)
            ?? throw new JsonException("the cache configuration is null");
        string? error = config.Validate();
        return error is null ? config : throw new ArgumentException(error);
    }

    /// <summary>Reads a configuration from a JSON file.</summary>
    public static CacheConfig Load(string path) => FromJson(File.ReadAllText(path));

    /// <summary>The configuration as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Checks the geometry and latencies; returns an error message or null.</summary>
    public string? Validate()
    {
        if (LineSize is < 4 or > 4096 || !BitOperations.IsPow2(LineSize))
        {
            return $"cache line size must be a power of two between 4 and 4096 (got {LineSize})";
        }

        string? e = CheckLevel("L1I", L1ISize, L1IWays) ?? CheckLevel("L1D", L1DSize, L1DWays) ?? CheckLevel("L2", L2Size, L2Ways);
        if (e is not null)
        {
            return e;
        }

        if (L1HitLatency < 0 || FetchHitLatency < 0 || L2HitLatency < 0 || DramLatency < 0 || TransferLatency < 0 ||
            InvalidationLatency < 0 || WriteBackLatency < 0)
        {
            return "cache latencies must not be negative";
        }

        return null;
    }

    private string? CheckLevel(string name, int size, int ways)
    {
        if (ways < 1 || ways > 64)
        {
            return $"{name} ways must be between 1 and 64 (got {ways})";
        }

        if (size <= 0 || size % (ways * LineSize) != 0 || !BitOperations.IsPow2(size / (ways * LineSize)))
        {
            return $"{name} size {size} must be a power-of-two number of sets of {ways} x {LineSize}-byte lines";
        }

        return null;
    }
}
