/*
 * Polled driver for the 16550 UART of COM1 (I/O base 0x3F8), as in the hello
 * guest: initialised like a real driver, every byte written after polling
 * LSR.THRE. (Linux: drivers/tty/serial/8250, early_serial_console.)
 */
#include "asm/io.h"
#include "uart.h"

#define COM1 0x3F8

#define UART_DATA 0 /* THR (write) / RBR (read); DLL when LCR.DLAB = 1 */
#define UART_IER 1  /* interrupt enable; DLM when LCR.DLAB = 1 */
#define UART_FCR 2  /* FIFO control (write) */
#define UART_LCR 3  /* line control */
#define UART_MCR 4  /* modem control */
#define UART_LSR 5  /* line status */

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR_14 0xC7
#define MCR_DTR_RTS_OUT2 0x0B
#define LSR_THRE 0x20

void uart_init(void)
{
    outb(0x00, COM1 + UART_IER);    /* no interrupts */
    outb(LCR_DLAB, COM1 + UART_LCR); /* divisor latch access */
    outb(0x01, COM1 + UART_DATA);   /* divisor 1 = 115200 baud, low byte */
    outb(0x00, COM1 + UART_IER);    /* high byte */
    outb(LCR_8N1, COM1 + UART_LCR); /* 8 data bits, no parity, 1 stop bit; DLAB off */
    outb(FCR_ENABLE_CLEAR_14, COM1 + UART_FCR);
    outb(MCR_DTR_RTS_OUT2, COM1 + UART_MCR);
}

void uart_putc(char c)
{
    while ((inb(COM1 + UART_LSR) & LSR_THRE) == 0) {
    }
    outb((u8)c, COM1 + UART_DATA);
}
