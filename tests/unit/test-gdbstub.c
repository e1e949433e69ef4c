/* The GDB stub's protocol layer, fed packets directly: framing, checksums,
 * acks, registers, memory, breakpoints, run control, queries. */
#include "tests/unit/harness.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/x86/cpu.h"
#include "system/cpus.h"
#include "system/gdbstub.h"
#include "system/util.h"

/* ---- a fake target: two CPUs, 64 KiB of memory at 0 ---- */
static CPUX86State envs[2];
static VCPU vcpus[2];
static uint8_t mem[0x10000];
static int stops, resumes, kills, regs_changed_calls;

static int t_nr_cpus(void *o) { return 2; }
static CPUX86State *t_cpu(void *o, int i) { return &envs[i]; }
static void t_stop(void *o) { stops++; }
static void t_resume(void *o) { resumes++; }
static void t_kill(void *o) { kills++; }
static void t_regs_changed(void *o, int cpu) { regs_changed_calls++; }

static int t_mem_rw(void *o, int cpu, uint64_t addr, uint8_t *buf, size_t len, bool is_write)
{
    if (addr >= sizeof(mem) || len > sizeof(mem) - addr)
        return -1;
    if (is_write)
        memcpy(mem + addr, buf, len);
    else
        memcpy(buf, mem + addr, len);
    return 0;
}

static const GdbTarget target = {
    t_nr_cpus, t_cpu, t_stop, t_resume, t_mem_rw, t_regs_changed, t_kill, NULL,
};

static char outbuf[65536];
static size_t outlen;

static void capture(void *opaque, const uint8_t *buf, int len)
{
    if (outlen + (size_t)len < sizeof(outbuf)) {
        memcpy(outbuf + outlen, buf, (size_t)len);
        outlen += (size_t)len;
        outbuf[outlen] = '\0';
    }
}

static GdbStub *new_stub(void)
{
    memset(envs, 0, sizeof(envs));
    for (int i = 0; i < 2; i++) {
        vcpus[i].index = i;
        envs[i].vcpu = &vcpus[i];
    }
    stops = resumes = kills = regs_changed_calls = 0;
    outlen = 0;
    outbuf[0] = '\0';
    GdbStub *s = gdbstub_new(&target, capture, NULL);
    gdbstub_attached(s);
    return s;
}

/* Send "$body#xx" with a correct checksum. */
static void send_packet(GdbStub *s, const char *body, size_t len)
{
    char *pkt = xmalloc(len + 5);
    pkt[0] = '$';
    memcpy(pkt + 1, body, len);
    snprintf(pkt + 1 + len, 4, "#%02x", gdb_checksum((const uint8_t *)body, len));
    gdbstub_input(s, (const uint8_t *)pkt, (int)len + 4);
    free(pkt);
}

/* Send a packet and return the body of the reply ("" for none), checking the
 * framing and checksum of what came back. */
static const char *ask(GdbStub *s, const char *body)
{
    static char reply[65536];
    outlen = 0;
    outbuf[0] = '\0';
    send_packet(s, body, strlen(body));
    const char *p = outbuf;
    if (*p == '+')
        p++;
    reply[0] = '\0';
    if (*p != '$')
        return p == outbuf + outlen ? "<none>" : "<bad framing>";
    const char *hash = strrchr(p, '#');
    if (!hash || strlen(hash) != 3)
        return "<bad framing>";
    size_t n = (size_t)(hash - p - 1);
    unsigned sum;
    sscanf(hash + 1, "%2x", &sum);
    if (gdb_checksum((const uint8_t *)p + 1, n) != sum)
        return "<bad checksum>";
    memcpy(reply, p + 1, n);
    reply[n] = '\0';
    return reply;
}

TEST(checksum)
{
    CHECK_EQ(gdb_checksum((const uint8_t *)"OK", 2), 0x9a);
    CHECK_EQ(gdb_checksum((const uint8_t *)"", 0), 0);
    CHECK_EQ(gdb_checksum((const uint8_t *)"qSupported", 10), 0x37);
}

TEST(attach_stops_and_reports)
{
    GdbStub *s = new_stub();
    CHECK_EQ(stops, 1);
    CHECK(strcmp(ask(s, "?"), "T05thread:1;") == 0);
    CHECK_EQ(outbuf[0], '+');
    gdbstub_free(s);
}

TEST(bad_checksum_is_nacked_and_retransmit_works)
{
    GdbStub *s = new_stub();
    outlen = 0;
    gdbstub_input(s, (const uint8_t *)"$?#00", 5);
    CHECK(strcmp(outbuf, "-") == 0);
    outlen = 0;
    gdbstub_input(s, (const uint8_t *)"$?#zz", 5);
    CHECK(outbuf[0] == '-');
    /* a good packet, then gdb says it got garbage: the reply is sent again */
    ask(s, "?");
    outlen = 0;
    gdbstub_input(s, (const uint8_t *)"-", 1);
    CHECK(strncmp(outbuf, "$T05thread:1;#", 14) == 0);
    /* noise and acks between packets are ignored */
    outlen = 0;
    gdbstub_input(s, (const uint8_t *)"+++garbage", 10);
    CHECK_EQ(outlen, 0);
    gdbstub_free(s);
}

