/* i8042 controller, PS/2 keyboard and mouse, port 0x92, port 0x80: what
 * Linux's i8042/atkbd/psmouse drivers and SeaBIOS rely on. */
#include "tests/unit/harness.h"

#include <string.h>

#include "hw/i8042.h"
#include "hw/ioport80.h"
#include "hw/port92.h"
#include "system/machine.h"

/* Devices of earlier tests stay alive: events carry the generation of the
 * test that created them. */
static intptr_t generation;
static int irq_level[16];

static void record_irq(void *opaque, int n, int level)
{
    if ((intptr_t)opaque != generation)
        return;
    irq_level[n] = level;
}

#define MAX_SETUPS 64
static AddressSpace *io, *spaces[MAX_SETUPS];
static IrqLine irqs[MAX_SETUPS][2];
static I8042State *kbc, *kbcs[MAX_SETUPS];

static uint8_t in(uint16_t port) { return (uint8_t)as_read(io, port, 1); }
static void out(uint16_t port, uint8_t v) { as_write(io, port, v, 1); }

static void setup(void)
{
    generation = (generation + 1) % MAX_SETUPS;
    io = spaces[generation] = address_space_new("io", 0x10000);
    irq_init(&irqs[generation][0], record_irq, (void *)generation, 1);
    irq_init(&irqs[generation][1], record_irq, (void *)generation, 12);
    irq_level[1] = irq_level[12] = 0;
    kbc = kbcs[generation] = i8042_create(io, &irqs[generation][0], &irqs[generation][1]);
}

/* Read one byte the controller offers, or -1 when the buffer is empty. */
static int read_byte(void)
{
    if (!(in(0x64) & 0x01))
        return -1;
    return in(0x60);
}

static void command(uint8_t cmd) { out(0x64, cmd); }

static void command_data(uint8_t cmd, uint8_t data)
{
    out(0x64, cmd);
    out(0x60, data);
}

/* Whether a reset was requested, observed through machine_handle_requests
 * with a no-reboot machine (a reset then means "exit"). */
static bool reset_requested(void)
{
    static MachineConfig cfg = { .no_reboot = true };
    static Machine m = { .cfg = &cfg };
    Machine *saved = current_machine;
    int status = -1;
    current_machine = &m;
    bool exit = machine_handle_requests(&status);
    current_machine = saved;
    return exit && status == 0;
}

TEST(status_after_reset)
{
    setup();
    uint8_t st = in(0x64);
    CHECK_EQ(st & 0x01, 0);
    CHECK_EQ(st & 0x10, 0x10);               /* not inhibited */
    command(0x20);
    CHECK_EQ(in(0x64) & 0x09, 0x09);         /* OBF, last write was a command */
    CHECK_EQ(in(0x60), 0x65);
    CHECK_EQ(in(0x64) & 0x01, 0);
}

/* i8042_controller_selftest() and the interface tests. */
TEST(self_and_interface_tests)
{
    setup();
    command(0xaa);
    CHECK_EQ(read_byte(), 0x55);
    CHECK_EQ(in(0x64) & 0x04, 0x04);         /* system flag */
    command(0xab);
    CHECK_EQ(read_byte(), 0x00);
    command(0xa9);
    CHECK_EQ(read_byte(), 0x00);
    CHECK_EQ(read_byte(), -1);
}

TEST(command_byte_and_ram)
{
    setup();
    command_data(0x60, 0x47);
    command(0x20);
    CHECK_EQ(read_byte(), 0x47);
    command_data(0x65, 0x99);
    command(0x25);
    CHECK_EQ(read_byte(), 0x99);
    command(0xa7);                           /* aux off: CTR bit 5 follows */
    command(0x20);
    CHECK_EQ(read_byte() & 0x20, 0x20);
    command(0xa8);
    command(0x20);
    CHECK_EQ(read_byte() & 0x20, 0x00);
}

