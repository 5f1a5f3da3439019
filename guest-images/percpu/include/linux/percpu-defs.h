/*
 * Defining and reaching per-CPU variables: include/linux/percpu-defs.h.
 *
 * DEFINE_PER_CPU(type, name) does not make one variable: it puts a TEMPLATE
 * of the variable into the section .data..percpu (between __per_cpu_start and
 * __per_cpu_end, see linker.ld). At boot setup_per_cpu_areas() copies the
 * whole section once per possible CPU ("a unit"), and CPU n's copy of var is
 * at  &var + __per_cpu_offset[n].  On x86_32 the variables keep their normal
 * link addresses (x86_64 links them at 0), so &var is an ordinary address in
 * the template and the offset is "unit address - __per_cpu_start".
 *
 * Which macro decides two things: the input section (where in the per-CPU
 * area the variable lands, see PERCPU_INPUT in linker.ld) and the alignment.
 */
#ifndef _LINUX_PERCPU_DEFS_H
#define _LINUX_PERCPU_DEFS_H

#include "linux/compiler.h"

#define PER_CPU_BASE_SECTION ".data..percpu"
#define PER_CPU_FIRST_SECTION "..first"

#ifdef CONFIG_SMP
/* On SMP, variables that other CPUs write too are cache-line aligned and
 * gathered at the end of the area, away from the CPU-private ones. */
#define PER_CPU_SHARED_ALIGNED_SECTION "..shared_aligned"
#define PER_CPU_ALIGNED_SECTION "..shared_aligned"
#else
#define PER_CPU_SHARED_ALIGNED_SECTION ""
#define PER_CPU_ALIGNED_SECTION "..shared_aligned"
#endif

#define __PCPU_ATTRS(sec) __percpu __attribute__((section(PER_CPU_BASE_SECTION sec)))

#define DECLARE_PER_CPU_SECTION(type, name, sec) extern __PCPU_ATTRS(sec) __typeof__(type) name
#define DEFINE_PER_CPU_SECTION(type, name, sec) __PCPU_ATTRS(sec) __typeof__(type) name

/* Plain: section .data..percpu, natural alignment. */
#define DECLARE_PER_CPU(type, name) DECLARE_PER_CPU_SECTION(type, name, "")
#define DEFINE_PER_CPU(type, name) DEFINE_PER_CPU_SECTION(type, name, "")

/* First: .data..percpu..first, at offset 0 of every unit. */
#define DECLARE_PER_CPU_FIRST(type, name) DECLARE_PER_CPU_SECTION(type, name, PER_CPU_FIRST_SECTION)
#define DEFINE_PER_CPU_FIRST(type, name) DEFINE_PER_CPU_SECTION(type, name, PER_CPU_FIRST_SECTION)

/* Shared aligned: cache-line aligned on SMP only (other CPUs access it). */
#define DECLARE_PER_CPU_SHARED_ALIGNED(type, name) \
    DECLARE_PER_CPU_SECTION(type, name, PER_CPU_SHARED_ALIGNED_SECTION) ____cacheline_aligned_in_smp
#define DEFINE_PER_CPU_SHARED_ALIGNED(type, name) \
    DEFINE_PER_CPU_SECTION(type, name, PER_CPU_SHARED_ALIGNED_SECTION) ____cacheline_aligned_in_smp

/* Aligned: cache-line aligned on SMP and UP alike. */
#define DECLARE_PER_CPU_ALIGNED(type, name) \
    DECLARE_PER_CPU_SECTION(type, name, PER_CPU_ALIGNED_SECTION) ____cacheline_aligned
#define DEFINE_PER_CPU_ALIGNED(type, name) \
    DEFINE_PER_CPU_SECTION(type, name, PER_CPU_ALIGNED_SECTION) ____cacheline_aligned

/* Page aligned: .data..percpu..page_aligned (the GDT, the TSS). */
#define DECLARE_PER_CPU_PAGE_ALIGNED(type, name) \
    DECLARE_PER_CPU_SECTION(type, name, "..page_aligned") __aligned(PAGE_SIZE)
#define DEFINE_PER_CPU_PAGE_ALIGNED(type, name) \
    DEFINE_PER_CPU_SECTION(type, name, "..page_aligned") __aligned(PAGE_SIZE)

/* Read mostly: .data..percpu..read_mostly, grouped so that they share cache
 * lines only with other rarely written data. */
#define DECLARE_PER_CPU_READ_MOSTLY(type, name) DECLARE_PER_CPU_SECTION(type, name, "..read_mostly")
#define DEFINE_PER_CPU_READ_MOSTLY(type, name) DEFINE_PER_CPU_SECTION(type, name, "..read_mostly")

/*
 * Addresses of other CPUs' copies (in a flat segment, no %fs involved):
 *   per_cpu_ptr(ptr, cpu) = ptr + __per_cpu_offset[cpu]
 *   per_cpu(var, cpu)     = *per_cpu_ptr(&var, cpu)
 * ptr may be &static_var or a pointer from alloc_percpu(): both are
 * "template-space" addresses.
 */
