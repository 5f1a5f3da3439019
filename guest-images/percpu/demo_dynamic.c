/*
 * demo dynamic: alloc_percpu() / __alloc_percpu() / free_percpu().
 *
 * A dynamic per-CPU allocation is an offset taken in every unit of a chunk;
 * the pointer returned lives in the same space as &static_var, so
 * per_cpu_ptr(p, cpu) = p + __per_cpu_offset[cpu] and this_cpu_inc(*p) is
 * "incl %fs:(reg)". The demo checks: zero-filled in every CPU, distinct
 * copies one unit apart, this_cpu ops through %fs, alignment, the reserved
 * area, reuse after free_percpu(), NULL for bad requests and when all
 * chunks are full, and a second chunk being made when the first is.
 */
#include "demo.h"
#include "linux/percpu.h"
#include "linux/printk.h"
#include "linux/sched.h"

#define DYNAMIC_INCS 1000
#define DYNAMIC_BLOCK 1024
#define DYNAMIC_MAX_BLOCKS 256

/* Results (global, for tests that read the ELF symbols). */
unsigned long __percpu *dynamic_counter;
unsigned long dynamic_counter_sum;
unsigned int dynamic_blocks_until_full;

static void dynamic_inc(unsigned int cpu, void *arg)
{
    (void)cpu;
    (void)arg;
    for (int i = 0; i < DYNAMIC_INCS; i++)
        this_cpu_inc(*dynamic_counter);   /* incl %fs:(%eax) */
}

static bool all_zero(void __percpu *p, size_t size)
{
    unsigned int cpu;
    for_each_possible_cpu(cpu) {
        const unsigned char *b = per_cpu_ptr((unsigned char *)p, cpu);
        for (size_t i = 0; i < size; i++)
            if (b[i])
                return false;
    }
    return true;
}

static bool in_unit_area(void __percpu *p, unsigned long from, unsigned long to)
{
    unsigned long addr = (unsigned long)per_cpu_ptr((char *)p, 0) - (unsigned long)pcpu_base_addr;
    return addr >= from && addr < to;
}

