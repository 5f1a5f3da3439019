/*
 * The per-CPU memory allocator: mm/percpu.c, reduced to its structure.
 *
 * CHUNKS AND UNITS. Per-CPU memory comes in chunks. A chunk is one "unit" per
 * possible CPU, all the same size (pcpu_unit_size) and at the same offsets
 * from the chunk's base (pcpu_unit_offsets[cpu]). An allocation is an offset
 * `off` inside the unit, taken in EVERY unit at once, so CPU n's copy is at
 *
 *     chunk->base_addr + pcpu_unit_offsets[n] + off.
 *
 * The pointer handed out is not that address but a "per-CPU pointer" in the
 * same space as &static_var:
 *
 *     ptr = chunk->base_addr + off - pcpu_base_addr + __per_cpu_start,
 *
 * so that ptr + __per_cpu_offset[n] is CPU n's copy, exactly as for static
 * variables, and this_cpu_*(*ptr) works through %fs.
 *
 * THE FIRST CHUNK is built at boot by pcpu_embed_first_chunk(); its units
 * are the per-CPU areas. Each unit holds:
 *
 *     | static: copy of .data..percpu | reserved | dynamic | (unused) |
 *     0                          static_size                     unit_size
 *
 * The reserved part is managed as its own chunk (pcpu_reserved_chunk, for
 * __alloc_reserved_percpu(): modules' static per-CPU variables in Linux), the
 * dynamic part by pcpu_first_chunk. When the first chunk is full, more chunks
 * are made (Linux maps them in the vmalloc area; here they come from
 * memblock and there are at most PCPU_MAX_EXTRA_CHUNKS of them, which stands
 * in for running out of vmalloc space).
 *
 * THE BITMAP ALLOCATOR (Linux 4.14+). Each chunk has
 *   alloc_map: one bit per PCPU_MIN_ALLOC_SIZE (4) bytes of the unit, 1 = in use;
 *   bound_map: one bit more; a bit is set where an allocation starts and
 *              where it ends, so free_percpu() finds an allocation's size as
 *              the distance to the next set bit.
 * Allocation is first fit: the first run of free bits, starting at an
 * aligned bit, that is long enough. Parts of the unit a chunk does not manage
 * (the static area, the reserved area, the unused tail) are marked in use
 * when the chunk is made, so they are never handed out.
 */
#define pr_fmt(fmt) "percpu: " fmt

#include "asm/bitops.h"
#include "linux/cpumask.h"
#include "linux/list.h"
#include "linux/memblock.h"
#include "linux/percpu.h"
#include "linux/printk.h"
#include "linux/spinlock.h"
#include "linux/string.h"

#define PCPU_MAX_EXTRA_CHUNKS 2

struct pcpu_chunk {
    struct list_head list;
    void *base_addr;          /* unit 0's address; unit n is at base_addr + pcpu_unit_offsets[n] */
    int start_offset;         /* bytes at the start of the unit this chunk does not manage */
    int end_offset;           /* first byte after the managed part */
    int nr_bits;              /* pcpu_unit_size / PCPU_MIN_ALLOC_SIZE */
    int free_bytes;
    unsigned long *alloc_map;
    unsigned long *bound_map;
};

void *pcpu_base_addr;                       /* the first chunk's base address */
const unsigned long *pcpu_unit_offsets;     /* cpu -> unit offset from a chunk's base */
size_t pcpu_unit_size;
static int pcpu_nr_units;
static size_t pcpu_static_size;

static struct pcpu_chunk *pcpu_first_chunk;     /* the dynamic area of the first chunk */
static struct pcpu_chunk *pcpu_reserved_chunk;  /* the reserved area of the first chunk */
static struct list_head pcpu_chunk_list = LIST_HEAD_INIT(pcpu_chunk_list); /* dynamic chunks */
static int pcpu_nr_extra_chunks;
static DEFINE_RAW_SPINLOCK(pcpu_lock);

/* mirrors mm/percpu.c: __addr_to_pcpu_ptr() / __pcpu_ptr_to_addr() */
#define __addr_to_pcpu_ptr(addr) \
    ((void __percpu *)((unsigned long)(addr) - (unsigned long)pcpu_base_addr + (unsigned long)__per_cpu_start))
#define __pcpu_ptr_to_addr(ptr) \
    ((void *)((unsigned long)(ptr) + (unsigned long)pcpu_base_addr - (unsigned long)__per_cpu_start))

