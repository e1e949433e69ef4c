/* 16550A UART (PC COM ports).
 *
 * Port layout (offset from base; DLAB is LCR bit 7):
 *   0  RBR (read) / THR (write); DLL when DLAB=1
 *   1  IER;                      DLM when DLAB=1
 *   2  IIR (read) / FCR (write)
 *   3  LCR   4 MCR   5 LSR   6 MSR   7 SCR
 *
 * Transmitted bytes go to the chardev at once (no baud-rate pacing); received
 * bytes come from the chardev through its frontend callbacks, as far as the
 * receive FIFO has room. On a PC the UART's interrupt output reaches the ISA
 * bus only while MCR.OUT2 is set (the board's tristate buffer), and never in
 * loopback mode, where the output pins are forced inactive. */
#ifndef HW_SERIAL_H
#define HW_SERIAL_H

#include "system/chardev.h"
#include "system/irq.h"
#include "system/memory.h"
#include "system/timer.h"

#define SERIAL_FIFO_SIZE 16

/* The ISA COM1..COM4 resources. */
#define SERIAL_ISA_PORTS 4
extern const uint16_t serial_isa_base[SERIAL_ISA_PORTS];
extern const int serial_isa_irq[SERIAL_ISA_PORTS];

typedef struct SerialFifo {
    /* Each entry: the data byte in bits 0-7, its error bits (LSR.PE/FE/BI
     * positions) in bits 8-15. */
    uint16_t data[SERIAL_FIFO_SIZE];
    uint8_t head, count;
} SerialFifo;

typedef struct SerialState {
    /* Guest-visible registers. */
    uint16_t divisor;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    SerialFifo rx;
    bool thr_ipending;      /* THRE interrupt armed (cleared by IIR read / THR write) */
    bool timeout_ipending;  /* character timeout indication */
    bool irq_level;         /* what we last drove on the line */
    uint8_t modem_inputs;   /* CTS/DSR/RI/DCD lines from the outside, MSR bit positions */

    /* Wiring. */
    uint16_t base;
    IrqLine *irq;
    Chardev *chr;
    ChardevFrontend fe;
    bool input_blocked;     /* can_receive returned 0: tell the chardev when room returns */
    Timer rx_timeout;       /* CLOCK_VIRTUAL: 4 character times of receive-line silence */
    MemoryRegion *mr;
} SerialState;

/* Create a UART at base (8 ports) raising irq; chr may be NULL (output
 * discarded, no input). Registers its machine reset handler. */
SerialState *serial_create(AddressSpace *io, uint16_t base, IrqLine *irq, Chardev *chr);
/* COM(index+1) at its standard base and IRQ, irqs being the 16 ISA lines. */
SerialState *serial_isa_create(AddressSpace *io, int index, IrqLine *isa_irqs, Chardev *chr);
void serial_reset(SerialState *s);

/* Input as the chardev delivers it (also used by tests). */
int serial_can_receive(SerialState *s);
void serial_receive(SerialState *s, const uint8_t *buf, int len);
/* A break condition on the receive line: LSR.BI and a NUL in the FIFO. */
void serial_receive_break(SerialState *s);

#endif