TEST(a20_through_output_port)
{
    setup();
    CHECK(machine_a20());
    command_data(0xd1, 0xdd);                /* A20 off */
    CHECK(!machine_a20());
    command(0xd0);
    CHECK_EQ(read_byte() & 0x03, 0x01);
    command_data(0xd1, 0xdf);
    CHECK(machine_a20());
    command(0xd0);
    CHECK_EQ(read_byte() & 0x03, 0x03);
    command(0xdd);
    CHECK(!machine_a20());
    command(0xdf);
    CHECK(machine_a20());
    CHECK(!reset_requested());
}

TEST(reset_by_pulse_and_output_port)
{
    setup();
    reset_requested();                       /* drain */
    command(0xfe);
    CHECK(reset_requested());
    command(0xff);                           /* pulses nothing */
    CHECK(!reset_requested());
    command_data(0xd1, 0x02);                /* reset line low */
    CHECK(reset_requested());
    machine_set_a20(true);
}

TEST(keyboard_reset_and_irq1)
{
    setup();
    out(0x60, 0xff);
    CHECK_EQ(irq_level[1], 1);
    CHECK_EQ(in(0x64) & 0x21, 0x01);         /* keyboard data */
    CHECK_EQ(in(0x60), 0xfa);
    CHECK_EQ(irq_level[1], 1);               /* the BAT code follows at once */
    CHECK_EQ(in(0x60), 0xaa);
    CHECK_EQ(irq_level[1], 0);
    command_data(0x60, 0x44);                /* interrupts off */
    out(0x60, 0xee);
    CHECK_EQ(irq_level[1], 0);
    CHECK_EQ(read_byte(), 0xee);
}

TEST(keyboard_commands)
{
    setup();
    out(0x60, 0xf2);                         /* identify, translated */
    CHECK_EQ(read_byte(), 0xfa);
    CHECK_EQ(read_byte(), 0xab);
    CHECK_EQ(read_byte(), 0x41);
    out(0x60, 0xed);                         /* LEDs */
    CHECK_EQ(read_byte(), 0xfa);
    out(0x60, 0x07);
    CHECK_EQ(read_byte(), 0xfa);
    CHECK_EQ(kbc->kbd.leds, 7);
    out(0x60, 0xf0);                         /* get scancode set */
    CHECK_EQ(read_byte(), 0xfa);
    out(0x60, 0x00);
    CHECK_EQ(read_byte(), 0xfa);
    CHECK_EQ(read_byte(), 0x41);             /* set 2, as translated */
    out(0x60, 0xf3);
    CHECK_EQ(read_byte(), 0xfa);
    out(0x60, 0xf4);                         /* a command instead of the parameter */
    CHECK_EQ(read_byte(), 0xfa);
    out(0x60, 0x12);                         /* unknown */
    CHECK_EQ(read_byte(), 0xfe);
}

TEST(keys_translated_and_raw)
{
    setup();
    kbd_put_keycode(kbc, 0x1e, true);        /* A */
    kbd_put_keycode(kbc, 0x1e, false);
    CHECK_EQ(read_byte(), 0x1e);
    CHECK_EQ(read_byte(), 0x9e);
    kbd_put_keycode(kbc, 0x148, true);       /* Up */
    CHECK_EQ(read_byte(), 0xe0);
    CHECK_EQ(read_byte(), 0x48);
    command_data(0x60, 0x05);                /* translation off: set 2 */
    kbd_put_keycode(kbc, 0x1e, true);
    kbd_put_keycode(kbc, 0x1e, false);
    CHECK_EQ(read_byte(), 0x1c);
    CHECK_EQ(read_byte(), 0xf0);
    CHECK_EQ(read_byte(), 0x1c);
    kbd_put_keycode(kbc, 0x148, false);
    CHECK_EQ(read_byte(), 0xe0);
    CHECK_EQ(read_byte(), 0xf0);
    CHECK_EQ(read_byte(), 0x75);
    out(0x60, 0xf5);                         /* scanning off: keys dropped */
    CHECK_EQ(read_byte(), 0xfa);
    kbd_put_keycode(kbc, 0x1e, true);
    CHECK_EQ(read_byte(), -1);
    kbd_put_keycode(kbc, 0x7f, true);        /* unknown codes are ignored */
    kbd_put_keycode(kbc, -5, true);
}

