/* Polled driver for the 16550 UART of COM1 (I/O base 0x3F8). */
#ifndef HELLO_UART_H
#define HELLO_UART_H

void uart_init(void);
void uart_putc(char c);
void uart_puts(const char *s);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
