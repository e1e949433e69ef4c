/* i8042 keyboard controller: command byte, self and interface tests, output
 * port (A20, reset), the output buffer shared by keyboard and mouse.
 * Facts from the IBM PC AT / PS/2 technical references and from what Linux's
 * i8042 driver and SeaBIOS's ps2port.c send. */
#include "hw/i8042.h"

#include <stdio.h>

#include "system/log.h"
#include "system/machine.h"

#define STAT_OBF       0x01
#define STAT_SYS       0x04
#define STAT_CMD       0x08   /* last write went to 0x64 */
#define STAT_UNLOCKED  0x10
#define STAT_AUX_OBF   0x20

#define CTR_KBD_INT    0x01
#define CTR_AUX_INT    0x02
#define CTR_SYS        0x04
#define CTR_KBD_DIS    0x10
#define CTR_AUX_DIS    0x20
#define CTR_XLATE      0x40
/* What a BIOS leaves: translation, keyboard interrupt, system flag, mouse off. */
#define CTR_DEFAULT    (CTR_XLATE | CTR_AUX_DIS | CTR_SYS | CTR_KBD_INT)

#define OUT_RESET      0x01   /* active low: clearing it resets the CPU */
#define OUT_A20        0x02
#define OUT_KBD_OBF    0x10
#define OUT_AUX_OBF    0x20

#define REPLY_AUX      0x100

/* ---- output buffer and interrupts -------------------------------------------- */

static void update_irqs(I8042State *s)
{
    uint8_t ctr = s->ram[0];
    bool kbd = s->obf && !s->out_aux && (ctr & CTR_KBD_INT);
    bool aux = s->obf && s->out_aux && (ctr & CTR_AUX_INT);
    if (kbd != s->irq1_level) {
        s->irq1_level = kbd;
        irq_set_level(s->irq1, kbd);
    }
    if (aux != s->irq12_level) {
        s->irq12_level = aux;
        irq_set_level(s->irq12, aux);
    }
}

/* Move the next byte into an empty output buffer: controller replies first,
 * then the keyboard, then the mouse (each only while its interface is on). */
static void refill(I8042State *s)
{
    if (!s->obf) {
        if (s->nr_replies) {
            uint16_t r = s->replies[0];
            memmove(s->replies, s->replies + 1, --s->nr_replies * sizeof(s->replies[0]));
            s->out = (uint8_t)r;
            s->out_aux = r & REPLY_AUX;
            s->obf = true;
        } else if (!(s->ram[0] & CTR_KBD_DIS) && !ps2_queue_empty(&s->kbd.q)) {
            s->out = ps2_queue_pop(&s->kbd.q);
            s->out_aux = false;
            s->obf = true;
        } else if (!(s->ram[0] & CTR_AUX_DIS) && !ps2_queue_empty(&s->mouse.q)) {
            s->out = ps2_queue_pop(&s->mouse.q);
            s->out_aux = true;
            s->obf = true;
        }
    }
    update_irqs(s);
}

static void device_notify(void *opaque) { refill(opaque); }

static void reply(I8042State *s, uint16_t v)
{
    if (s->nr_replies < ARRAY_SIZE(s->replies))
        s->replies[s->nr_replies++] = v;
    refill(s);
}

/* ---- the output port ------------------------------------------------------------ */

static uint8_t read_outport(I8042State *s)
{
    uint8_t v = (uint8_t)((s->outport & ~(OUT_A20 | OUT_KBD_OBF | OUT_AUX_OBF)) | OUT_RESET);
    if (machine_a20())
        v |= OUT_A20;
    if (s->obf)
        v |= s->out_aux ? OUT_AUX_OBF : OUT_KBD_OBF;
    return v;
}

static void write_outport(I8042State *s, uint8_t v)
{
    s->outport = v;
    machine_set_a20(v & OUT_A20);
    if (!(v & OUT_RESET))
        machine_request_reset();
}

/* ---- commands --------------------------------------------------------------------- */

static void write_command_byte(I8042State *s, uint8_t v)
{
    s->ram[0] = v;
    s->kbd.translated = v & CTR_XLATE;
    refill(s);                      /* an interface may have been enabled */
}

static void controller_command(I8042State *s, uint8_t cmd)
{
    if (cmd >= 0x20 && cmd <= 0x3f) {          /* read controller RAM */
        reply(s, s->ram[cmd & 0x1f]);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7f) || cmd == 0xd1 || cmd == 0xd2 ||
        cmd == 0xd3 || cmd == 0xd4) {           /* a data byte follows on 0x60 */
        s->expecting = cmd;
        return;
    }
    if (cmd >= 0xf0) {                         /* pulse output lines low */
        if (!(cmd & OUT_RESET))
            machine_request_reset();
        return;
    }
    switch (cmd) {
    case 0xa7: write_command_byte(s, s->ram[0] | CTR_AUX_DIS); break;
    case 0xa8: write_command_byte(s, s->ram[0] & ~CTR_AUX_DIS); break;
    case 0xa9: reply(s, 0x00); break;          /* aux interface test: OK */
    case 0xaa:                                 /* self-test */
        s->ram[0] |= CTR_SYS;
        reply(s, 0x55);
        break;
    case 0xab: reply(s, 0x00); break;          /* keyboard interface test: OK */
    case 0xad: write_command_byte(s, s->ram[0] | CTR_KBD_DIS); break;
    case 0xae: write_command_byte(s, s->ram[0] & ~CTR_KBD_DIS); break;
    case 0xc0: reply(s, 0x80); break;          /* input port: keyboard not inhibited */
    case 0xd0: reply(s, read_outport(s)); break;
    case 0xdd: machine_set_a20(false); break;
    case 0xdf: machine_set_a20(true); break;
    case 0xe0: reply(s, 0x00); break;          /* test inputs */
    default:
        LOG_ONCE(LOG_UNIMP, cmd, "i8042: unknown controller command %#x\n", cmd);
        break;
    }
}