/* mirrors mm/percpu.c: pcpu_chunk_addr() -- CPU cpu's copy of byte `off` of a chunk */
static void *pcpu_chunk_addr(struct pcpu_chunk *chunk, unsigned int cpu, int off)
{
    return (char *)chunk->base_addr + pcpu_unit_offsets[cpu] + off;
}

/* Marks bits [start, end) in use, as one block (bounds at both ends). */
static void pcpu_mark_used(struct pcpu_chunk *chunk, int start, int end)
{
    for (int bit = start; bit < end; bit++) {
        __set_bit(bit, chunk->alloc_map);
        __clear_bit(bit, chunk->bound_map);
    }
    __set_bit(start, chunk->bound_map);
    __set_bit(end, chunk->bound_map);
}

/* mirrors mm/percpu.c: pcpu_alloc_first_chunk() / pcpu_create_chunk() --
 * a chunk at base_addr that hands out bytes [start_offset, end_offset) of each unit. */
static struct pcpu_chunk *pcpu_alloc_chunk(void *base_addr, int start_offset, int end_offset)
{
    struct pcpu_chunk *chunk = memblock_alloc(sizeof(*chunk), 16);
    int nr_bits = (int)(pcpu_unit_size / PCPU_MIN_ALLOC_SIZE);

    INIT_LIST_HEAD(&chunk->list);
    chunk->base_addr = base_addr;
    chunk->start_offset = start_offset;
    chunk->end_offset = end_offset;
    chunk->nr_bits = nr_bits;
    chunk->alloc_map = memblock_alloc(BITS_TO_LONGS(nr_bits) * sizeof(long), 16);
    chunk->bound_map = memblock_alloc(BITS_TO_LONGS(nr_bits + 1) * sizeof(long), 16);
    /* hide the parts of the unit this chunk does not manage */
    if (start_offset > 0)
        pcpu_mark_used(chunk, 0, start_offset / PCPU_MIN_ALLOC_SIZE);
    if (end_offset < (int)pcpu_unit_size)
        pcpu_mark_used(chunk, end_offset / PCPU_MIN_ALLOC_SIZE, nr_bits);
    __set_bit(nr_bits, chunk->bound_map);
    chunk->free_bytes = end_offset - start_offset;
    return chunk;
}

/* mirrors mm/percpu.c: pcpu_dump_alloc_info() (one group, all units in it) */
static void pcpu_dump_alloc_info(const struct pcpu_alloc_info *ai)
{
    printk("pcpu-alloc: s%u r%u d%u u%u alloc=%u*%u\n", (unsigned)ai->static_size,
           (unsigned)ai->reserved_size, (unsigned)ai->dyn_size, (unsigned)ai->unit_size,
           (unsigned)(ai->alloc_size / ai->atom_size), (unsigned)ai->atom_size);
    printk("pcpu-alloc:");
    for (int unit = 0; unit < ai->nr_units; unit++)
        printk(" [0] %d", unit);
    printk("\n");
}

/* mirrors mm/percpu.c: pcpu_setup_first_chunk() -- records the geometry
 * (pcpu_base_addr, pcpu_unit_offsets[], pcpu_unit_size) and makes the
 * reserved and dynamic chunks of the first chunk. */
static void pcpu_setup_first_chunk(const struct pcpu_alloc_info *ai, void *base_addr)
{
    static unsigned long unit_off[NR_CPUS];
    unsigned int cpu;

    pcpu_dump_alloc_info(ai);

    /* one group; unit n belongs to CPU n */
    for_each_possible_cpu(cpu)
        unit_off[cpu] = cpu * ai->unit_size;
    pcpu_unit_offsets = unit_off;
    pcpu_nr_units = ai->nr_units;
    pcpu_unit_size = ai->unit_size;
    pcpu_static_size = ai->static_size;
    pcpu_base_addr = base_addr;

    int dyn_start = (int)(ai->static_size + ai->reserved_size);
    if (ai->reserved_size)
        pcpu_reserved_chunk = pcpu_alloc_chunk(base_addr, (int)ai->static_size, dyn_start);
    pcpu_first_chunk = pcpu_alloc_chunk(base_addr, dyn_start, dyn_start + (int)ai->dyn_size);
    list_add_tail(&pcpu_first_chunk->list, &pcpu_chunk_list);
}

/* mirrors mm/percpu.c: pcpu_embed_first_chunk() with pcpu_build_alloc_info():
 * sizes the unit, allocates one unit per possible CPU in one block, and
 * copies the static per-CPU data (the template at __per_cpu_load) into each. */