TEST(oversized_packet_is_nacked)
{
    GdbStub *s = new_stub();
    size_t n = 0x5000;
    char *big = xmalloc(n);
    memset(big, 'm', n);
    outlen = 0;
    send_packet(s, big, n);
    CHECK(strcmp(outbuf, "-") == 0);
    free(big);
    /* and the stub is still fine afterwards */
    CHECK(strcmp(ask(s, "?"), "T05thread:1;") == 0);
    gdbstub_free(s);
}

TEST(q_supported_and_no_ack_mode)
{
    GdbStub *s = new_stub();
    const char *r = ask(s, "qSupported:multiprocess+;swbreak+;xmlRegisters=i386");
    CHECK(strstr(r, "PacketSize=4000") != NULL);
    CHECK(strstr(r, "qXfer:features:read+") != NULL);
    CHECK(strcmp(ask(s, "QStartNoAckMode"), "OK") == 0);
    ask(s, "?");
    CHECK_EQ(outbuf[0], '$');          /* no '+' any more */
    CHECK(strcmp(ask(s, "vMustReplyEmpty"), "") == 0);
    CHECK(strcmp(ask(s, "qTStatus"), "") == 0);
    gdbstub_free(s);
}

TEST(target_xml)
{
    GdbStub *s = new_stub();
    const char *r = ask(s, "qXfer:features:read:target.xml:0,ffff");
    CHECK(r[0] == 'l');
    CHECK(strstr(r, "<architecture>i386:x86-64</architecture>") != NULL);
    CHECK(strstr(r, "org.gnu.gdb.i386.core") != NULL);
    CHECK(strstr(r, "name=\"rip\"") != NULL);
    CHECK(strstr(r, "name=\"xmm15\"") != NULL);
    CHECK(strstr(r, "name=\"gs_base\"") != NULL);
    /* in pieces */
    r = ask(s, "qXfer:features:read:target.xml:0,10");
    CHECK(r[0] == 'm' && strlen(r) == 0x11);
    r = ask(s, "qXfer:features:read:target.xml:100000,10");
    CHECK(strcmp(r, "l") == 0);
    CHECK(strncmp(ask(s, "qXfer:features:read:other.xml:0,10"), "E", 1) == 0);
    gdbstub_free(s);
}

static uint64_t hex64le(const char *h)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        b[i] = (uint8_t)v;
    }
    return ld64(b);
}

TEST(registers)
{
    GdbStub *s = new_stub();
    envs[0].regs[R_EAX] = 0x1122334455667788ULL;
    envs[0].regs[R_EBX] = 0xb;
    envs[0].regs[R_ECX] = 0xc;
    envs[0].regs[R_R15] = 0xf15;
    envs[0].rip = 0xffffffff81000000ULL;
    envs[0].segs[R_CS].selector = 0x10;
    envs[0].segs[R_FS].base = 0x7000;
    char *r = xstrdup(ask(s, "g"));
    /* rax rbx rcx rdx rsi rdi rbp rsp r8..r15 rip eflags cs ... */
    CHECK(strncmp(r, "8877665544332211", 16) == 0);
    CHECK_EQ(hex64le(r + 16), 0xb);           /* rbx second, as gdb numbers */
    CHECK_EQ(hex64le(r + 32), 0xc);
    CHECK_EQ(hex64le(r + 15 * 16), 0xf15);
    CHECK_EQ(hex64le(r + 16 * 16), 0xffffffff81000000ULL);
    CHECK(strncmp(r + 17 * 16 + 8, "10000000", 8) == 0);     /* cs, 32 bits */
    size_t expect = 16 * 8 + 8 + 4 + 6 * 4 + 8 * 10 + 8 * 4 + 16 * 16 + 4 + 2 * 8;
    CHECK_EQ(strlen(r), expect * 2);
    /* single register: rip is number 16, fs_base the last but one */
    CHECK(strcmp(ask(s, "p10"), "00000081ffffffff") == 0);
    CHECK_EQ(hex64le(ask(s, "p39")), 0x7000);
    CHECK(strncmp(ask(s, "p1000"), "E", 1) == 0);
    /* write them back changed */
    char *g = xstrdup(r);
    memcpy(g, "efbeadde00000000", 16);
    char *pkt = xasprintf("G%s", g);
    CHECK(strcmp(ask(s, pkt), "OK") == 0);
    CHECK_EQ(envs[0].regs[R_EAX], 0xdeadbeef);
    CHECK_EQ(envs[0].rip, 0xffffffff81000000ULL);
    CHECK(regs_changed_calls > 0);
    free(pkt);
    free(g);
    free(r);
    CHECK(strcmp(ask(s, "P10=0010000000000000"), "OK") == 0);
    CHECK_EQ(envs[0].rip, 0x1000);
    CHECK(strncmp(ask(s, "P10=00"), "E", 1) == 0);       /* wrong size */
    CHECK(strncmp(ask(s, "Gzz"), "E", 1) == 0);
    /* the other CPU */
    envs[1].regs[R_EAX] = 0x42;
    CHECK(strcmp(ask(s, "Hg2"), "OK") == 0);
    CHECK_EQ(hex64le(ask(s, "g")), 0x42);
    CHECK(strncmp(ask(s, "Hg3"), "E", 1) == 0);
    CHECK(strncmp(ask(s, "Hx1"), "E", 1) == 0);
    gdbstub_free(s);
}

