/*
 * The x86 per-CPU operations: arch/x86/include/asm/percpu.h (x86_32 flavour).
 *
 * Every CPU's %fs holds the selector __KERNEL_PERCPU (0xd8), and that CPU's
 * GDT entry GDT_ENTRY_PERCPU has base __per_cpu_offset[cpu]. So
 *
 *     movl %fs:cpu_number, %eax
 *
 * uses the link address of cpu_number as the offset, the segment adds this
 * CPU's __per_cpu_offset, and the load lands on this CPU's copy. One
 * instruction: an interrupt or a task switch can come before or after it, never
 * in the middle, so no preemption window.
 */
#ifndef _ASM_X86_PERCPU_H
#define _ASM_X86_PERCPU_H

#include "linux/compiler.h"

#define __percpu_seg fs
#define __percpu_prefix "%%" __stringify(__percpu_seg) ":"
#define __percpu_arg(x) __percpu_prefix "%" #x
#define __force_percpu_arg(x) __percpu_prefix "%" #x

/* Linux's per_cpu_offset(x) and the array behind it (setup_percpu.c). Until
 * setup_per_cpu_areas() every entry is BOOT_PERCPU_OFFSET = 0: the boot CPU's
 * %fs base is 0 and %fs:var is the template itself. */
#define BOOT_PERCPU_OFFSET 0
extern unsigned long __per_cpu_offset[NR_CPUS];
#define per_cpu_offset(x) (__per_cpu_offset[x])

/* The operand types and instruction forms per size. */
#define __pcpu_type_1 u8
#define __pcpu_type_2 u16
#define __pcpu_type_4 u32

#define __pcpu_cast_1(val) ((u8)(((unsigned long)(val)) & 0xff))
#define __pcpu_cast_2(val) ((u16)(((unsigned long)(val)) & 0xffff))
#define __pcpu_cast_4(val) ((u32)(unsigned long)(val))

#define __pcpu_op1_1(op, dst) op "b " dst
#define __pcpu_op1_2(op, dst) op "w " dst
#define __pcpu_op1_4(op, dst) op "l " dst
#define __pcpu_op2_1(op, src, dst) op "b " src ", " dst
#define __pcpu_op2_2(op, src, dst) op "w " src ", " dst
#define __pcpu_op2_4(op, src, dst) op "l " src ", " dst

#define __pcpu_reg_1(mod, x) mod "q"(x)
#define __pcpu_reg_2(mod, x) mod "r"(x)
#define __pcpu_reg_4(mod, x) mod "r"(x)
#define __pcpu_reg_imm_1(x) "qi"(x)
#define __pcpu_reg_imm_2(x) "ri"(x)
#define __pcpu_reg_imm_4(x) "ri"(x)

/* "op %fs:var, %reg"  e.g.  movl %fs:cpu_number, %eax */
#define percpu_from_op(size, qual, op, _var)                                    \
    ({                                                                          \
        __pcpu_type_##size pfo_val__;                                           \
        __asm__ qual(__pcpu_op2_##size(op, __percpu_arg([var]), "%[val]")       \
                     : [val] __pcpu_reg_##size("=", pfo_val__)                  \
                     : [var] "m"(_var));                                        \
        (__typeof__(_var))(unsigned long)pfo_val__;                             \
    })

