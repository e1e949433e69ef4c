/* PS/2 keyboard (MF2) and standard 3-button mouse command sets.
 * Facts from the IBM PS/2 Technical Reference (keyboard and pointing device
 * commands) and from what Linux's atkbd and psmouse drivers send. */
#include "hw/ps2.h"

#include <string.h>

#include "system/log.h"
#include "system/util.h"

#define ACK     0xfa
#define RESEND  0xfe
#define BAT_OK  0xaa

/* ---- queues ---------------------------------------------------------------- */

bool ps2_queue_empty(const PS2Queue *q) { return q->count == 0; }

uint8_t ps2_queue_pop(PS2Queue *q)
{
    if (!q->count)
        return 0;
    uint8_t v = q->data[q->head];
    q->head = (uint8_t)((q->head + 1) % PS2_QUEUE_SIZE);
    q->count--;
    return v;
}

static unsigned queue_room(const PS2Queue *q) { return PS2_QUEUE_SIZE - q->count; }

static void queue_push(PS2Queue *q, uint8_t v)
{
    if (q->count >= PS2_QUEUE_SIZE)
        return;                     /* a real device drops input it cannot buffer */
    q->data[(q->head + q->count) % PS2_QUEUE_SIZE] = v;
    q->count++;
}

static void queue_clear(PS2Queue *q) { q->head = q->count = 0; }

/* ---- keyboard ---------------------------------------------------------------- */

/* Set-1 make code -> set-2 make code. The E0-prefixed keys use the same table
 * (e.g. E0 48 Up -> E0 75), plus the Windows/Menu keys at 0x5b-0x5d. */
static const uint8_t set1_to_set2[0x60] = {
    [0x01] = 0x76, [0x02] = 0x16, [0x03] = 0x1e, [0x04] = 0x26, [0x05] = 0x25,
    [0x06] = 0x2e, [0x07] = 0x36, [0x08] = 0x3d, [0x09] = 0x3e, [0x0a] = 0x46,
    [0x0b] = 0x45, [0x0c] = 0x4e, [0x0d] = 0x55, [0x0e] = 0x66, [0x0f] = 0x0d,
    [0x10] = 0x15, [0x11] = 0x1d, [0x12] = 0x24, [0x13] = 0x2d, [0x14] = 0x2c,
    [0x15] = 0x35, [0x16] = 0x3c, [0x17] = 0x43, [0x18] = 0x44, [0x19] = 0x4d,
    [0x1a] = 0x54, [0x1b] = 0x5b, [0x1c] = 0x5a, [0x1d] = 0x14, [0x1e] = 0x1c,
    [0x1f] = 0x1b, [0x20] = 0x23, [0x21] = 0x2b, [0x22] = 0x34, [0x23] = 0x33,
    [0x24] = 0x3b, [0x25] = 0x42, [0x26] = 0x4b, [0x27] = 0x4c, [0x28] = 0x52,
    [0x29] = 0x0e, [0x2a] = 0x12, [0x2b] = 0x5d, [0x2c] = 0x1a, [0x2d] = 0x22,
    [0x2e] = 0x21, [0x2f] = 0x2a, [0x30] = 0x32, [0x31] = 0x31, [0x32] = 0x3a,
    [0x33] = 0x41, [0x34] = 0x49, [0x35] = 0x4a, [0x36] = 0x59, [0x37] = 0x7c,
    [0x38] = 0x11, [0x39] = 0x29, [0x3a] = 0x58, [0x3b] = 0x05, [0x3c] = 0x06,
    [0x3d] = 0x04, [0x3e] = 0x0c, [0x3f] = 0x03, [0x40] = 0x0b, [0x41] = 0x83,
    [0x42] = 0x0a, [0x43] = 0x01, [0x44] = 0x09, [0x45] = 0x77, [0x46] = 0x7e,
    [0x47] = 0x6c, [0x48] = 0x75, [0x49] = 0x7d, [0x4a] = 0x7b, [0x4b] = 0x6b,
    [0x4c] = 0x73, [0x4d] = 0x74, [0x4e] = 0x79, [0x4f] = 0x69, [0x50] = 0x72,
    [0x51] = 0x7a, [0x52] = 0x70, [0x53] = 0x71, [0x54] = 0x84, [0x56] = 0x61,
    [0x57] = 0x78, [0x58] = 0x07, [0x5b] = 0x1f, [0x5c] = 0x27, [0x5d] = 0x2f,
};

#define E0 0x100