const char *demo_dynamic(void)
{
    static void __percpu *blocks[DYNAMIC_MAX_BLOCKS];
    unsigned int cpu, n = num_online_cpus();
    unsigned long static_size = (unsigned long)(__per_cpu_end - __per_cpu_start);

    printk("demo dynamic: alloc_percpu() from the first chunk's dynamic area and from new chunks\n");

    /* 1. one unsigned long per CPU */
    dynamic_counter = alloc_percpu(unsigned long);
    if (!dynamic_counter)
        return "alloc_percpu(unsigned long) failed";
    printk("dynamic: p = alloc_percpu(unsigned long) = 0x%08lx (a per-CPU pointer, not an address)\n",
           (unsigned long)dynamic_counter);
    for_each_online_cpu(cpu)
        printk("dynamic: per_cpu_ptr(p, %u) = p + __per_cpu_offset[%u] = 0x%08lx\n", cpu, cpu,
               (unsigned long)per_cpu_ptr(dynamic_counter, cpu));
    if (!all_zero(dynamic_counter, sizeof(unsigned long)))
        return "alloc_percpu() memory is not zero-filled";
    if (!in_unit_area(dynamic_counter, static_size + PERCPU_MODULE_RESERVE, pcpu_unit_size))
        return "the first allocation is not in the first chunk's dynamic area";
    for_each_possible_cpu(cpu)
        if ((unsigned long)per_cpu_ptr(dynamic_counter, cpu) - (unsigned long)per_cpu_ptr(dynamic_counter, 0) !=
            pcpu_unit_offsets[cpu])
            return "the copies are not one unit apart";

    /* 2. this_cpu_inc(*p) on every CPU, summed */
    demo_run_on_cpus(cpu_online_mask, dynamic_inc, NULL);
    dynamic_counter_sum = 0;
    for_each_possible_cpu(cpu)
        dynamic_counter_sum += *per_cpu_ptr(dynamic_counter, cpu);
    printk("dynamic: each CPU did this_cpu_inc(*p) x%u: sum over CPUs = %lu (expected %lu)\n", DYNAMIC_INCS,
           dynamic_counter_sum, (unsigned long)n * DYNAMIC_INCS);
    if (dynamic_counter_sum != (unsigned long)n * DYNAMIC_INCS)
        return "this_cpu_inc(*p) went wrong";

    /* get_cpu_ptr()/put_cpu_ptr(): this CPU's copy, with preemption off */
    unsigned long *mine = get_cpu_ptr(dynamic_counter);
    (*mine)++;
    unsigned int me = smp_processor_id();
    put_cpu_ptr(dynamic_counter);
    printk("dynamic: get_cpu_ptr(p) on cpu%u = 0x%08lx; (*ptr)++ makes per_cpu(*p, %u) = %lu\n", me,
           (unsigned long)mine, me, *per_cpu_ptr(dynamic_counter, me));
    if (mine != per_cpu_ptr(dynamic_counter, me) || *mine != DYNAMIC_INCS + 1)
        return "get_cpu_ptr() did not give this CPU's copy";

    /* 3. alignment */
    void __percpu *aligned = __alloc_percpu(40, 64);
    printk("dynamic: __alloc_percpu(40, 64) = 0x%08lx\n", (unsigned long)aligned);
    if (!aligned || !IS_ALIGNED((unsigned long)per_cpu_ptr((char *)aligned, 0), 64) || !all_zero(aligned, 40))
        return "__alloc_percpu(40, 64) is not 64-byte aligned or not zeroed";

    /* 4. the reserved area */
    void __percpu *reserved = __alloc_reserved_percpu(16, 4);
    printk("dynamic: __alloc_reserved_percpu(16, 4) = 0x%08lx (unit offset 0x%lx, reserved area 0x%lx-0x%lx)\n",
           (unsigned long)reserved, (unsigned long)per_cpu_ptr((char *)reserved, 0) - (unsigned long)pcpu_base_addr,
           static_size, static_size + PERCPU_MODULE_RESERVE - 1);
    if (!reserved || !in_unit_area(reserved, static_size, static_size + PERCPU_MODULE_RESERVE))
        return "the reserved allocation is not in the reserved area";

    /* 5. free and reuse: first fit gives the same offset back, zeroed again */
    void __percpu *old = dynamic_counter;
    for_each_possible_cpu(cpu)
        *per_cpu_ptr(dynamic_counter, cpu) = 0xabcd;
    free_percpu(dynamic_counter);
    void __percpu *again = __alloc_percpu(sizeof(unsigned long), sizeof(unsigned long));
    printk("dynamic: free_percpu(p), then __alloc_percpu(4, 4) = 0x%08lx (%s)\n", (unsigned long)again,
           again == old ? "the same offset" : "a different offset");
    if (again != old || !all_zero(again, sizeof(unsigned long)))
        return "a freed area was not reused, or not zeroed";

    /* 6. bad requests */
    if (__alloc_percpu(PCPU_MIN_UNIT_SIZE + 4, 4) != NULL || __alloc_percpu(8, 12) != NULL ||
        __alloc_percpu(8, 2 * PAGE_SIZE) != NULL)
        return "a bad request did not return NULL";
    printk("dynamic: too large, non-power-of-two or over-page alignment: NULL\n");

    /* 7. fill everything: the first chunk, then new chunks, then NULL */
    size_t free_before = pcpu_chunk_free_bytes(0);
    int chunks_before = pcpu_nr_chunks();
    unsigned int nr = 0;
    while (nr < DYNAMIC_MAX_BLOCKS && (blocks[nr] = __alloc_percpu(DYNAMIC_BLOCK, 4)) != NULL)
        nr++;
    dynamic_blocks_until_full = nr;
    int chunks_full = pcpu_nr_chunks();
    printk("dynamic: %u blocks of %u bytes until NULL; chunks %d -> %d (unit %lu bytes, first chunk had %lu free)\n",
           nr, DYNAMIC_BLOCK, chunks_before, chunks_full, (unsigned long)pcpu_unit_size, (unsigned long)free_before);
    bool later_chunk = nr > 0 && !in_unit_area(blocks[nr - 1], 0, pcpu_unit_size);
    for (unsigned int i = 0; i < nr; i++)
        free_percpu(blocks[i]);
    size_t free_after = pcpu_chunk_free_bytes(0);
    printk("dynamic: freed them all: first chunk has %lu free again\n", (unsigned long)free_after);

    free_percpu(again);
    free_percpu(aligned);
    free_percpu(reserved);
    dynamic_counter = NULL;

    if (nr == DYNAMIC_MAX_BLOCKS)
        return "memory never ran out";
    if (chunks_full <= chunks_before || !later_chunk)
        return "no new chunk was made when the first was full";
    if (free_after != free_before)
        return "freeing did not give the space back";
    return NULL;
}
