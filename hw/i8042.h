/* The i8042 PS/2 controller at 0x60 (data) and 0x64 (status/command), with
 * a keyboard (IRQ 1) and a mouse (IRQ 12) behind it. Its output port drives
 * the A20 gate and the CPU reset line. */
#ifndef HW_I8042_H
#define HW_I8042_H

#include "hw/ps2.h"
#include "system/irq.h"
#include "system/memory.h"

typedef struct I8042State {
    uint8_t ram[32];          /* controller RAM; ram[0] is the command byte */
    uint8_t out;              /* the output buffer */
    bool obf, out_aux;        /* full, and holding mouse data */
    bool last_was_command;    /* status bit 3 */
    uint8_t expecting;        /* command waiting for a data byte, or 0 */
    uint8_t outport;          /* as last written by 0xd1 */
    /* Controller replies (self-test result, RAM reads...): bit 8 marks aux. */
    uint16_t replies[4];
    uint8_t nr_replies;
    PS2Keyboard kbd;
    PS2Mouse mouse;
    IrqLine *irq1, *irq12;
    bool irq1_level, irq12_level;
} I8042State;

I8042State *i8042_create(AddressSpace *io, IrqLine *irq1, IrqLine *irq12);
void i8042_reset(I8042State *s);

/* Input from the UI: a key (PC set-1 code, 0x100 | code for E0 keys), and
 * relative mouse motion (dy > 0 up, dz > 0 wheel up) with buttons (bit 0
 * left, 1 right, 2 middle, 3/4 side buttons). The wheel and side buttons
 * reach guests that enabled them (IntelliMouse protocols). */
void kbd_put_keycode(I8042State *s, int keycode, bool down);
void kbd_put_mouse_event(I8042State *s, int dx, int dy, int dz, int buttons);
/* The monitor's "sendkey ctrl-alt-delete": press the keys of a '-'-separated
 * combination in order, release them in reverse. -1 with a message on an
 * unknown key name (nothing is sent then). */
int kbd_sendkey(I8042State *s, const char *combo, char *err, size_t errlen);

#endif