/* USB HID keyboard usages 0x04-0x65 -> set-1 keycodes. */
static const uint16_t hid_to_set1[0x66] = {
    [0x04] = 0x1e, [0x05] = 0x30, [0x06] = 0x2e, [0x07] = 0x20, [0x08] = 0x12,
    [0x09] = 0x21, [0x0a] = 0x22, [0x0b] = 0x23, [0x0c] = 0x17, [0x0d] = 0x24,
    [0x0e] = 0x25, [0x0f] = 0x26, [0x10] = 0x32, [0x11] = 0x31, [0x12] = 0x18,
    [0x13] = 0x19, [0x14] = 0x10, [0x15] = 0x13, [0x16] = 0x1f, [0x17] = 0x14,
    [0x18] = 0x16, [0x19] = 0x2f, [0x1a] = 0x11, [0x1b] = 0x2d, [0x1c] = 0x15,
    [0x1d] = 0x2c,
    [0x1e] = 0x02, [0x1f] = 0x03, [0x20] = 0x04, [0x21] = 0x05, [0x22] = 0x06,
    [0x23] = 0x07, [0x24] = 0x08, [0x25] = 0x09, [0x26] = 0x0a, [0x27] = 0x0b,
    [0x28] = 0x1c, [0x29] = 0x01, [0x2a] = 0x0e, [0x2b] = 0x0f, [0x2c] = 0x39,
    [0x2d] = 0x0c, [0x2e] = 0x0d, [0x2f] = 0x1a, [0x30] = 0x1b, [0x31] = 0x2b,
    [0x32] = 0x2b, [0x33] = 0x27, [0x34] = 0x28, [0x35] = 0x29, [0x36] = 0x33,
    [0x37] = 0x34, [0x38] = 0x35, [0x39] = 0x3a,
    [0x3a] = 0x3b, [0x3b] = 0x3c, [0x3c] = 0x3d, [0x3d] = 0x3e, [0x3e] = 0x3f,
    [0x3f] = 0x40, [0x40] = 0x41, [0x41] = 0x42, [0x42] = 0x43, [0x43] = 0x44,
    [0x44] = 0x57, [0x45] = 0x58,
    [0x46] = E0 | 0x37, [0x47] = 0x46,                  /* Print Screen, Scroll Lock */
    [0x49] = E0 | 0x52, [0x4a] = E0 | 0x47, [0x4b] = E0 | 0x49,   /* Ins Home PgUp */
    [0x4c] = E0 | 0x53, [0x4d] = E0 | 0x4f, [0x4e] = E0 | 0x51,   /* Del End PgDn */
    [0x4f] = E0 | 0x4d, [0x50] = E0 | 0x4b, [0x51] = E0 | 0x50,   /* Right Left Down */
    [0x52] = E0 | 0x48, [0x53] = 0x45,                  /* Up, Num Lock */
    [0x54] = E0 | 0x35, [0x55] = 0x37, [0x56] = 0x4a, [0x57] = 0x4e,   /* keypad / * - + */
    [0x58] = E0 | 0x1c,                                 /* keypad Enter */
    [0x59] = 0x4f, [0x5a] = 0x50, [0x5b] = 0x51, [0x5c] = 0x4b, [0x5d] = 0x4c,
    [0x5e] = 0x4d, [0x5f] = 0x47, [0x60] = 0x48, [0x61] = 0x49, [0x62] = 0x52,
    [0x63] = 0x53,                                      /* keypad digits and . */
    [0x64] = 0x56, [0x65] = E0 | 0x5d,                  /* 102nd key, Menu */
};

/* Modifiers at usages 0xe0-0xe7. */
static const uint16_t hid_modifier_to_set1[8] = {
    0x1d, 0x2a, 0x38, E0 | 0x5b,                        /* left Ctrl Shift Alt GUI */
    E0 | 0x1d, 0x36, E0 | 0x38, E0 | 0x5c,              /* right Ctrl Shift Alt GUI */
};

int ps2_keycode_from_hid(unsigned usage)
{
    if (usage < ARRAY_SIZE(hid_to_set1))
        return hid_to_set1[usage];
    if (usage >= 0xe0 && usage <= 0xe7)
        return hid_modifier_to_set1[usage - 0xe0];
    return 0;
}