TEST(hid_usage_mapping)
{
    CHECK_EQ(ps2_keycode_from_hid(0x04), 0x1e);         /* A */
    CHECK_EQ(ps2_keycode_from_hid(0x27), 0x0b);         /* 0 */
    CHECK_EQ(ps2_keycode_from_hid(0x52), 0x148);        /* Up */
    CHECK_EQ(ps2_keycode_from_hid(0x58), 0x11c);        /* keypad Enter */
    CHECK_EQ(ps2_keycode_from_hid(0xe1), 0x2a);         /* left Shift */
    CHECK_EQ(ps2_keycode_from_hid(0xe6), 0x138);        /* right Alt */
    CHECK_EQ(ps2_keycode_from_hid(0x48), 0);            /* Pause: none */
    CHECK_EQ(ps2_keycode_from_hid(0x1000), 0);
    /* Every mapped key has a set-2 code for untranslated guests. */
    setup();
    command_data(0x60, 0x05);
    for (unsigned u = 0; u < 0x100; u++) {
        int k = ps2_keycode_from_hid(u);
        if (!k)
            continue;
        kbd_put_keycode(kbc, k, true);
        int b = read_byte();
        if (b == 0xe0)
            b = read_byte();
        CHECK(b > 0 && b != 0xf0);
        CHECK_EQ(read_byte(), -1);
    }
}

