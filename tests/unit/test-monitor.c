/* The monitor: line editing over a pipe terminal, the mux with a serial
 * port, and the commands against a small fake machine (RAM, one vCPU that
 * never runs). */
#include "tests/unit/harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/x86/cpu.h"
#include "system/chardev-internal.h"
#include "system/cpus.h"
#include "system/machine.h"
#include "system/mainloop.h"
#include "system/monitor.h"
#include "system/util.h"

typedef struct Term {
    int in_w, out_r, in_r, out_w;
    Chardev *chr;
    Monitor *mon;
    char out[65536];
    int out_len;
} Term;

static void term_open(Term *t)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        abort();
    t->in_r = in[0];
    t->in_w = in[1];
    t->out_r = out[0];
    t->out_w = out[1];
    fcntl(t->out_r, F_SETFL, O_NONBLOCK);
    t->chr = chardev_stdio_new_fds(t->in_r, t->out_w, true);
    t->out_len = 0;
    t->mon = monitor_new(t->chr);
}

static void term_close(Term *t)
{
    chardev_free(t->chr);
    monitor_free(t->mon);
    close(t->in_r);
    close(t->in_w);
    close(t->out_r);
    close(t->out_w);
}

static void term_type(Term *t, const char *s, size_t len)
{
    if (write(t->in_w, s, len) != (ssize_t)len)
        abort();
    for (int i = 0; i < 5; i++)
        main_loop_iterate(5);
}
#define TYPE(t, lit) term_type(t, lit, sizeof(lit) - 1)

/* Output since the last call. */
static const char *term_new_output(Term *t)
{
    ssize_t n;
    t->out_len = 0;
    while ((n = read(t->out_r, t->out + t->out_len, sizeof(t->out) - 1 - (size_t)t->out_len)) > 0)
        t->out_len += (int)n;
    t->out[t->out_len] = '\0';
    return t->out;
}

/* Run a command and return what it printed. */
static const char *run(Term *t, const char *cmd)
{
    term_new_output(t);
    term_type(t, cmd, strlen(cmd));
    TYPE(t, "\r");
    return term_new_output(t);
}

/* ---- a fake machine ---- */
static Machine fake;
static MachineConfig fake_cfg;
static VCPU fake_vcpu;
static CPUX86State fake_env;
static uint8_t fake_ram[64 * 1024];

static void fake_machine(void)
{
    if (current_machine)
        return;
    fake.cfg = &fake_cfg;
    fake.mem = address_space_new("memory", 1ULL << 40);
    fake.io = address_space_new("io", 0x10000);
    fake.ram = fake_ram;
    fake.ram_size = sizeof(fake_ram);
    fake.ram_below_4g = as_add_ram(fake.mem, "ram-below-4g", 0, sizeof(fake_ram), fake_ram, 0);
    fake_vcpu.env = &fake_env;
    fake_vcpu.machine = &fake;
    fake_env.vcpu = &fake_vcpu;
    fake_env.a20_mask = ~0ULL;
    fake_env.hflags = HF_CS32_MASK;
    /* parked, as before cpus_start */
    atomic_store(&fake_vcpu.stop, 1);
    atomic_store(&fake_vcpu.stopped, 1);
    pthread_mutex_init(&fake_vcpu.wait_lock, NULL);
    pthread_cond_init(&fake_vcpu.wait_cond, NULL);
    fake.cpus[0] = &fake_vcpu;
    fake.ncpus = 1;
    current_machine = &fake;
}

TEST(a_banner_and_prompt_without_machine)
{
    Term t;
    term_open(&t);
    main_loop_iterate(5);
    const char *out = term_new_output(&t);
    CHECK(strstr(out, "monitor - type 'help'") != NULL);
    CHECK(strstr(out, "(kestrel) ") != NULL);
    out = run(&t, "info status");
    CHECK(strstr(out, "no machine") != NULL);
    term_close(&t);
}