static const struct { const char *name; uint16_t code; } key_names[] = {
    { "esc", 0x01 }, { "1", 0x02 }, { "2", 0x03 }, { "3", 0x04 }, { "4", 0x05 },
    { "5", 0x06 }, { "6", 0x07 }, { "7", 0x08 }, { "8", 0x09 }, { "9", 0x0a },
    { "0", 0x0b }, { "minus", 0x0c }, { "equal", 0x0d }, { "backspace", 0x0e },
    { "tab", 0x0f }, { "q", 0x10 }, { "w", 0x11 }, { "e", 0x12 }, { "r", 0x13 },
    { "t", 0x14 }, { "y", 0x15 }, { "u", 0x16 }, { "i", 0x17 }, { "o", 0x18 },
    { "p", 0x19 }, { "bracket_left", 0x1a }, { "bracket_right", 0x1b },
    { "ret", 0x1c }, { "ctrl", 0x1d }, { "a", 0x1e }, { "s", 0x1f }, { "d", 0x20 },
    { "f", 0x21 }, { "g", 0x22 }, { "h", 0x23 }, { "j", 0x24 }, { "k", 0x25 },
    { "l", 0x26 }, { "semicolon", 0x27 }, { "apostrophe", 0x28 },
    { "grave_accent", 0x29 }, { "shift", 0x2a }, { "backslash", 0x2b },
    { "z", 0x2c }, { "x", 0x2d }, { "c", 0x2e }, { "v", 0x2f }, { "b", 0x30 },
    { "n", 0x31 }, { "m", 0x32 }, { "comma", 0x33 }, { "dot", 0x34 },
    { "slash", 0x35 }, { "shift_r", 0x36 }, { "asterisk", 0x37 }, { "kp_multiply", 0x37 },
    { "alt", 0x38 }, { "spc", 0x39 }, { "caps_lock", 0x3a },
    { "f1", 0x3b }, { "f2", 0x3c }, { "f3", 0x3d }, { "f4", 0x3e }, { "f5", 0x3f },
    { "f6", 0x40 }, { "f7", 0x41 }, { "f8", 0x42 }, { "f9", 0x43 }, { "f10", 0x44 },
    { "num_lock", 0x45 }, { "scroll_lock", 0x46 },
    { "kp_7", 0x47 }, { "kp_8", 0x48 }, { "kp_9", 0x49 }, { "kp_subtract", 0x4a },
    { "kp_4", 0x4b }, { "kp_5", 0x4c }, { "kp_6", 0x4d }, { "kp_add", 0x4e },
    { "kp_1", 0x4f }, { "kp_2", 0x50 }, { "kp_3", 0x51 }, { "kp_0", 0x52 },
    { "kp_decimal", 0x53 }, { "sysrq", 0x54 }, { "less", 0x56 },
    { "f11", 0x57 }, { "f12", 0x58 },
    { "kp_enter", E0 | 0x1c }, { "ctrl_r", E0 | 0x1d }, { "kp_divide", E0 | 0x35 },
    { "print", E0 | 0x37 }, { "alt_r", E0 | 0x38 }, { "home", E0 | 0x47 },
    { "up", E0 | 0x48 }, { "pgup", E0 | 0x49 }, { "left", E0 | 0x4b },
    { "right", E0 | 0x4d }, { "end", E0 | 0x4f }, { "down", E0 | 0x50 },
    { "pgdn", E0 | 0x51 }, { "insert", E0 | 0x52 }, { "delete", E0 | 0x53 },
    { "meta_l", E0 | 0x5b }, { "meta_r", E0 | 0x5c }, { "menu", E0 | 0x5d },
};

int ps2_keycode_from_name(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(key_names); i++)
        if (strcmp(key_names[i].name, name) == 0)
            return key_names[i].code;
    uint64_t v;
    if (name[0] >= '0' && name[0] <= '9' && parse_u64(name, &v) && v > 0 && v < 0x200 &&
        (v & 0xff) < 0x80)
        return (int)v;
    return 0;
}

static void kbd_send(PS2Keyboard *k, uint8_t v)
{
    queue_push(&k->q, v);
}

static void kbd_defaults(PS2Keyboard *k)
{
    k->scancode_set = 2;
    k->typematic = 0x2b;            /* 10.9 chars/s after 500 ms */
    k->leds = 0;
}

void ps2_kbd_reset(PS2Keyboard *k)
{
    queue_clear(&k->q);
    k->expecting = 0;
    k->scanning = true;
    kbd_defaults(k);
}

void ps2_kbd_init(PS2Keyboard *k, PS2Notify notify, void *opaque)
{
    k->notify = notify;
    k->opaque = opaque;
    ps2_kbd_reset(k);
}

/* The scancode set as the host reads it: the controller translates the
 * keyboard's answer (1, 2, 3) into set 1 (0x43, 0x41, 0x3f). */