TEST(sendkey)
{
    setup();
    char err[128] = "";
    CHECK_EQ(kbd_sendkey(kbc, "ctrl-alt-delete", err, sizeof(err)), 0);
    static const int expect[] = {
        0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d, -1,
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        CHECK_EQ(read_byte(), expect[i]);
    CHECK_EQ(kbd_sendkey(kbc, "0x1e", err, sizeof(err)), 0);
    CHECK_EQ(read_byte(), 0x1e);
    CHECK_EQ(read_byte(), 0x9e);
    CHECK_EQ(kbd_sendkey(kbc, "ctrl-nosuchkey", err, sizeof(err)), -1);
    CHECK(strstr(err, "nosuchkey") != NULL);
    CHECK_EQ(read_byte(), -1);               /* nothing sent */
    CHECK_EQ(kbd_sendkey(kbc, "ctrl--a", err, sizeof(err)), -1);
    CHECK_EQ(kbd_sendkey(kbc, "a-", err, sizeof(err)), -1);
    CHECK_EQ(kbd_sendkey(kbc, "", err, sizeof(err)), -1);
    CHECK_EQ(kbd_sendkey(kbc, "0x300", err, sizeof(err)), -1);
    CHECK_EQ(read_byte(), -1);
}

TEST(keyboard_disable_holds_data)
{
    setup();
    command(0xad);
    kbd_put_keycode(kbc, 0x10, true);
    CHECK_EQ(read_byte(), -1);
    command(0xae);
    CHECK_EQ(read_byte(), 0x10);
}

/* i8042_check_aux(): the AUX loopback command and IRQ 12. */
TEST(aux_loopback_and_irq12)
{
    setup();
    command_data(0x60, 0x47);                /* both interrupts, aux on */
    command_data(0xd3, 0x5a);
    CHECK_EQ(in(0x64) & 0x21, 0x21);         /* mouse data */
    CHECK_EQ(irq_level[12], 1);
    CHECK_EQ(irq_level[1], 0);
    CHECK_EQ(in(0x60), 0x5a);
    CHECK_EQ(irq_level[12], 0);
    command_data(0xd2, 0x33);                /* keyboard loopback */
    CHECK_EQ(irq_level[1], 1);
    CHECK_EQ(in(0x60), 0x33);
}

TEST(mouse_probe_and_packets)
{
    setup();
    command_data(0x60, 0x47);
    command_data(0xd4, 0xff);
    CHECK_EQ(read_byte(), 0xfa);
    CHECK_EQ(read_byte(), 0xaa);
    CHECK_EQ(read_byte(), 0x00);
    command_data(0xd4, 0xf2);
    CHECK_EQ(read_byte(), 0xfa);
    CHECK_EQ(read_byte(), 0x00);             /* a standard PS/2 mouse */
    command_data(0xd4, 0xf3);
    CHECK_EQ(read_byte(), 0xfa);
    command_data(0xd4, 200);
    CHECK_EQ(read_byte(), 0xfa);
    command_data(0xd4, 0xe9);
    CHECK_EQ(read_byte(), 0xfa);
    CHECK_EQ(read_byte(), 0x00);
    CHECK_EQ(read_byte(), 2);
    CHECK_EQ(read_byte(), 200);
    kbd_put_mouse_event(kbc, 5, -3, 0, 1);      /* not reporting yet */
    CHECK_EQ(read_byte(), -1);
    command_data(0xd4, 0xf4);
    CHECK_EQ(read_byte(), 0xfa);
    kbd_put_mouse_event(kbc, 5, -3, 0, 1);
    CHECK_EQ(irq_level[12], 1);
    CHECK_EQ(read_byte(), 0x29);             /* left, Y negative, bit 3 */
    CHECK_EQ(read_byte(), 5 + 5);            /* includes the earlier motion */
    CHECK_EQ(read_byte(), (uint8_t)-6);
    command_data(0xd4, 0x00);
    CHECK_EQ(read_byte(), 0xfe);
}

static void mouse_cmd(uint8_t v)
{
    command_data(0xd4, v);
    CHECK_EQ(read_byte(), 0xfa);
}

/* psmouse's intellimouse_detect and im_explorer_detect knocks. */
TEST(mouse_wheel_protocols)
{
    setup();
    command_data(0x60, 0x47);
    mouse_cmd(0xf3); mouse_cmd(200);
    mouse_cmd(0xf3); mouse_cmd(100);
    mouse_cmd(0xf3); mouse_cmd(80);
    mouse_cmd(0xf2);
    CHECK_EQ(read_byte(), 3);
    mouse_cmd(0xf4);
    kbd_put_mouse_event(kbc, 1, 1, 2, 0);    /* wheel up: Z negative */
    CHECK_EQ(read_byte(), 0x08);
    CHECK_EQ(read_byte(), 1);
    CHECK_EQ(read_byte(), 1);
    CHECK_EQ(read_byte(), (uint8_t)-2);
    mouse_cmd(0xf3); mouse_cmd(200);
    mouse_cmd(0xf3); mouse_cmd(200);
    mouse_cmd(0xf3); mouse_cmd(80);
    mouse_cmd(0xf2);
    CHECK_EQ(read_byte(), 4);
    kbd_put_mouse_event(kbc, 0, 0, -1, 0x10);
    CHECK_EQ(read_byte(), 0x08);
    CHECK_EQ(read_byte(), 0);
    CHECK_EQ(read_byte(), 0);
    CHECK_EQ(read_byte(), 0x21);             /* button 5, Z +1 */
    mouse_cmd(0xff);
    CHECK_EQ(read_byte(), 0xaa);
    CHECK_EQ(read_byte(), 0x00);             /* reset: a plain mouse again */
}

TEST(port92)
{
    setup();
    static Port92State *p;
    p = port92_create(io);
    REQUIRE(p);
    reset_requested();
    out(0x92, 0x00);
    CHECK(!machine_a20());
    CHECK_EQ(in(0x92), 0x00);
    out(0x92, 0x02);
    CHECK(machine_a20());
    CHECK_EQ(in(0x92), 0x02);
    CHECK(!reset_requested());
    out(0x92, 0x03);                         /* bit 0 rising: reset */
    CHECK(reset_requested());
    out(0x92, 0x03);
    CHECK(!reset_requested());
    CHECK_EQ(in(0x92), 0x03);
}

TEST(ioport80)
{
    setup();
    static IoPort80State *p;
    p = ioport80_create(io);
    out(0x80, 0x42);
    CHECK_EQ(p->last_code, 0x42);
    CHECK_EQ(in(0x80), 0xff);
}

TEST(machine_reset)
{
    setup();
    command_data(0x60, 0x00);
    out(0x60, 0xff);
    command_data(0xd1, 0x01);
    reset_requested();
    i8042_reset(kbc);
    CHECK(machine_a20());
    CHECK_EQ(read_byte(), -1);
    command(0x20);
    CHECK_EQ(read_byte(), 0x65);
}