#define SHIFT_PERCPU_PTR(__p, __offset) RELOC_HIDE((__p), (__offset))
#define per_cpu_ptr(ptr, cpu) SHIFT_PERCPU_PTR((ptr), per_cpu_offset((cpu)))
#define per_cpu(var, cpu) (*per_cpu_ptr(&(var), cpu))

/* This CPU's copy: arch_raw_cpu_ptr() adds this CPU's this_cpu_off. */
#define raw_cpu_ptr(ptr) arch_raw_cpu_ptr(ptr)
#define this_cpu_ptr(ptr) raw_cpu_ptr(ptr)

/*
 * get_cpu_var()/put_cpu_var(): a pointer to this CPU's copy is only good while
 * the task cannot move to another CPU, so preemption is off in between.
 */
#define get_cpu_var(var)          \
    (*({                          \
        preempt_disable();        \
        this_cpu_ptr(&(var));     \
    }))
#define put_cpu_var(var)          \
    do {                          \
        (void)&(var);             \
        preempt_enable();         \
    } while (0)
#define get_cpu_ptr(var)          \
    ({                            \
        preempt_disable();        \
        this_cpu_ptr(var);        \
    })
#define put_cpu_ptr(var)          \
    do {                          \
        (void)(var);              \
        preempt_enable();         \
    } while (0)

/*
 * this_cpu_*() operations: size dispatch. The x86 back ends stem##1/2/4 are in
 * asm/percpu.h; a size they do not handle calls this undefined function, so
 * the mistake shows up as a link error (as in Linux).
 */
extern void __bad_size_call_parameter(void);

#define __pcpu_size_call_return(stem, variable)             \
    ({                                                      \
        __typeof__(variable) pscr_ret__;                    \
        switch (sizeof(variable)) {                         \
        case 1: pscr_ret__ = stem##1(variable); break;      \
        case 2: pscr_ret__ = stem##2(variable); break;      \
        case 4: pscr_ret__ = stem##4(variable); break;      \
        default: __bad_size_call_parameter(); break;        \
        }                                                   \
        pscr_ret__;                                         \
    })

#define __pcpu_size_call(stem, variable, ...)               \
    do {                                                    \
        switch (sizeof(variable)) {                         \
        case 1: stem##1(variable, __VA_ARGS__); break;      \
        case 2: stem##2(variable, __VA_ARGS__); break;      \
        case 4: stem##4(variable, __VA_ARGS__); break;      \
        default: __bad_size_call_parameter(); break;        \
        }                                                   \
    } while (0)

/* raw_cpu_*(): the caller guarantees it cannot move (preemption or irqs off). */
#define raw_cpu_read(pcp) __pcpu_size_call_return(raw_cpu_read_, pcp)
#define raw_cpu_write(pcp, val) __pcpu_size_call(raw_cpu_write_, pcp, val)
#define raw_cpu_add(pcp, val) __pcpu_size_call(raw_cpu_add_, pcp, val)
#define raw_cpu_sub(pcp, val) raw_cpu_add(pcp, -(__typeof__(pcp))(val))
#define raw_cpu_inc(pcp) raw_cpu_add(pcp, 1)
#define raw_cpu_dec(pcp) raw_cpu_sub(pcp, 1)

/* __this_cpu_*(): like raw_cpu_*(); Linux adds a debug check that preemption is off. */
#define __this_cpu_read(pcp) raw_cpu_read(pcp)
#define __this_cpu_write(pcp, val) raw_cpu_write(pcp, val)
#define __this_cpu_add(pcp, val) raw_cpu_add(pcp, val)
#define __this_cpu_inc(pcp) raw_cpu_inc(pcp)
#define __this_cpu_dec(pcp) raw_cpu_dec(pcp)

/* this_cpu_*(): safe anywhere: on x86 each is ONE %fs:-relative instruction,
 * so there is no window in which the task could move between CPUs. */
#define this_cpu_read(pcp) __pcpu_size_call_return(this_cpu_read_, pcp)
#define this_cpu_write(pcp, val) __pcpu_size_call(this_cpu_write_, pcp, val)
#define this_cpu_add(pcp, val) __pcpu_size_call(this_cpu_add_, pcp, val)
#define this_cpu_sub(pcp, val) this_cpu_add(pcp, -(__typeof__(pcp))(val))
#define this_cpu_inc(pcp) this_cpu_add(pcp, 1)
#define this_cpu_dec(pcp) this_cpu_sub(pcp, 1)
#define this_cpu_and(pcp, val) __pcpu_size_call(this_cpu_and_, pcp, val)
#define this_cpu_or(pcp, val) __pcpu_size_call(this_cpu_or_, pcp, val)

#endif
