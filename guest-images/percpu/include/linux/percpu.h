/*
 * The per-CPU API: include/linux/percpu.h (plus asm-generic/percpu.h).
 */
#ifndef _LINUX_PERCPU_H
#define _LINUX_PERCPU_H

#include "linux/percpu-defs.h"
#include "asm/percpu.h"
#include "linux/preempt.h"

/* The per-CPU section, from the linker script (include/asm-generic/sections.h).
 * On x86_32 __per_cpu_load == __per_cpu_start: the template sits at the
 * variables' own link addresses. */
extern char __per_cpu_load[], __per_cpu_start[], __per_cpu_end[];

/* Every unit holds this CPU's offset (arch/x86/kernel/setup_percpu.c). */
DECLARE_PER_CPU_READ_MOSTLY(unsigned long, this_cpu_off);

/* mm/percpu.c: the sizes of the first chunk (see setup_per_cpu_areas()). */
#define PCPU_MIN_UNIT_SIZE PFN_ALIGN(32 << 10)        /* a unit is at least 32 KiB */
#define PERCPU_MODULE_RESERVE (8 << 10)               /* reserved: modules' static per-CPU data */
#define PERCPU_DYNAMIC_RESERVE (20 << 10)             /* dynamic: alloc_percpu() in the first chunk */
#define PCPU_MIN_ALLOC_SIZE 4                         /* allocation granule: one bitmap bit */

extern void *pcpu_base_addr;
extern const unsigned long *pcpu_unit_offsets;
extern size_t pcpu_unit_size;

struct pcpu_alloc_info {
    size_t static_size;
    size_t reserved_size;
    size_t dyn_size;
    size_t unit_size;
    size_t atom_size;
    size_t alloc_size;
    int nr_units;
};

int pcpu_embed_first_chunk(size_t reserved_size, size_t dyn_size, size_t atom_size);

void __percpu *__alloc_percpu(size_t size, size_t align);
void __percpu *__alloc_reserved_percpu(size_t size, size_t align);
void free_percpu(void __percpu *ptr);
#define alloc_percpu(type) ((__typeof__(type) __percpu *)__alloc_percpu(sizeof(type), __alignof__(type)))

/* Introspection for the dynamic-allocation demo. */
int pcpu_nr_chunks(void);
size_t pcpu_chunk_free_bytes(int index);

#endif