int pcpu_embed_first_chunk(size_t reserved_size, size_t dyn_size, size_t atom_size)
{
    struct pcpu_alloc_info ai;
    size_t size_sum;
    void *base;

    ai.static_size = (size_t)(__per_cpu_end - __per_cpu_start);
    ai.reserved_size = reserved_size;
    size_sum = PFN_ALIGN(ai.static_size + reserved_size + dyn_size);
    ai.dyn_size = size_sum - ai.static_size - reserved_size;  /* page rounding goes to dynamic */
    ai.unit_size = ALIGN(max(size_sum, PCPU_MIN_UNIT_SIZE), atom_size);
    ai.atom_size = atom_size;
    ai.alloc_size = ai.unit_size;   /* one unit per allocation atom group */
    ai.nr_units = (int)nr_cpu_ids;

    base = memblock_alloc_try((size_t)ai.nr_units * ai.unit_size, atom_size);
    if (base == NULL)
        return -1;
    for (int unit = 0; unit < ai.nr_units; unit++)
        memcpy((char *)base + (size_t)unit * ai.unit_size, __per_cpu_load, ai.static_size);
    /* (Linux gives the unused tail of each unit, past size_sum, back to memblock.) */

    pr_info("Embedded %u pages/cpu s%u r%u d%u u%u\n", (unsigned)PFN_DOWN(size_sum), (unsigned)ai.static_size,
            (unsigned)ai.reserved_size, (unsigned)ai.dyn_size, (unsigned)ai.unit_size);

    pcpu_setup_first_chunk(&ai, base);
    return 0;
}

/* mirrors mm/percpu.c: pcpu_find_block_fit() + pcpu_alloc_area() -- first fit
 * of `bits` free bits starting at a multiple of align_bits; returns the byte
 * offset, or -1 if the chunk has no such run. */
static int pcpu_alloc_area(struct pcpu_chunk *chunk, int bits, int align_bits)
{
    int bit = 0;
    while (1) {
        bit = (int)find_next_zero_bit(chunk->alloc_map, (unsigned long)chunk->nr_bits, (unsigned long)bit);
        bit = ALIGN(bit, align_bits);
        if (bit + bits > chunk->nr_bits)
            return -1;
        int used = (int)find_next_bit(chunk->alloc_map, (unsigned long)(bit + bits), (unsigned long)bit);
        if (used == bit + bits)
            break;          /* [bit, bit + bits) is free */
        bit = used + 1;     /* skip past the used bit and try again */
    }
    for (int i = bit; i < bit + bits; i++)
        __set_bit(i, chunk->alloc_map);
    /* bound_map: set at the start and just past the end, clear inside */
    __set_bit(bit, chunk->bound_map);
    for (int i = bit + 1; i < bit + bits; i++)
        __clear_bit(i, chunk->bound_map);
    __set_bit(bit + bits, chunk->bound_map);
    chunk->free_bytes -= bits * PCPU_MIN_ALLOC_SIZE;
    return bit * PCPU_MIN_ALLOC_SIZE;
}

/* mirrors mm/percpu.c: pcpu_free_area() -- the allocation at `off` ends at the
 * next bound bit. */
static void pcpu_free_area(struct pcpu_chunk *chunk, int off)
{
    int bit = off / PCPU_MIN_ALLOC_SIZE;
    int end = (int)find_next_bit(chunk->bound_map, (unsigned long)chunk->nr_bits + 1, (unsigned long)bit + 1);
    for (int i = bit; i < end; i++)
        __clear_bit(i, chunk->alloc_map);
    chunk->free_bytes += (end - bit) * PCPU_MIN_ALLOC_SIZE;
}

/* mirrors mm/percpu.c: pcpu_create_chunk() -- a new chunk: one unit per
 * possible CPU at the same offsets as in the first chunk. */
static struct pcpu_chunk *pcpu_create_chunk(void)
{
    if (pcpu_nr_extra_chunks >= PCPU_MAX_EXTRA_CHUNKS)
        return NULL;
    void *base = memblock_alloc_try((size_t)pcpu_nr_units * pcpu_unit_size, PAGE_SIZE);
    if (base == NULL)
        return NULL;
    pcpu_nr_extra_chunks++;
    struct pcpu_chunk *chunk = pcpu_alloc_chunk(base, 0, (int)pcpu_unit_size);
    list_add_tail(&chunk->list, &pcpu_chunk_list);
    return chunk;
}