TEST(help_lists_commands)
{
    Term t;
    term_open(&t);
    const char *out = run(&t, "help");
    static const char *const names[] = { "info", "x ", "xp", "stop", "cont", "system_reset",
                                         "system_powerdown", "quit", "gdbserver" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        CHECK(strstr(out, names[i]) != NULL);
    out = run(&t, "help xp");
    CHECK(strstr(out, "physical") != NULL);
    CHECK(strstr(out, "system_reset") == NULL);
    out = run(&t, "info");
    CHECK(strstr(out, "info registers") != NULL);
    CHECK(strstr(out, "info mtree") != NULL);
    term_close(&t);
}

TEST(unknown_commands_and_bad_arguments)
{
    Term t;
    term_open(&t);
    fake_machine();
    CHECK(strstr(run(&t, "frobnicate 1 2"), "unknown command: 'frobnicate'") != NULL);
    CHECK(strstr(run(&t, "info bogus"), "unknown info subcommand 'bogus'") != NULL);
    CHECK(strstr(run(&t, "xp/4q 0"), "invalid format character 'q'") != NULL);
    CHECK(strstr(run(&t, "xp/0x 0"), "count must be") != NULL);
    CHECK(strstr(run(&t, "xp/4x"), "usage") != NULL);
    CHECK(strstr(run(&t, "xp/4x 0x1zz"), "invalid expression") != NULL);
    CHECK(strstr(run(&t, "print $nosuchreg"), "unknown register") != NULL);
    CHECK(strstr(run(&t, "cpu 7"), "usage") != NULL);
    term_close(&t);
}

TEST(line_editing)
{
    Term t;
    term_open(&t);
    fake_machine();
    /* backspace, then Enter as CR LF counts once */
    term_new_output(&t);
    TYPE(&t, "print 0x1x\x7f" "0\r\n");
    const char *out = term_new_output(&t);
    CHECK(strstr(out, "0x10\n") != NULL);
    CHECK(strstr(out, "invalid") == NULL);
    /* history: up arrow recalls the last line */
    TYPE(&t, "\x1b[A\r");
    CHECK(strstr(term_new_output(&t), "0x10\n") != NULL);
    /* Ctrl-U erases; tab completes a unique prefix */
    TYPE(&t, "garbage\x15" "pri\t" "7\r");
    CHECK(strstr(term_new_output(&t), "0x7\n") != NULL);
    /* cursor keys: left then insert; Home; Delete; Ctrl-K */
    TYPE(&t, "print 0x1\x1b[D2\r");
    CHECK(strstr(term_new_output(&t), "0x21\n") != NULL);
    TYPE(&t, "rint 5\x1b[Hp\r");
    CHECK(strstr(term_new_output(&t), "0x5\n") != NULL);
    TYPE(&t, "print 0x56\x1b[D\x1b[3~\r");
    CHECK(strstr(term_new_output(&t), "0x5\n") != NULL);
    TYPE(&t, "print 0x7zzz\x1b[D\x1b[D\x1b[D\x0b\r");
    CHECK(strstr(term_new_output(&t), "0x7\n") != NULL);
    TYPE(&t, "prin 9\x1bOH\x1b[C\x1b[C\x1b[C\x1b[Ct\x05\r");
    CHECK(strstr(term_new_output(&t), "0x9\n") != NULL);
    /* backspace in the middle */
    TYPE(&t, "printx 3\x1b[D\x1b[D\x7f\r");
    CHECK(strstr(term_new_output(&t), "0x3\n") != NULL);
    /* hostile: huge escape parameters, stray escapes */
    TYPE(&t, "\x1b[99999999999~\x1b[;;;Z\x1bx" "print 1\r");
    CHECK(strstr(term_new_output(&t), "0x1\n") != NULL);
    /* an over-long line is cut, not overflowed */
    char longline[2000];
    memset(longline, 'a', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    CHECK(strstr(run(&t, longline), "unknown command") != NULL);
    term_close(&t);
}

TEST(memory_dumps)
{
    Term t;
    term_open(&t);
    fake_machine();
    static const uint8_t bytes[] = { 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde };
    memcpy(fake_ram + 0x1000, bytes, sizeof(bytes));
    const char *out = run(&t, "xp/2xw 0x1000");
    CHECK(strstr(out, "0000000000001000: 0x12345678 0xdeadbeef") != NULL);
    out = run(&t, "xp/xg 0x1000");
    CHECK(strstr(out, "0xdeadbeef12345678") != NULL);
    out = run(&t, "xp/4xb 0x1000");
    CHECK(strstr(out, "0x78 0x56 0x34 0x12") != NULL);
    out = run(&t, "xp/2dh 0x1004");
    CHECK(strstr(out, "-16657 -8531") != NULL);
    memcpy(fake_ram + 0x1100, "Hi!", 3);
    out = run(&t, "xp/3c 0x1100");
    CHECK(strstr(out, "'H' 'i' '!'") != NULL);
    /* x: virtual = physical while paging is off */
    out = run(&t, "x/2xw 0x1000");
    CHECK(strstr(out, "0x12345678 0xdeadbeef") != NULL);
    /* disassembly in the CPU's mode (32-bit here) */
    static const uint8_t code[] = { 0x90, 0x89, 0xd8, 0xc3 };
    memcpy(fake_ram + 0x2000, code, sizeof(code));
    out = run(&t, "x/3i 0x2000");
    CHECK(strstr(out, "nop") != NULL);
    CHECK(strstr(out, "mov eax, ebx") != NULL);
    CHECK(strstr(out, "ret") != NULL);
    /* register expressions */
    fake_env.regs[R_EBX] = 0x2000;
    fake_env.rip = 0x1;
    out = run(&t, "x/1i $rbx+$rip");
    CHECK(strstr(out, "0x0000000000002001:") != NULL);
    CHECK(strstr(run(&t, "print $rbx - 0x10"), "0x1ff0") != NULL);
    /* past the end of RAM reads as all ones, never crashes */
    out = run(&t, "xp/1xw 0xffffffff0");
    CHECK(strstr(out, "0xffffffff") != NULL);
    term_close(&t);
}

static void put32(uint64_t addr, uint32_t v) { st32(fake_ram + addr, v); }
static void put64(uint64_t addr, uint64_t v) { st64(fake_ram + addr, v); }

TEST(info_tlb_and_mem)
{
    Term t;
    term_open(&t);
    fake_machine();
    memset(fake_ram + 0x4000, 0, 0x4000);
    CHECK(strstr(run(&t, "info tlb"), "PG disabled") != NULL);

    /* 32-bit paging with a 4 MiB page */
    fake_env.cr[0] = 0x80000011;
    fake_env.cr[3] = 0x4000;
    fake_env.cr[4] = 1 << 4;                       /* PSE */
    put32(0x4000, 0x5000 | 0x7);                   /* PDE 0: table, user, writable */
    put32(0x5000 + 1 * 4, 0x8000 | 0x3);           /* 0x1000 -> 0x8000 supervisor rw */
    put32(0x5000 + 2 * 4, 0x9000 | 0x5 | 0x20);    /* 0x2000 -> 0x9000 user ro, accessed */
    put32(0x4000 + 1 * 4, 0x00c00000 | 0x83);      /* 4M page at 0x400000 */
    const char *out = run(&t, "info tlb");
    CHECK(strstr(out, "0000000000001000: 0000000000008000 4K xws") != NULL);
    CHECK(strstr(out, "0000000000002000: 0000000000009000 4K x-u -A-") != NULL);
    CHECK(strstr(out, "0000000000400000: 0000000000c00000 4M xws") != NULL);
    out = run(&t, "info mem");
    CHECK(strstr(out, "0000000000001000-0000000000002000 0000000000001000 -rwx") != NULL);
    CHECK(strstr(out, "0000000000400000-0000000000800000 0000000000400000 -rwx") != NULL);
    /* x goes through the same tables (cpu/x86 debug walk) */
    memcpy(fake_ram + 0x8010, "\xaa\xbb", 2);
    out = run(&t, "x/2xb 0x1010");
    CHECK(strstr(out, "0xaa 0xbb") != NULL || strstr(out, "cannot access") != NULL);

    /* 4-level paging: NX, a 2 MiB page, an upper-half mapping */
    memset(fake_ram + 0x4000, 0, 0x4000);
    fake_env.cr[4] = 1 << 5;                       /* PAE */
    fake_env.efer = (1 << 8) | (1 << 10) | (1 << 11);  /* LME LMA NXE */
    put64(0x4000, 0x5000 | 0x7);
    put64(0x4000 + 511 * 8, 0x5000 | 0x3);         /* kernel half: supervisor */
    put64(0x5000, 0x6000 | 0x7);
    put64(0x6000, 0x7000 | 0x7);
    put64(0x6000 + 8, 0x200000 | 0x80 | 0x7);      /* PD 1: 2M page */
    put64(0x7000 + 3 * 8, 0x3000 | 0x7 | (1ULL << 63));
    out = run(&t, "info tlb");
    CHECK(strstr(out, "0000000000003000: 0000000000003000 4K -wu") != NULL);
    CHECK(strstr(out, "0000000000200000: 0000000000200000 2M xwu") != NULL);
    CHECK(strstr(out, "ffffff8000003000: 0000000000003000 4K -ws") != NULL);

    /* a hostile table that maps onto itself everywhere: bounded */
    for (int i = 0; i < 512; i++)
        put64(0x4000 + (uint64_t)i * 8, 0x4000 | 0x3);
    out = run(&t, "info mem");
    CHECK(strstr(out, "stopped") != NULL);
    fake_env.cr[0] = 0x11;
    fake_env.cr[4] = 0;
    fake_env.efer = 0;
    term_close(&t);
}

TEST(memsave)
{
    Term t;
    term_open(&t);
    fake_machine();
    memcpy(fake_ram + 0x3000, "kestrel!", 8);
    char cmd[600], path[512];
    snprintf(path, sizeof(path), "%s/mem.bin", test_tmpdir());
    snprintf(cmd, sizeof(cmd), "pmemsave 0x3000 8 %s", path);
    run(&t, cmd);
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    char buf[16] = "";
    CHECK_EQ(fread(buf, 1, sizeof(buf), f), 8);
    fclose(f);
    CHECK(memcmp(buf, "kestrel!", 8) == 0);
    term_close(&t);
}

TEST(info_commands)
{
    Term t;
    term_open(&t);
    fake_machine();
    CHECK(strstr(run(&t, "info status"), "VM status: paused") != NULL);
    const char *out = run(&t, "info mtree");
    CHECK(strstr(out, "address-space: memory") != NULL);
    CHECK(strstr(out, "ram-below-4g") != NULL);
    CHECK(strstr(out, "0000000000000000-000000000000ffff") != NULL);
    out = run(&t, "info chardev");
    CHECK(strstr(out, "stdio") != NULL);
    out = run(&t, "info qtree");
    CHECK(strstr(out, "1 vCPU") != NULL);
    out = run(&t, "info cpus");
    CHECK(strstr(out, "CPU #0") != NULL);
    out = run(&t, "info registers");
    CHECK(out[0] != '\0');
    CHECK(strstr(run(&t, "info version"), KESTREL_VERSION) != NULL);
    /* options after the subcommand are accepted (QEMU's "info registers -a") */
    CHECK(strstr(run(&t, "info registers -a"), "unknown") == NULL);
    CHECK(strstr(run(&t, "info mtree -f"), "address-space: memory") != NULL);
    CHECK(strstr(run(&t, "info history"), "'info mtree -f'") != NULL);
    CHECK(strstr(run(&t, "info kvm"), "kvm support: disabled") != NULL);
    CHECK(strstr(run(&t, "p/d 0x10 - 0x11"), "-1\n") != NULL);
    CHECK(strstr(run(&t, "print /u 0x10"), "16\n") != NULL);
    CHECK(strstr(run(&t, "p/c 0x41"), "'A'") != NULL);
    run(&t, "nmi");
    term_close(&t);
}

static void info_fake(Monitor *mon, FILE *out)
{
    fprintf(out, "fake device state\n");
}

TEST(registered_info)
{
    Term t;
    term_open(&t);
    monitor_register_info("fakedev", "a fake device", info_fake);
    CHECK(strstr(run(&t, "info fakedev"), "fake device state") != NULL);
    CHECK(strstr(run(&t, "info"), "a fake device") != NULL);
    term_close(&t);
}

static void cmd_echo_args(Monitor *mon, FILE *out, const char *args)
{
    fprintf(out, "args=[%s]\n", args);
}

TEST(registered_command)
{
    Term t;
    term_open(&t);
    monitor_register_command("savevm_fake", "tag", "save a fake snapshot", cmd_echo_args);
    CHECK(strstr(run(&t, "savevm_fake  mytag  "), "args=[mytag]") != NULL);
    CHECK(strstr(run(&t, "help"), "save a fake snapshot") != NULL);
    /* completion knows it too */
    term_new_output(&t);
    TYPE(&t, "savevm_f\tx\r");
    CHECK(strstr(term_new_output(&t), "args=[x]") != NULL);
    term_close(&t);
}

static int powerdowns;
static void count_powerdown(void *opaque)
{
    powerdowns++;
}

TEST(stop_cont_powerdown)
{
    Term t;
    term_open(&t);
    fake_machine();
    run(&t, "cont");
    CHECK(strstr(run(&t, "info status"), "VM status: running") != NULL);
    run(&t, "stop");
    CHECK(strstr(run(&t, "info status"), "VM status: paused") != NULL);
    monitor_set_powerdown_handler(count_powerdown, NULL);
    run(&t, "system_powerdown");
    CHECK_EQ(powerdowns, 1);
    term_close(&t);
}

static char serial_in[64];
static int serial_len;

static int serial_can_receive(void *opaque)
{
    return (int)sizeof(serial_in) - serial_len;
}

static void serial_receive(void *opaque, const uint8_t *buf, int len)
{
    memcpy(serial_in + serial_len, buf, (size_t)len);
    serial_len += len;
}

TEST(mux_with_serial)
{
    /* mon:stdio: the serial port attached after the monitor has the focus;
     * Ctrl-A c brings the monitor with its banner. */
    Term t = { 0 };
    int in[2], out[2];
    REQUIRE(pipe(in) == 0 && pipe(out) == 0);
    t.in_r = in[0];
    t.in_w = in[1];
    t.out_r = out[0];
    t.out_w = out[1];
    fcntl(t.out_r, F_SETFL, O_NONBLOCK);
    t.chr = chardev_stdio_new_fds(t.in_r, t.out_w, true);
    monitor_new_mux(t.chr);
    CHECK(strstr(term_new_output(&t), "(kestrel)") == NULL);
    ChardevFrontend fe = { serial_can_receive, serial_receive, NULL, NULL };
    chardev_attach(t.chr, &fe);
    TYPE(&t, "ls\r");
    CHECK(serial_len == 3 && memcmp(serial_in, "ls\r", 3) == 0);
    CHECK(strstr(term_new_output(&t), "(kestrel)") == NULL);
    TYPE(&t, "\x01" "c");
    const char *o = term_new_output(&t);
    CHECK(strstr(o, "monitor - type 'help'") != NULL);
    CHECK(strstr(o, "(kestrel) ") != NULL);
    TYPE(&t, "help\r");
    CHECK(strstr(term_new_output(&t), "system_reset") != NULL);
    CHECK_EQ(serial_len, 3);
    TYPE(&t, "\x01" "cback");
    CHECK_EQ(serial_len, 7);
    term_close(&t);
}

TEST(mon_prefix_on_a_socket_is_a_mux)
{
    char err[256];
    Chardev *chr = chardev_new("mon:tcp:127.0.0.1:0,server,nowait", err, sizeof(err));
    REQUIRE(chr);
    CHECK(chr->escapes);
    CHECK(chr->want_monitor);
    CHECK_EQ(chr->nr_fe, 1);
    chardev_free(chr);
}

/* Must stay last: quitting is sticky for the process. */
TEST(z_quit)
{
    Term t;
    term_open(&t);
    CHECK(!main_loop_should_quit());
    run(&t, "q");
    CHECK(main_loop_should_quit());
    term_close(&t);
}
