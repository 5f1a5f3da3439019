#include <stdarg.h>
#include <stdint.h>

#include "format.h"
#include "io.h"
#include "uart.h"

#define COM1 0x3F8

/* Register offsets from the I/O base. */
#define UART_DATA 0 /* THR (write) / RBR (read); DLL when LCR.DLAB = 1 */
#define UART_IER 1  /* interrupt enable; DLM when LCR.DLAB = 1 */
#define UART_FCR 2  /* FIFO control (write) */
#define UART_LCR 3  /* line control */
#define UART_MCR 4  /* modem control */
#define UART_LSR 5  /* line status */

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR_14 0xC7 /* enable FIFOs, clear RX and TX, 14-byte RX trigger */
#define MCR_DTR_RTS_OUT2 0x0B
#define LSR_THRE 0x20

void uart_init(void)
{
    outb(COM1 + UART_IER, 0x00);         /* no interrupts */
    outb(COM1 + UART_LCR, LCR_DLAB);     /* divisor latch access */
    outb(COM1 + UART_DATA, 0x01);        /* divisor 1 = 115200 baud, low byte */
    outb(COM1 + UART_IER, 0x00);         /* high byte */
    outb(COM1 + UART_LCR, LCR_8N1);      /* 8 data bits, no parity, 1 stop bit; DLAB off */
    outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR_14);
    outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
}

void uart_putc(char c)
{
    while ((inb(COM1 + UART_LSR) & LSR_THRE) == 0) {
    }
    outb(COM1 + UART_DATA, (uint8_t)c);
}

void uart_puts(const char *s)
{
    while (*s != '\0')
        uart_putc(*s++);
}

static void uart_sink(void *ctx, char c)
{
    (void)ctx;
    uart_putc(c);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvformat(uart_sink, NULL, fmt, ap);
    va_end(ap);
    return n;
}
