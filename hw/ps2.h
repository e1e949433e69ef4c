/* PS/2 keyboard and mouse as they sit behind the i8042 controller: each has
 * a byte queue towards the controller and takes command bytes from it.
 *
 * Key events come in as PC set-1 scancodes (0x100 | code for the 0xE0
 * extended keys); the keyboard sends them in set 1 while the controller
 * translates (its command byte bit 6, the usual PC setup) and in set 2
 * otherwise. */
#ifndef HW_PS2_H
#define HW_PS2_H

#include <stdbool.h>
#include <stdint.h>

#define PS2_QUEUE_SIZE 64

typedef struct PS2Queue {
    uint8_t data[PS2_QUEUE_SIZE];
    uint8_t head, count;
} PS2Queue;

/* The controller is told when a device queued bytes. */
typedef void (*PS2Notify)(void *opaque);

typedef struct PS2Keyboard {
    PS2Queue q;
    uint8_t expecting;      /* command waiting for its parameter byte, or 0 */
    uint8_t scancode_set;   /* 1, 2 or 3 */
    bool scanning;
    bool translated;        /* the controller translates: speak set 1 */
    uint8_t leds;
    uint8_t typematic;
    PS2Notify notify;
    void *opaque;
} PS2Keyboard;

typedef struct PS2Mouse {
    PS2Queue q;
    uint8_t expecting;
    bool reporting, remote, wrap, scaling_2to1;
    uint8_t rate, resolution, buttons;
    uint8_t id;             /* 0 standard, 3 IntelliMouse (wheel), 4 Explorer (5 buttons) */
    uint8_t last_rates[3];  /* the sample-rate "knock" that unlocks the wheel */
    int dx, dy, dz;         /* movement not yet reported (remote mode) */
    PS2Notify notify;
    void *opaque;
} PS2Mouse;

bool ps2_queue_empty(const PS2Queue *q);
uint8_t ps2_queue_pop(PS2Queue *q);

void ps2_kbd_init(PS2Keyboard *k, PS2Notify notify, void *opaque);
void ps2_kbd_reset(PS2Keyboard *k);
/* A command or parameter byte from the controller. */
void ps2_kbd_write(PS2Keyboard *k, uint8_t v);
/* A key went down or up (set-1 code, 0x100 | code for E0 keys). */
void ps2_kbd_key(PS2Keyboard *k, int keycode, bool down);

/* The keycode for a USB HID keyboard usage (page 7; SDL_Scancode values are
 * these), for kbd_put_keycode; 0 when the key has no PC scancode here. */
int ps2_keycode_from_hid(unsigned usage);

/* The keycode for a key name as QEMU's sendkey knows them ("a", "ret",
 * "ctrl", "alt_r", "f1", "kp_enter", "delete"...) or a number ("0x1e",
 * 0x100 | code for E0 keys); 0 when unknown. */
int ps2_keycode_from_name(const char *name);

void ps2_mouse_init(PS2Mouse *m, PS2Notify notify, void *opaque);
void ps2_mouse_reset(PS2Mouse *m);
void ps2_mouse_write(PS2Mouse *m, uint8_t v);
/* Relative movement (dy > 0 is up, dz > 0 is the wheel turned up, away
 * from the user) and buttons (bit 0 left, 1 right, 2 middle, 3 and 4 side). */
void ps2_mouse_event(PS2Mouse *m, int dx, int dy, int dz, int buttons);

#endif