TEST(memory)
{
    GdbStub *s = new_stub();
    memcpy(mem + 0x1000, "\x01\x02\xfe\xff", 4);
    CHECK(strcmp(ask(s, "m1000,4"), "0102feff") == 0);
    CHECK(strcmp(ask(s, "m1000,0"), "") == 0);
    CHECK(strcmp(ask(s, "mffff0,4"), "E14") == 0);
    CHECK(strcmp(ask(s, "M1000,2:abcd"), "OK") == 0);
    CHECK(mem[0x1000] == 0xab && mem[0x1001] == 0xcd);
    CHECK(strncmp(ask(s, "M1000,2:abc"), "E", 1) == 0);      /* short data */
    CHECK(strncmp(ask(s, "M1000,2:abxx"), "E", 1) == 0);     /* not hex */
    CHECK(strcmp(ask(s, "M20000,1:00"), "E14") == 0);
    /* hostile numbers */
    CHECK(strncmp(ask(s, "m"), "E", 1) == 0);
    CHECK(strncmp(ask(s, "m12345678901234567,1"), "E", 1) == 0);
    CHECK(strcmp(ask(s, "m0,ffffffffffffffff"), "E14") == 0 ||
          strlen(ask(s, "m0,ffffffffffffffff")) > 0);
    /* X with binary data: '}' escapes '#' (0x23), '$', '}' and '*' */
    const char xbody[] = "X2000,4:a}\x03}]b";
    outlen = 0;
    send_packet(s, xbody, sizeof(xbody) - 1);
    CHECK(strstr(outbuf, "$OK#") != NULL);
    CHECK(mem[0x2000] == 'a' && mem[0x2001] == '#' && mem[0x2002] == '}' && mem[0x2003] == 'b');
    CHECK(strcmp(ask(s, "X2000,0:"), "OK") == 0);
    gdbstub_free(s);
}

TEST(breakpoints)
{
    GdbStub *s = new_stub();
    CHECK(!gdb_breakpoint_hit(&envs[0], 0x1000));
    CHECK(strcmp(ask(s, "Z0,1000,1"), "OK") == 0);
    CHECK(strcmp(ask(s, "Z0,1000,1"), "OK") == 0);       /* twice: still one */
    CHECK(strcmp(ask(s, "Z1,2000,1"), "OK") == 0);
    CHECK(gdb_breakpoint_hit(&envs[0], 0x1000));
    CHECK(gdb_breakpoint_hit(&envs[1], 0x2000));
    CHECK(!gdb_breakpoint_hit(&envs[0], 0x1001));
    uint64_t list[8];
    CHECK_EQ(gdb_breakpoint_list(list, 8), 2);
    CHECK(strcmp(ask(s, "z0,1000,1"), "OK") == 0);
    CHECK(!gdb_breakpoint_hit(&envs[0], 0x1000));
    CHECK(strcmp(ask(s, "Z2,3000,4"), "") == 0);          /* watchpoints: unsupported */
    CHECK(strncmp(ask(s, "Z0,zz"), "E", 1) == 0);
    /* the list is bounded */
    char pkt[64];
    int ok = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(pkt, sizeof(pkt), "Z0,%x,1", 0x10000 + i);
        ok += strcmp(ask(s, pkt), "OK") == 0;
    }
    CHECK(ok < 100);
    /* detach clears them all and resumes */
    int r0 = resumes;
    CHECK(strcmp(ask(s, "D"), "OK") == 0);
    CHECK_EQ(atomic_load(&gdb_nr_breakpoints), 0);
    CHECK_EQ(resumes, r0 + 1);
    gdbstub_free(s);
}

