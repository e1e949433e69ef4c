/* The GDB stub's protocol layer: packet framing and the packets themselves
 * (system/gdbstub.h lists what is supported). The breakpoint list and the
 * glue to the machine and a chardev are in system/gdbstub-machine.c. */
#include "system/gdbstub.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/x86/cpu.h"
#include "system/gdbstub-internal.h"
#include "system/monitor-internal.h"
#include "system/util.h"

enum RxState { RX_IDLE, RX_DATA, RX_CSUM1, RX_CSUM2 };

struct GdbStub {
    GdbTarget target;
    GdbOutputFn out;
    void *out_opaque;

    enum RxState rx_state;
    uint8_t rx[GDB_PACKET_SIZE + 1];
    size_t rx_len;
    bool rx_overflow;
    uint8_t rx_sum, rx_csum;

    bool no_ack;
    uint8_t *last;                /* last packet sent, for a '-' */
    size_t last_len;

    bool running;                 /* gdb waits for a stop reply */
    bool stepping;                /* ... after an 's' */
    bool swbreak;                 /* gdb understands "swbreak" stop reasons */
    bool vm_stopped;              /* we stopped the VM */
    int last_signal;
    int g_cpu, c_cpu;             /* selected threads, 0-based */
    Monitor mon;                  /* for qRcmd */
};

/* ---- output ---------------------------------------------------------------------------------- */

uint8_t gdb_checksum(const uint8_t *buf, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + buf[i]);
    return sum;
}

static const char hexdig[] = "0123456789abcdef";

/* Frame and send a packet; $ # } * in the body are escaped. */
static void gdb_send_bin(GdbStub *s, const uint8_t *body, size_t len)
{
    uint8_t *pkt = xmalloc(len * 2 + 4);
    size_t n = 0;
    pkt[n++] = '$';
    for (size_t i = 0; i < len; i++) {
        uint8_t c = body[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            pkt[n++] = '}';
            c ^= 0x20;
        }
        pkt[n++] = c;
    }
    uint8_t sum = gdb_checksum(pkt + 1, n - 1);
    pkt[n++] = '#';
    pkt[n++] = (uint8_t)hexdig[sum >> 4];
    pkt[n++] = (uint8_t)hexdig[sum & 15];
    s->out(s->out_opaque, pkt, (int)n);
    free(s->last);
    s->last = pkt;
    s->last_len = n;
}

static void gdb_send(GdbStub *s, const char *body)
{
    gdb_send_bin(s, (const uint8_t *)body, strlen(body));
}

static void gdb_sendf(GdbStub *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gdb_sendf(GdbStub *s, const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&body, fmt, ap);
    va_end(ap);
    if (n >= 0)
        gdb_send(s, body);
    free(body);
}

static char *to_hex(const uint8_t *buf, size_t len)
{
    char *h = xmalloc(len * 2 + 1);
    for (size_t i = 0; i < len; i++) {
        h[2 * i] = hexdig[buf[i] >> 4];
        h[2 * i + 1] = hexdig[buf[i] & 15];
    }
    h[len * 2] = '\0';
    return h;
}

static void gdb_send_hex(GdbStub *s, const char *prefix, const uint8_t *buf, size_t len)
{
    char *h = to_hex(buf, len);
    gdb_sendf(s, "%s%s", prefix, h);
    free(h);
}

static void gdb_send_stop(GdbStub *s, int cpu, int signal)
{
    s->last_signal = signal;
    gdb_sendf(s, "T%02xthread:%x;", signal, cpu + 1);
}