/* "op %reg_or_imm, %fs:var"  e.g.  movl %edx, %fs:current_task */
#define percpu_to_op(size, qual, op, _var, _val)                                \
    do {                                                                        \
        __pcpu_type_##size pto_val__ = __pcpu_cast_##size(_val);                \
        if (0) {                                                                \
            __typeof__(_var) pto_tmp__;                                         \
            pto_tmp__ = (_val);                                                 \
            (void)pto_tmp__;                                                    \
        }                                                                       \
        __asm__ qual(__pcpu_op2_##size(op, "%[val]", __percpu_arg([var]))       \
                     : [var] "+m"(_var)                                         \
                     : [val] __pcpu_reg_imm_##size(pto_val__));                 \
    } while (0)

/* "op %fs:var"  e.g.  incl %fs:percpu_counter */
#define percpu_unary_op(size, qual, op, _var)                                   \
    ({                                                                          \
        __asm__ qual(__pcpu_op1_##size(op, __percpu_arg([var]))                 \
                     : [var] "+m"(_var));                                       \
    })

/* add, using inc/dec when the value is the constant 1/-1 (shorter code). */
#define percpu_add_op(size, qual, var, val)                                     \
    do {                                                                        \
        const int pao_ID__ =                                                    \
            (__builtin_constant_p(val) && ((val) == 1 || (val) == (__typeof__(val))-1)) ? (int)(val) : 0; \
        if (0) {                                                                \
            __typeof__(var) pao_tmp__;                                          \
            pao_tmp__ = (val);                                                  \
            (void)pao_tmp__;                                                    \
        }                                                                       \
        if (pao_ID__ == 1)                                                      \
            percpu_unary_op(size, qual, "inc", var);                            \
        else if (pao_ID__ == -1)                                                \
            percpu_unary_op(size, qual, "dec", var);                            \
        else                                                                    \
            percpu_to_op(size, qual, "add", var, val);                          \
    } while (0)

/*
 * this_cpu_read_stable(var): like this_cpu_read(), but NOT volatile and with no
 * memory input, so the compiler may reuse an earlier result. Only for values
 * that cannot change under the running task: current_task and
 * cpu_current_top_of_stack are rewritten by __switch_to(), but then a
 * different task (with its own registers) runs. cpu_number must NOT be read
 * this way: after a migration the same task reads a different value.
 */
#define percpu_stable_op(size, op, _var)                                        \
    ({                                                                          \
        __pcpu_type_##size pfo_val__;                                           \
        __asm__(__pcpu_op2_##size(op, __force_percpu_arg(P[var]), "%[val]")     \
                : [val] __pcpu_reg_##size("=", pfo_val__)                       \
                : [var] "p"(&(_var)));                                          \
        (__typeof__(_var))(unsigned long)pfo_val__;                             \
    })

#define raw_cpu_read_1(pcp) percpu_from_op(1, , "mov", pcp)
#define raw_cpu_read_2(pcp) percpu_from_op(2, , "mov", pcp)
#define raw_cpu_read_4(pcp) percpu_from_op(4, , "mov", pcp)
#define raw_cpu_write_1(pcp, val) percpu_to_op(1, , "mov", (pcp), val)
#define raw_cpu_write_2(pcp, val) percpu_to_op(2, , "mov", (pcp), val)
#define raw_cpu_write_4(pcp, val) percpu_to_op(4, , "mov", (pcp), val)
#define raw_cpu_add_1(pcp, val) percpu_add_op(1, , (pcp), val)
#define raw_cpu_add_2(pcp, val) percpu_add_op(2, , (pcp), val)
#define raw_cpu_add_4(pcp, val) percpu_add_op(4, , (pcp), val)
#define raw_cpu_and_4(pcp, val) percpu_to_op(4, , "and", (pcp), val)
#define raw_cpu_or_4(pcp, val) percpu_to_op(4, , "or", (pcp), val)

#define this_cpu_read_1(pcp) percpu_from_op(1, volatile, "mov", pcp)
#define this_cpu_read_2(pcp) percpu_from_op(2, volatile, "mov", pcp)
#define this_cpu_read_4(pcp) percpu_from_op(4, volatile, "mov", pcp)
#define this_cpu_write_1(pcp, val) percpu_to_op(1, volatile, "mov", (pcp), val)
#define this_cpu_write_2(pcp, val) percpu_to_op(2, volatile, "mov", (pcp), val)
#define this_cpu_write_4(pcp, val) percpu_to_op(4, volatile, "mov", (pcp), val)
#define this_cpu_add_1(pcp, val) percpu_add_op(1, volatile, (pcp), val)
#define this_cpu_add_2(pcp, val) percpu_add_op(2, volatile, (pcp), val)
#define this_cpu_add_4(pcp, val) percpu_add_op(4, volatile, (pcp), val)
#define this_cpu_and_1(pcp, val) percpu_to_op(1, volatile, "and", (pcp), val)
#define this_cpu_and_2(pcp, val) percpu_to_op(2, volatile, "and", (pcp), val)
#define this_cpu_and_4(pcp, val) percpu_to_op(4, volatile, "and", (pcp), val)
#define this_cpu_or_1(pcp, val) percpu_to_op(1, volatile, "or", (pcp), val)
#define this_cpu_or_2(pcp, val) percpu_to_op(2, volatile, "or", (pcp), val)
#define this_cpu_or_4(pcp, val) percpu_to_op(4, volatile, "or", (pcp), val)

#define this_cpu_read_stable_1(pcp) percpu_stable_op(1, "mov", pcp)
#define this_cpu_read_stable_2(pcp) percpu_stable_op(2, "mov", pcp)
#define this_cpu_read_stable_4(pcp) percpu_stable_op(4, "mov", pcp)
#define this_cpu_read_stable(pcp) __pcpu_size_call_return(this_cpu_read_stable_, pcp)

/*
 * this_cpu_ptr(ptr) = ptr + this CPU's offset, and the offset comes from the
 * per-CPU variable this_cpu_off (which holds __per_cpu_offset[this cpu] in
 * every unit):  add %fs:this_cpu_off, %reg.  The result is a plain address,
 * valid in any segment, and it stays pointing at THIS CPU's copy even if the
 * task later runs elsewhere: that is why get_cpu_var() disables preemption.
 */
#define arch_raw_cpu_ptr(ptr)                                   \
    ({                                                          \
        unsigned long tcp_ptr__;                                \
        __asm__ volatile("add " __percpu_arg(1) ", %0"          \
                         : "=r"(tcp_ptr__)                      \
                         : "m"(this_cpu_off), "0"(ptr));        \
        (__typeof__(*(ptr)) __kernel __force *)tcp_ptr__;       \
    })

/*
 * Early per-CPU maps: data the boot CPU must record for every CPU BEFORE the
 * per-CPU areas exist (mpparse/ACPI find the APIC ids first). It goes into a
 * plain NR_CPUS array; setup_per_cpu_areas() copies it into the per-CPU
 * variable and sets the _early_ptr to NULL, after which early_per_cpu()
 * reaches the per-CPU copy.
 */
#define DEFINE_EARLY_PER_CPU_READ_MOSTLY(_type, _name, _initvalue)                     \
    DEFINE_PER_CPU_READ_MOSTLY(_type, _name) = _initvalue;                             \
    __typeof__(_type) _name##_early_map[NR_CPUS] = { [0 ... NR_CPUS - 1] = _initvalue }; \
    __typeof__(_type) *_name##_early_ptr = _name##_early_map
#define DECLARE_EARLY_PER_CPU_READ_MOSTLY(_type, _name)        \
    DECLARE_PER_CPU_READ_MOSTLY(_type, _name);                 \
    extern __typeof__(_type) *_name##_early_ptr;               \
    extern __typeof__(_type) _name##_early_map[]
#define early_per_cpu_ptr(_name) (_name##_early_ptr)
#define early_per_cpu_map(_name, _idx) (_name##_early_map[_idx])
#define early_per_cpu(_name, _cpu) \
    (*(early_per_cpu_ptr(_name) ? &early_per_cpu_ptr(_name)[_cpu] : &per_cpu(_name, _cpu)))

#endif