TEST(continue_step_interrupt)
{
    GdbStub *s = new_stub();
    CHECK(strcmp(ask(s, "c"), "<none>") == 0);            /* no reply while running */
    CHECK_EQ(resumes, 1);
    /* Ctrl-C */
    outlen = 0;
    gdbstub_input(s, (const uint8_t *)"\x03", 1);
    CHECK(strstr(outbuf, "$T02thread:1;#") != NULL);
    CHECK_EQ(stops, 2);
    /* c ADDR sets the PC first */
    ask(s, "c4000");
    CHECK_EQ(envs[0].rip, 0x4000);
    outlen = 0;
    gdbstub_report_stop(s, 1, GDB_SIGTRAP);
    CHECK(strstr(outbuf, "$T05thread:2;#") != NULL);
    /* a stop nobody waits for is not reported */
    outlen = 0;
    gdbstub_report_stop(s, 0, GDB_SIGTRAP);
    CHECK_EQ(outlen, 0);
    /* Ctrl-C while stopped does nothing */
    gdbstub_input(s, (const uint8_t *)"\x03", 1);
    CHECK_EQ(outlen, 0);
    /* step the selected CPU */
    CHECK(strcmp(ask(s, "Hc1"), "OK") == 0);
    ask(s, "s");
    CHECK(gdb_single_stepping(&envs[0]));
    CHECK(!gdb_single_stepping(&envs[1]));
    gdbstub_report_stop(s, 0, GDB_SIGTRAP);
    CHECK(!gdb_single_stepping(&envs[0]));
    /* kill */
    ask(s, "k");
    CHECK_EQ(kills, 1);
    gdbstub_free(s);
}

TEST(swbreak_stop_reason)
{
    GdbStub *s = new_stub();
    CHECK(strstr(ask(s, "qSupported:swbreak+;hwbreak+"), "swbreak+") != NULL);
    ask(s, "Z0,5000,1");
    ask(s, "c");
    envs[0].rip = 0x5000;
    outlen = 0;
    gdbstub_report_stop(s, 0, GDB_SIGTRAP);
    CHECK(strstr(outbuf, "$T05swbreak:;thread:1;#") != NULL);
    /* a step that lands on a breakpoint is a step */
    ask(s, "s");
    outlen = 0;
    gdbstub_report_stop(s, 0, GDB_SIGTRAP);
    CHECK(strstr(outbuf, "$T05thread:1;#") != NULL);
    ask(s, "z0,5000,1");
    /* without swbreak+ from gdb: plain */
    CHECK(strstr(ask(s, "qSupported"), "swbreak") == NULL);
    gdbstub_free(s);
}

TEST(threads_and_queries)
{
    GdbStub *s = new_stub();
    CHECK(strcmp(ask(s, "qfThreadInfo"), "m1,2") == 0);
    CHECK(strcmp(ask(s, "qsThreadInfo"), "l") == 0);
    CHECK(strcmp(ask(s, "qC"), "QC1") == 0);
    CHECK(strcmp(ask(s, "qAttached"), "1") == 0);
    CHECK(strcmp(ask(s, "T2"), "OK") == 0);
    CHECK(strncmp(ask(s, "T9"), "E", 1) == 0);
    const char *r = ask(s, "qThreadExtraInfo,2");
    CHECK(strncmp(r, "435055233120", 12) == 0);           /* "CPU#1 " */
    CHECK(strcmp(ask(s, "qUnknownThing"), "") == 0);
    CHECK(strcmp(ask(s, ""), "") == 0);
    gdbstub_free(s);
}

TEST(monitor_command_through_gdb)
{
    GdbStub *s = new_stub();
    /* "monitor help" */
    const char *hexcmd = "68656c70";
    char pkt[64];
    snprintf(pkt, sizeof(pkt), "qRcmd,%s", hexcmd);
    outlen = 0;
    send_packet(s, pkt, strlen(pkt));
    CHECK(strstr(outbuf, "$O") != NULL);
    CHECK(strstr(outbuf, "$OK#") != NULL);
    gdbstub_free(s);
}

TEST(detach_on_disconnect)
{
    GdbStub *s = new_stub();
    ask(s, "Z0,1234,1");
    gdbstub_detached(s);
    CHECK_EQ(atomic_load(&gdb_nr_breakpoints), 0);
    CHECK_EQ(resumes, 1);
    gdbstub_free(s);
}

TEST(start_errors)
{
    char err[256];
    CHECK_EQ(gdbstub_start("none", err, sizeof(err)), 0);
    CHECK(gdbstub_start("bogus:thing", err, sizeof(err)) < 0);
    CHECK(strstr(err, "bogus") != NULL);
    /* a real listener on an ephemeral loopback port */
    CHECK_EQ(gdbstub_start("tcp:127.0.0.1:0", err, sizeof(err)), 0);
    CHECK(gdbstub_start("tcp:127.0.0.1:0", err, sizeof(err)) < 0);
    CHECK(strstr(err, "already") != NULL);
}