static uint8_t reported_set(const PS2Keyboard *k)
{
    static const uint8_t translated[4] = { 0, 0x43, 0x41, 0x3f };
    return k->translated ? translated[k->scancode_set] : k->scancode_set;
}

static void kbd_parameter(PS2Keyboard *k, uint8_t cmd, uint8_t v)
{
    switch (cmd) {
    case 0xed:                      /* set LEDs */
        k->leds = v & 7;
        kbd_send(k, ACK);
        break;
    case 0xf3:                      /* typematic rate/delay */
        k->typematic = v & 0x7f;
        kbd_send(k, ACK);
        break;
    case 0xf0:                      /* scancode set */
        kbd_send(k, ACK);
        if (v == 0)
            kbd_send(k, reported_set(k));
        else if (v <= 3)
            k->scancode_set = v;
        break;
    }
}

static void kbd_command(PS2Keyboard *k, uint8_t v)
{
    switch (v) {
    case 0xed: case 0xf3: case 0xf0:
        k->expecting = v;
        kbd_send(k, ACK);
        break;
    case 0xee:                      /* echo */
        kbd_send(k, 0xee);
        break;
    case 0xf2:                      /* identify: an MF2 keyboard */
        kbd_send(k, ACK);
        kbd_send(k, 0xab);
        kbd_send(k, k->translated ? 0x41 : 0x83);
        break;
    case 0xf4:                      /* enable scanning */
        k->scanning = true;
        kbd_send(k, ACK);
        break;
    case 0xf5:                      /* disable scanning and restore defaults */
        k->scanning = false;
        kbd_defaults(k);
        kbd_send(k, ACK);
        break;
    case 0xf6:                      /* restore defaults */
        kbd_defaults(k);
        kbd_send(k, ACK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa:
    case 0xfb: case 0xfc: case 0xfd:   /* set-3 key types: accepted, no effect */
        kbd_send(k, ACK);
        break;
    case 0xff:                      /* reset and self-test */
        ps2_kbd_reset(k);
        kbd_send(k, ACK);
        kbd_send(k, BAT_OK);
        break;
    default:
        kbd_send(k, RESEND);
        break;
    }
}

void ps2_kbd_write(PS2Keyboard *k, uint8_t v)
{
    uint8_t cmd = k->expecting;
    k->expecting = 0;
    /* A command byte in place of a parameter starts that command instead
     * (parameters are all below 0xed). */
    if (cmd && v < 0xed)
        kbd_parameter(k, cmd, v);
    else
        kbd_command(k, v);
    k->notify(k->opaque);
}

void ps2_kbd_key(PS2Keyboard *k, int keycode, bool down)
{
    bool extended = keycode & 0x100;
    uint8_t code = (uint8_t)keycode;
    if (!k->scanning || code == 0 || code >= 0x80)
        return;
    if (queue_room(&k->q) < 3)
        return;
    if (extended)
        kbd_send(k, 0xe0);
    if (k->translated || k->scancode_set == 1) {
        kbd_send(k, down ? code : (uint8_t)(code | 0x80));
    } else {
        uint8_t c2 = code < sizeof(set1_to_set2) ? set1_to_set2[code] : 0;
        if (!c2) {
            if (extended)
                ps2_queue_pop(&k->q);   /* nothing to say: take the prefix back */
            return;
        }
        if (!down)
            kbd_send(k, 0xf0);
        kbd_send(k, c2);
    }
    k->notify(k->opaque);
}

/* ---- mouse ------------------------------------------------------------------- */

static void mouse_send(PS2Mouse *m, uint8_t v) { queue_push(&m->q, v); }

static void mouse_defaults(PS2Mouse *m)
{
    m->rate = 100;
    m->resolution = 2;              /* 4 counts/mm */
    m->scaling_2to1 = false;
    m->reporting = false;
    m->remote = false;
    m->dx = m->dy = m->dz = 0;
}

void ps2_mouse_reset(PS2Mouse *m)
{
    queue_clear(&m->q);
    m->expecting = 0;
    m->wrap = false;
    m->buttons = 0;
    m->id = 0;
    memset(m->last_rates, 0, sizeof(m->last_rates));
    mouse_defaults(m);
}

void ps2_mouse_init(PS2Mouse *m, PS2Notify notify, void *opaque)
{
    m->notify = notify;
    m->opaque = opaque;
    ps2_mouse_reset(m);
}

static int clamp(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static unsigned packet_size(const PS2Mouse *m) { return m->id ? 4 : 3; }

/* One movement packet: buttons and signs, X, Y, and for the wheel mice Z
 * (whose positive values mean the wheel turned towards the user). */
static void mouse_packet(PS2Mouse *m)
{
    int dx = clamp(m->dx, -256, 255), dy = clamp(m->dy, -256, 255);
    uint8_t b0 = (uint8_t)(0x08 | (m->buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0));
    mouse_send(m, b0);
    mouse_send(m, (uint8_t)dx);
    mouse_send(m, (uint8_t)dy);
    m->dx -= dx;
    m->dy -= dy;
    if (m->id == 3) {
        int dz = clamp(-m->dz, -128, 127);
        mouse_send(m, (uint8_t)dz);
        m->dz += dz;
    } else if (m->id == 4) {
        int dz = clamp(-m->dz, -8, 7);
        mouse_send(m, (uint8_t)((dz & 0x0f) | (m->buttons & 0x18) << 1));
        m->dz += dz;
    }
}

/* Sample rates 200, 100, 80 unlock the wheel (ID 3); then 200, 200, 80 the
 * fourth and fifth buttons (ID 4), as the IntelliMouse protocols define. */
static void note_sample_rate(PS2Mouse *m, uint8_t rate)
{
    m->last_rates[0] = m->last_rates[1];
    m->last_rates[1] = m->last_rates[2];
    m->last_rates[2] = rate;
    const uint8_t *r = m->last_rates;
    if (r[0] == 200 && r[1] == 100 && r[2] == 80 && m->id == 0)
        m->id = 3;
    else if (r[0] == 200 && r[1] == 200 && r[2] == 80 && m->id == 3)
        m->id = 4;
}

static void mouse_command(PS2Mouse *m, uint8_t v)
{
    switch (v) {
    case 0xe6: m->scaling_2to1 = false; mouse_send(m, ACK); break;
    case 0xe7: m->scaling_2to1 = true; mouse_send(m, ACK); break;
    case 0xe8: case 0xf3:           /* resolution, sample rate: a parameter follows */
        m->expecting = v;
        mouse_send(m, ACK);
        break;
    case 0xe9:                      /* status request */
        mouse_send(m, ACK);
        mouse_send(m, (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
                                (m->scaling_2to1 ? 0x10 : 0) | (m->buttons & 1) << 2 |
                                (m->buttons & 2) >> 1 | (m->buttons & 4) >> 1));
        mouse_send(m, m->resolution);
        mouse_send(m, m->rate);
        break;
    case 0xea: m->remote = false; mouse_send(m, ACK); break;
    case 0xf0: m->remote = true; mouse_send(m, ACK); break;
    case 0xeb:                      /* read data */
        mouse_send(m, ACK);
        mouse_packet(m);
        break;
    case 0xec: m->wrap = false; mouse_send(m, ACK); break;
    case 0xee: m->wrap = true; mouse_send(m, ACK); break;
    case 0xf2:                      /* get ID */
        mouse_send(m, ACK);
        mouse_send(m, m->id);
        break;
    case 0xf4: m->reporting = true; mouse_send(m, ACK); break;
    case 0xf5: m->reporting = false; mouse_send(m, ACK); break;
    case 0xf6: mouse_defaults(m); mouse_send(m, ACK); break;
    case 0xff:
        ps2_mouse_reset(m);
        mouse_send(m, ACK);
        mouse_send(m, BAT_OK);
        mouse_send(m, 0x00);
        break;
    default:
        mouse_send(m, RESEND);
        break;
    }
}

void ps2_mouse_write(PS2Mouse *m, uint8_t v)
{
    uint8_t cmd = m->expecting;
    m->expecting = 0;
    if (m->wrap && v != 0xec && v != 0xff) {
        mouse_send(m, v);           /* wrap mode echoes */
    } else if (cmd == 0xe8) {
        m->resolution = v & 3;
        mouse_send(m, ACK);
    } else if (cmd == 0xf3) {
        m->rate = v;
        note_sample_rate(m, v);
        mouse_send(m, ACK);
    } else {
        mouse_command(m, v);
    }
    m->notify(m->opaque);
}

void ps2_mouse_event(PS2Mouse *m, int dx, int dy, int dz, int buttons)
{
    m->dx = clamp(m->dx + dx, -4096, 4096);
    m->dy = clamp(m->dy + dy, -4096, 4096);
    m->dz = m->id ? clamp(m->dz + dz, -4096, 4096) : 0;
    m->buttons = (uint8_t)(buttons & (m->id == 4 ? 0x1f : 7));
    if (!m->reporting || m->remote || queue_room(&m->q) < packet_size(m))
        return;
    mouse_packet(m);
    m->notify(m->opaque);
}
