/* Polled driver for the 16550 UART of COM1 (I/O base 0x3F8). */
#ifndef PERCPU_UART_H
#define PERCPU_UART_H

void uart_init(void);
void uart_putc(char c);

#endif