static void controller_data(I8042State *s, uint8_t cmd, uint8_t v)
{
    switch (cmd) {
    case 0xd1: write_outport(s, v); break;
    case 0xd2: reply(s, v); break;             /* as if from the keyboard */
    case 0xd3: reply(s, REPLY_AUX | v); break; /* as if from the mouse */
    case 0xd4: ps2_mouse_write(&s->mouse, v); break;
    default:                                   /* 0x60-0x7f: write controller RAM */
        if (cmd == 0x60)
            write_command_byte(s, v);
        else
            s->ram[cmd & 0x1f] = v;
        break;
    }
}

/* ---- ports --------------------------------------------------------------------------- */

static uint8_t read_status(I8042State *s)
{
    uint8_t v = STAT_UNLOCKED;
    if (s->obf)
        v |= STAT_OBF | (s->out_aux ? STAT_AUX_OBF : 0);
    if (s->ram[0] & CTR_SYS)
        v |= STAT_SYS;
    if (s->last_was_command)
        v |= STAT_CMD;
    return v;
}

static uint64_t data_read(void *opaque, uint64_t offset, unsigned size)
{
    I8042State *s = opaque;
    (void)offset;
    (void)size;
    /* Reading empties the buffer (an empty one reads its stale byte again). */
    uint8_t v = s->out;
    s->obf = false;
    refill(s);
    return v;
}

static void data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    I8042State *s = opaque;
    uint8_t v = (uint8_t)value;
    (void)offset;
    (void)size;
    s->last_was_command = false;
    if (s->expecting) {
        uint8_t cmd = s->expecting;
        s->expecting = 0;
        controller_data(s, cmd, v);
        return;
    }
    /* Talking to the keyboard re-enables its interface. */
    s->ram[0] &= ~CTR_KBD_DIS;
    ps2_kbd_write(&s->kbd, v);
}

static uint64_t status_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)offset;
    (void)size;
    return read_status(opaque);
}

static void command_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    I8042State *s = opaque;
    (void)offset;
    (void)size;
    s->last_was_command = true;
    s->expecting = 0;
    controller_command(s, (uint8_t)value);
}

static const MemoryRegionOps data_ops = {
    .read = data_read, .write = data_write, .min_access = 1, .max_access = 1,
};
static const MemoryRegionOps command_ops = {
    .read = status_read, .write = command_write, .min_access = 1, .max_access = 1,
};

/* ---- API -------------------------------------------------------------------------------- */

void kbd_put_keycode(I8042State *s, int keycode, bool down)
{
    ps2_kbd_key(&s->kbd, keycode, down);
}

void kbd_put_mouse_event(I8042State *s, int dx, int dy, int dz, int buttons)
{
    ps2_mouse_event(&s->mouse, dx, dy, dz, buttons);
}

int kbd_sendkey(I8042State *s, const char *combo, char *err, size_t errlen)
{
    int keys[16], n = 0;
    const char *p = combo;
    while (*p) {
        const char *end = strchr(p, '-');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[32];
        if (!len || len >= sizeof(name) || n == (int)ARRAY_SIZE(keys)) {
            snprintf(err, errlen, "sendkey: bad key combination '%s'", combo);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = 0;
        keys[n] = ps2_keycode_from_name(name);
        if (!keys[n]) {
            snprintf(err, errlen, "sendkey: unknown key '%s'", name);
            return -1;
        }
        n++;
        p += len + (end ? 1 : 0);
        if (end && !*p) {
            snprintf(err, errlen, "sendkey: bad key combination '%s'", combo);
            return -1;
        }
    }
    if (!n) {
        snprintf(err, errlen, "sendkey: no key given");
        return -1;
    }
    for (int i = 0; i < n; i++)
        kbd_put_keycode(s, keys[i], true);
    for (int i = n - 1; i >= 0; i--)
        kbd_put_keycode(s, keys[i], false);
    return 0;
}

void i8042_reset(I8042State *s)
{
    memset(s->ram, 0, sizeof(s->ram));
    s->obf = s->out_aux = false;
    s->out = 0;
    s->nr_replies = 0;
    s->expecting = 0;
    s->last_was_command = false;
    s->outport = OUT_RESET | OUT_A20;
    ps2_kbd_reset(&s->kbd);
    ps2_mouse_reset(&s->mouse);
    machine_set_a20(true);
    write_command_byte(s, CTR_DEFAULT);
}

static void i8042_reset_handler(void *opaque) { i8042_reset(opaque); }

I8042State *i8042_create(AddressSpace *io, IrqLine *irq1, IrqLine *irq12)
{
    I8042State *s = xzalloc(sizeof(*s));
    s->irq1 = irq1;
    s->irq12 = irq12;
    ps2_kbd_init(&s->kbd, device_notify, s);
    ps2_mouse_init(&s->mouse, device_notify, s);
    as_add_io(io, "i8042-data", 0x60, 1, &data_ops, s, 0);
    as_add_io(io, "i8042-cmd", 0x64, 1, &command_ops, s, 0);
    i8042_reset(s);
    machine_register_reset(i8042_reset_handler, s);
    return s;
}