/* mirrors mm/percpu.c: pcpu_alloc() */
static void __percpu *pcpu_alloc(size_t size, size_t align, bool reserved)
{
    struct pcpu_chunk *chunk = NULL;
    unsigned long flags;
    int off = -1;

    if (align < PCPU_MIN_ALLOC_SIZE)
        align = PCPU_MIN_ALLOC_SIZE;
    size = ALIGN(size, PCPU_MIN_ALLOC_SIZE);
    if (size == 0 || size > PCPU_MIN_UNIT_SIZE || align > PAGE_SIZE || (align & (align - 1)) != 0)
        return NULL;  /* Linux warns: "illegal size or alignment" */
    int bits = (int)(size / PCPU_MIN_ALLOC_SIZE);
    int align_bits = (int)(align / PCPU_MIN_ALLOC_SIZE);

    raw_spin_lock_irqsave(&pcpu_lock, flags);
    if (reserved) {
        chunk = pcpu_reserved_chunk;
        if (chunk)
            off = pcpu_alloc_area(chunk, bits, align_bits);
    } else {
        for (struct list_head *l = pcpu_chunk_list.next; l != &pcpu_chunk_list && off < 0; l = l->next) {
            chunk = list_entry(l, struct pcpu_chunk, list);
            off = pcpu_alloc_area(chunk, bits, align_bits);
        }
        if (off < 0) {
            chunk = pcpu_create_chunk();
            if (chunk)
                off = pcpu_alloc_area(chunk, bits, align_bits);
        }
    }
    raw_spin_unlock_irqrestore(&pcpu_lock, flags);
    if (off < 0)
        return NULL;

    /* clear the areas and return address relative to base address */
    unsigned int cpu;
    for_each_possible_cpu(cpu)
        memset(pcpu_chunk_addr(chunk, cpu, off), 0, size);
    return __addr_to_pcpu_ptr((char *)chunk->base_addr + off);
}

/* mirrors mm/percpu.c: __alloc_percpu() -- zero-filled, aligned, NULL on failure */
void __percpu *__alloc_percpu(size_t size, size_t align)
{
    return pcpu_alloc(size, align, false);
}

/* mirrors mm/percpu.c: __alloc_reserved_percpu() -- from the reserved area */
void __percpu *__alloc_reserved_percpu(size_t size, size_t align)
{
    return pcpu_alloc(size, align, true);
}

/* mirrors mm/percpu.c: pcpu_chunk_addr_search() -- which chunk holds addr
 * (unit 0's copy of an allocation) */
static struct pcpu_chunk *pcpu_chunk_addr_search(void *addr)
{
    unsigned long a = (unsigned long)addr;
    if (pcpu_reserved_chunk && a >= (unsigned long)pcpu_base_addr + pcpu_reserved_chunk->start_offset &&
        a < (unsigned long)pcpu_base_addr + pcpu_reserved_chunk->end_offset)
        return pcpu_reserved_chunk;
    for (struct list_head *l = pcpu_chunk_list.next; l != &pcpu_chunk_list; l = l->next) {
        struct pcpu_chunk *chunk = list_entry(l, struct pcpu_chunk, list);
        if (a >= (unsigned long)chunk->base_addr && a < (unsigned long)chunk->base_addr + pcpu_unit_size)
            return chunk;
    }
    return NULL;
}

/* mirrors mm/percpu.c: free_percpu() */
void free_percpu(void __percpu *ptr)
{
    unsigned long flags;
    if (ptr == NULL)
        return;
    void *addr = __pcpu_ptr_to_addr(ptr);
    raw_spin_lock_irqsave(&pcpu_lock, flags);
    struct pcpu_chunk *chunk = pcpu_chunk_addr_search(addr);
    if (chunk)
        pcpu_free_area(chunk, (int)((char *)addr - (char *)chunk->base_addr));
    raw_spin_unlock_irqrestore(&pcpu_lock, flags);
    if (chunk == NULL)
        panic("free_percpu: %p is not a per-CPU pointer", ptr);
}

/* For the dynamic demo: the dynamic chunks, first chunk = index 0. */
int pcpu_nr_chunks(void)
{
    return 1 + pcpu_nr_extra_chunks;
}

size_t pcpu_chunk_free_bytes(int index)
{
    int i = 0;
    for (struct list_head *l = pcpu_chunk_list.next; l != &pcpu_chunk_list; l = l->next, i++)
        if (i == index)
            return (size_t)list_entry(l, struct pcpu_chunk, list)->free_bytes;
    return 0;
}