/* ---- parsing helpers --------------------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse hex digits at *p; false when there are none or too many. */
static bool parse_hex(const char **p, uint64_t *v)
{
    uint64_t x = 0;
    int n = 0;
    while (hexval(**p) >= 0) {
        if (++n > 16)
            return false;
        x = (x << 4) | (uint64_t)hexval(**p);
        (*p)++;
    }
    *v = x;
    return n > 0;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* Decode exactly len bytes of hex; false on junk or short input. */
static bool from_hex(const char *h, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(h[2 * i]), lo = hi < 0 ? -1 : hexval(h[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static int nr_cpus(GdbStub *s)
{
    return s->target.nr_cpus(s->target.opaque);
}

static CPUX86State *cpu_env(GdbStub *s, int idx)
{
    if (idx < 0 || idx >= nr_cpus(s))
        idx = 0;
    return nr_cpus(s) > 0 ? s->target.cpu(s->target.opaque, idx) : NULL;
}

/* Thread ids are vCPU index + 1; 0 ("any") and -1 ("all") pick the first. */
static bool parse_thread(GdbStub *s, const char *p, int *cpu)
{
    if (strcmp(p, "-1") == 0 || strcmp(p, "0") == 0) {
        *cpu = 0;
        return true;
    }
    uint64_t t;
    if (!parse_hex(&p, &t) || *p || t == 0 || t > (uint64_t)nr_cpus(s))
        return false;
    *cpu = (int)t - 1;
    return true;
}

/* ---- packets ------------------------------------------------------------------------------------- */

typedef struct Packet {
    const char *data;     /* NUL-terminated (binary X data may hold NULs too) */
    size_t len;
} Packet;

static void vm_stop(GdbStub *s)
{
    if (!s->vm_stopped) {
        s->target.stop(s->target.opaque);
        s->vm_stopped = true;
    }
}

static void vm_resume(GdbStub *s)
{
    if (s->vm_stopped) {
        s->vm_stopped = false;
        s->target.resume(s->target.opaque);
    }
}

static void pkt_stop_reason(GdbStub *s, const Packet *p)
{
    gdb_send_stop(s, s->g_cpu, s->last_signal);
}

static void pkt_read_regs(GdbStub *s, const Packet *p)
{
    CPUX86State *env = cpu_env(s, s->g_cpu);
    if (!env) {
        gdb_send(s, "E01");
        return;
    }
    size_t total = 0;
    for (int i = 0; i < gdb_reg_count(); i++)
        total += gdb_reg_size(i);
    uint8_t *buf = xmalloc(total);
    size_t off = 0;
    for (int i = 0; i < gdb_reg_count(); i++) {
        gdb_reg_read(env, i, buf + off);
        off += gdb_reg_size(i);
    }
    gdb_send_hex(s, "", buf, total);
    free(buf);
}

static void pkt_write_regs(GdbStub *s, const Packet *p)
{
    CPUX86State *env = cpu_env(s, s->g_cpu);
    const char *h = p->data + 1;
    size_t avail = strlen(h) / 2;
    if (!env || strlen(h) % 2 || strspn(h, "0123456789abcdefABCDEF") != strlen(h)) {
        gdb_send(s, "E01");
        return;
    }
    /* A shorter packet sets the leading registers only. */
    for (int i = 0; i < gdb_reg_count(); i++) {
        uint8_t val[GDB_REG_MAX_BYTES];
        size_t size = gdb_reg_size(i);
        if (size > avail)
            break;
        if (!from_hex(h, val, size)) {
            gdb_send(s, "E01");
            return;
        }
        gdb_reg_write(env, i, val);
        h += size * 2;
        avail -= size;
    }
    if (s->target.regs_changed)
        s->target.regs_changed(s->target.opaque, s->g_cpu);
    gdb_send(s, "OK");
}

static void pkt_read_reg(GdbStub *s, const Packet *p)
{
    const char *q = p->data + 1;
    uint64_t n;
    CPUX86State *env = cpu_env(s, s->g_cpu);
    if (!parse_hex(&q, &n) || *q || n >= (uint64_t)gdb_reg_count() || !env) {
        gdb_send(s, "E01");
        return;
    }
    uint8_t val[GDB_REG_MAX_BYTES];
    gdb_reg_read(env, (int)n, val);
    gdb_send_hex(s, "", val, gdb_reg_size((int)n));
}

static void pkt_write_reg(GdbStub *s, const Packet *p)
{
    const char *q = p->data + 1;
    uint64_t n;
    uint8_t val[GDB_REG_MAX_BYTES];
    CPUX86State *env = cpu_env(s, s->g_cpu);
    if (!parse_hex(&q, &n) || !expect(&q, '=') || n >= (uint64_t)gdb_reg_count() || !env ||
        strlen(q) != gdb_reg_size((int)n) * 2 || !from_hex(q, val, gdb_reg_size((int)n))) {
        gdb_send(s, "E01");
        return;
    }
    gdb_reg_write(env, (int)n, val);
    if (s->target.regs_changed)
        s->target.regs_changed(s->target.opaque, s->g_cpu);
    gdb_send(s, "OK");
}

/* "ADDR,LEN" then the given terminator. */
static bool parse_addr_len(const char **q, uint64_t *addr, uint64_t *len)
{
    return parse_hex(q, addr) && expect(q, ',') && parse_hex(q, len);
}

static void pkt_read_mem(GdbStub *s, const Packet *p)
{
    const char *q = p->data + 1;
    uint64_t addr, len;
    if (!parse_addr_len(&q, &addr, &len) || *q) {
        gdb_send(s, "E01");
        return;
    }
    len = MIN(len, (uint64_t)GDB_PACKET_SIZE / 2);
    uint8_t *buf = xmalloc(len ? len : 1);
    if (s->target.mem_rw(s->target.opaque, s->g_cpu, addr, buf, len, false) < 0)
        gdb_send(s, "E14");
    else
        gdb_send_hex(s, "", buf, len);
    free(buf);
}

static void mem_write_reply(GdbStub *s, uint64_t addr, uint8_t *buf, uint64_t len)
{
    if (len && s->target.mem_rw(s->target.opaque, s->g_cpu, addr, buf, len, true) < 0)
        gdb_send(s, "E14");
    else
        gdb_send(s, "OK");
}

static void pkt_write_mem(GdbStub *s, const Packet *p)
{
    const char *q = p->data + 1;
    uint64_t addr, len;
    if (!parse_addr_len(&q, &addr, &len) || !expect(&q, ':') || len > GDB_PACKET_SIZE ||
        strlen(q) != len * 2) {
        gdb_send(s, "E01");
        return;
    }
    uint8_t *buf = xmalloc(len ? len : 1);
    if (from_hex(q, buf, len))
        mem_write_reply(s, addr, buf, len);
    else
        gdb_send(s, "E01");
    free(buf);
}

/* X: binary data with '}' escapes. */
static void pkt_write_mem_bin(GdbStub *s, const Packet *p)
{
    const char *q = p->data + 1;
    uint64_t addr, len;
    if (!parse_addr_len(&q, &addr, &len) || !expect(&q, ':') || len > GDB_PACKET_SIZE) {
        gdb_send(s, "E01");
        return;
    }
    const uint8_t *in = (const uint8_t *)q, *end = (const uint8_t *)p->data + p->len;
    uint8_t *buf = xmalloc(len ? len : 1);
    uint64_t n = 0;
    while (in < end && n < len) {
        uint8_t c = *in++;
        if (c == '}' && in < end)
            c = *in++ ^ 0x20;
        buf[n++] = c;
    }
    if (n != len || in != end)
        gdb_send(s, "E01");
    else
        mem_write_reply(s, addr, buf, len);
    free(buf);
}

/* c [ADDR] and s [ADDR]: no reply until the VM stops again. */
static void resume_at(GdbStub *s, const Packet *p, bool step)
{
    const char *q = p->data + 1;
    uint64_t addr;
    if (*q) {
        CPUX86State *env = cpu_env(s, s->c_cpu);
        if (!parse_hex(&q, &addr) || *q || !env) {
            gdb_send(s, "E01");
            return;
        }
        env->rip = addr;
        if (s->target.regs_changed)
            s->target.regs_changed(s->target.opaque, s->c_cpu);
    }
    gdb_set_step_cpu(step ? s->c_cpu : -1);
    s->running = true;
    s->stepping = step;
    vm_resume(s);
}

static void pkt_continue(GdbStub *s, const Packet *p)
{
    resume_at(s, p, false);
}

static void pkt_step(GdbStub *s, const Packet *p)
{
    resume_at(s, p, true);
}

static void pkt_set_thread(GdbStub *s, const Packet *p)
{
    int cpu;
    if (p->len < 2 || !parse_thread(s, p->data + 2, &cpu)) {
        gdb_send(s, "E22");
        return;
    }
    if (p->data[1] == 'g')
        s->g_cpu = cpu;
    else if (p->data[1] == 'c')
        s->c_cpu = cpu;
    else {
        gdb_send(s, "E22");
        return;
    }
    gdb_send(s, "OK");
}

static void pkt_thread_alive(GdbStub *s, const Packet *p)
{
    int cpu;
    gdb_send(s, parse_thread(s, p->data + 1, &cpu) ? "OK" : "E22");
}

/* Z0/z0 software, Z1/z1 hardware breakpoints (the same list); watchpoints
 * are not supported (empty reply). */
static void pkt_breakpoint(GdbStub *s, const Packet *p)
{
    bool insert = p->data[0] == 'Z';
    const char *q = p->data + 1;
    uint64_t type, addr, kind;
    if (!parse_hex(&q, &type) || !expect(&q, ',') || !parse_hex(&q, &addr) ||
        !expect(&q, ',') || !parse_hex(&q, &kind)) {
        gdb_send(s, "E01");
        return;
    }
    if (type > 1) {
        gdb_send(s, "");
        return;
    }
    if (!insert)
        gdb_breakpoint_remove(addr);
    else if (!gdb_breakpoint_insert(addr)) {
        gdb_send(s, "E28");   /* ENOSPC */
        return;
    }
    gdb_send(s, "OK");
}

static void pkt_detach(GdbStub *s, const Packet *p)
{
    gdb_breakpoints_clear();
    gdb_set_step_cpu(-1);
    gdb_send(s, "OK");
    s->running = false;
    vm_resume(s);
}

static void pkt_kill(GdbStub *s, const Packet *p)
{
    gdb_breakpoints_clear();
    if (s->target.kill)
        s->target.kill(s->target.opaque);
}

/* ---- q / Q / v packets -------------------------------------------------------------------------- */

static void q_supported(GdbStub *s, const char *args)
{
    s->swbreak = strstr(args, "swbreak+") != NULL;
    gdb_sendf(s, "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+%s", GDB_PACKET_SIZE,
              s->swbreak ? ";swbreak+" : "");
}

static void q_xfer_features(GdbStub *s, const char *args)
{
    /* args: "target.xml:OFFSET,LENGTH" */
    const char *xml = gdb_target_xml();
    const char *q = strchr(args, ':');
    uint64_t off, len;
    if (strncmp(args, "target.xml:", 11) != 0) {
        gdb_send(s, "E00");
        return;
    }
    q = args + 11;
    if (!parse_addr_len(&q, &off, &len) || *q) {
        gdb_send(s, "E01");
        return;
    }
    size_t total = strlen(xml);
    if (off >= total) {
        gdb_send(s, "l");
        return;
    }
    len = MIN(len, (uint64_t)GDB_PACKET_SIZE - 8);
    size_t n = (size_t)MIN(len, total - off);
    uint8_t *body = xmalloc(n + 1);
    body[0] = off + n < total ? 'm' : 'l';
    memcpy(body + 1, xml + off, n);
    gdb_send_bin(s, body, n + 1);
    free(body);
}

static void q_thread_first(GdbStub *s, const char *args)
{
    if (nr_cpus(s) <= 0) {
        gdb_send(s, "l");
        return;
    }
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    fputc('m', f);
    for (int i = 0; i < nr_cpus(s); i++)
        fprintf(f, "%s%x", i ? "," : "", i + 1);
    fclose(f);
    gdb_send(s, buf);
    free(buf);
}

static void q_thread_next(GdbStub *s, const char *args)
{
    gdb_send(s, "l");
}

static void q_current_thread(GdbStub *s, const char *args)
{
    gdb_sendf(s, "QC%x", s->g_cpu + 1);
}

static void q_attached(GdbStub *s, const char *args)
{
    gdb_send(s, "1");
}

static void q_symbol(GdbStub *s, const char *args)
{
    gdb_send(s, "OK");
}

static void q_thread_extra(GdbStub *s, const char *args)
{
    int cpu;
    if (!parse_thread(s, args, &cpu)) {
        gdb_send(s, "E22");
        return;
    }
    CPUX86State *env = cpu_env(s, cpu);
    char text[64];
    snprintf(text, sizeof(text), "CPU#%d [%s]", cpu, env && env->halted ? "halted" : "running");
    gdb_send_hex(s, "", (const uint8_t *)text, strlen(text));
}

/* "monitor CMD" in gdb: run a monitor command, send its output as O packets. */
static void q_rcmd(GdbStub *s, const char *args)
{
    size_t n = strlen(args) / 2;
    char *cmd = xzalloc(n + 1);
    if (!from_hex(args, (uint8_t *)cmd, n)) {
        free(cmd);
        gdb_send(s, "E01");
        return;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    monitor_run_command(&s->mon, out, cmd);
    fclose(out);
    for (size_t off = 0; off < size; off += 1000)
        gdb_send_hex(s, "O", (const uint8_t *)text + off, MIN(size - off, (size_t)1000));
    gdb_send(s, "OK");
    free(text);
    free(cmd);
}

static void q_start_no_ack(GdbStub *s, const char *args)
{
    gdb_send(s, "OK");
    s->no_ack = true;
}

typedef struct QueryHandler {
    const char *prefix;      /* the packet starts with it; args follow */
    void (*fn)(GdbStub *s, const char *args);
} QueryHandler;

static const QueryHandler query_handlers[] = {
    { "qSupported", q_supported },
    { "qXfer:features:read:", q_xfer_features },
    { "qfThreadInfo", q_thread_first },
    { "qsThreadInfo", q_thread_next },
    { "qThreadExtraInfo,", q_thread_extra },
    { "qC", q_current_thread },
    { "qAttached", q_attached },
    { "qSymbol", q_symbol },
    { "qRcmd,", q_rcmd },
    { "QStartNoAckMode", q_start_no_ack },
};

static void pkt_query(GdbStub *s, const Packet *p)
{
    for (size_t i = 0; i < ARRAY_SIZE(query_handlers); i++) {
        size_t n = strlen(query_handlers[i].prefix);
        if (strncmp(p->data, query_handlers[i].prefix, n) == 0) {
            const char *args = p->data + n;
            /* "qC" must not match "qCRC...": a name ends at ':' ',' ';' or the end */
            char last = query_handlers[i].prefix[n - 1];
            if (last != ':' && last != ',' && *args && *args != ':' && *args != ';')
                continue;
            query_handlers[i].fn(s, args);
            return;
        }
    }
    gdb_send(s, "");      /* unsupported: the empty reply */
}

typedef struct PacketHandler {
    char letter;
    void (*fn)(GdbStub *s, const Packet *p);
} PacketHandler;

static const PacketHandler packet_handlers[] = {
    { '?', pkt_stop_reason },
    { 'g', pkt_read_regs },
    { 'G', pkt_write_regs },
    { 'p', pkt_read_reg },
    { 'P', pkt_write_reg },
    { 'm', pkt_read_mem },
    { 'M', pkt_write_mem },
    { 'X', pkt_write_mem_bin },
    { 'c', pkt_continue },
    { 's', pkt_step },
    { 'H', pkt_set_thread },
    { 'T', pkt_thread_alive },
    { 'Z', pkt_breakpoint },
    { 'z', pkt_breakpoint },
    { 'D', pkt_detach },
    { 'k', pkt_kill },
    { 'q', pkt_query },
    { 'Q', pkt_query },
};

static void handle_packet(GdbStub *s)
{
    s->rx[s->rx_len] = '\0';
    Packet p = { (const char *)s->rx, s->rx_len };
    for (size_t i = 0; i < ARRAY_SIZE(packet_handlers); i++) {
        if (p.len && packet_handlers[i].letter == p.data[0]) {
            packet_handlers[i].fn(s, &p);
            return;
        }
    }
    gdb_send(s, "");
}

/* ---- input: framing ------------------------------------------------------------------------------- */

static void gdb_ack(GdbStub *s, char c)
{
    if (!s->no_ack)
        s->out(s->out_opaque, (const uint8_t *)&c, 1);
}

static void gdb_interrupt(GdbStub *s)
{
    if (!s->running)
        return;
    vm_stop(s);
    s->running = false;
    gdb_set_step_cpu(-1);
    gdb_send_stop(s, s->c_cpu, GDB_SIGINT);
}

static void gdb_rx_byte(GdbStub *s, uint8_t c)
{
    switch (s->rx_state) {
    case RX_IDLE:
        if (c == '$') {
            s->rx_state = RX_DATA;
            s->rx_len = 0;
            s->rx_sum = 0;
            s->rx_overflow = false;
        } else if (c == 0x03) {
            gdb_interrupt(s);
        } else if (c == '-' && s->last && !s->no_ack) {
            s->out(s->out_opaque, s->last, (int)s->last_len);
        }
        break;                      /* '+' and noise are ignored */
    case RX_DATA:
        if (c == '#') {
            s->rx_state = RX_CSUM1;
        } else if (c == '$') {
            s->rx_len = 0;          /* a new packet started: drop the partial one */
            s->rx_sum = 0;
            s->rx_overflow = false;
        } else {
            s->rx_sum = (uint8_t)(s->rx_sum + c);
            if (s->rx_len < GDB_PACKET_SIZE)
                s->rx[s->rx_len++] = c;
            else
                s->rx_overflow = true;
        }
        break;
    case RX_CSUM1:
        if (hexval(c) < 0) {
            s->rx_state = RX_IDLE;
            gdb_ack(s, '-');
            break;
        }
        s->rx_csum = (uint8_t)(hexval(c) << 4);
        s->rx_state = RX_CSUM2;
        break;
    case RX_CSUM2:
        s->rx_state = RX_IDLE;
        if (hexval(c) < 0 || (uint8_t)(s->rx_csum | hexval(c)) != s->rx_sum || s->rx_overflow) {
            gdb_ack(s, '-');
            break;
        }
        gdb_ack(s, '+');
        handle_packet(s);
        break;
    }
}

void gdbstub_input(GdbStub *s, const uint8_t *buf, int len)
{
    for (int i = 0; i < len; i++)
        gdb_rx_byte(s, buf[i]);
}

/* ---- life cycle ---------------------------------------------------------------------------------- */

GdbStub *gdbstub_new(const GdbTarget *target, GdbOutputFn out, void *out_opaque)
{
    GdbStub *s = xzalloc(sizeof(*s));
    s->target = *target;
    s->out = out;
    s->out_opaque = out_opaque;
    s->last_signal = GDB_SIGTRAP;
    return s;
}

void gdbstub_free(GdbStub *s)
{
    if (s) {
        free(s->last);
        free(s);
    }
}

void gdbstub_attached(GdbStub *s)
{
    s->rx_state = RX_IDLE;
    s->no_ack = false;
    s->running = false;
    s->last_signal = GDB_SIGTRAP;
    s->g_cpu = s->c_cpu = 0;
    vm_stop(s);
}

void gdbstub_detached(GdbStub *s)
{
    gdb_breakpoints_clear();
    gdb_set_step_cpu(-1);
    s->running = false;
    s->no_ack = false;
    vm_resume(s);
}

void gdbstub_report_stop(GdbStub *s, int cpu, int signal)
{
    gdb_set_step_cpu(-1);
    if (!s->running)
        return;          /* nobody waits: not ours to resume later either */
    s->vm_stopped = true;
    s->running = false;
    s->g_cpu = s->c_cpu = cpu;
    /* Say so when it is a breakpoint, so that gdb never adjusts the PC. */
    CPUX86State *env = cpu_env(s, cpu);
    if (s->swbreak && signal == GDB_SIGTRAP && !s->stepping && env &&
        gdb_breakpoint_hit(env, env->segs[R_CS].base + env->rip)) {
        s->last_signal = signal;
        gdb_sendf(s, "T%02xswbreak:;thread:%x;", signal, cpu + 1);
        return;
    }
    gdb_send_stop(s, cpu, signal);
}
