/*
 * The legacy 8259A interrupt controllers: arch/x86/kernel/i8259.c.
 *
 * The BIOS leaves them delivering IRQ 0-7 on vectors 0x08-0x0F, which are
 * CPU exception vectors in protected mode. Like Linux, reprogram them to
 * ISA_IRQ_VECTOR(0) = 0x30 and up, and mask every line: this kernel takes
 * its interrupts from the local APICs only.
 */
#include "asm/io.h"
#include "asm/irq_vectors.h"
#include "linux/irq.h"

#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_IMR 0x21
#define PIC_SLAVE_CMD 0xA0
#define PIC_SLAVE_IMR 0xA1

/* mirrors arch/x86/kernel/i8259.c: init_8259A(0) */
void init_8259A(void)
{
    outb(0xff, PIC_MASTER_IMR);                 /* mask all of 8259A-1 */
    outb(0xff, PIC_SLAVE_IMR);                  /* mask all of 8259A-2 */
    outb(0x11, PIC_MASTER_CMD);                 /* ICW1: select 8259A-1 init */
    outb(ISA_IRQ_VECTOR(0), PIC_MASTER_IMR);    /* ICW2: IR0-7 mapped to 0x30-0x37 */
    outb(1U << 2, PIC_MASTER_IMR);              /* ICW3: 8259A-1 has a slave on IR2 */
    outb(0x01, PIC_MASTER_IMR);                 /* ICW4: normal EOI, 8086 mode */
    outb(0x11, PIC_SLAVE_CMD);                  /* ICW1: select 8259A-2 init */
    outb(ISA_IRQ_VECTOR(8), PIC_SLAVE_IMR);     /* ICW2: IR0-7 mapped to 0x38-0x3f */
    outb(2, PIC_SLAVE_IMR);                     /* ICW3: 8259A-2 is a slave on IR2 */
    outb(0x01, PIC_SLAVE_IMR);                  /* ICW4 */
    outb(0xff, PIC_MASTER_IMR);                 /* mask everything again */
    outb(0xff, PIC_SLAVE_IMR);
}
