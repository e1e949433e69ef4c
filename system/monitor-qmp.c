/* The QMP-style JSON monitor (-qmp SPEC), as the QMP specification
 * describes the wire protocol: a greeting, capabilities negotiation with
 * qmp_capabilities, then one JSON object per command
 *   {"execute": "NAME", "arguments": {...}, "id": ANY}
 * answered by {"return": VALUE, "id": ANY} or
 * {"error": {"class": CLASS, "desc": TEXT}, "id": ANY}, each followed by CRLF.
 * Commands: qmp_capabilities, query-status, query-version, query-commands,
 * query-name, query-kvm, query-cpus-fast, stop, cont, system_reset, system_powerdown, quit,
 * human-monitor-command (runs an HMP command line and returns its output).
 * Commands issued here emit the matching STOP, RESUME, RESET, POWERDOWN and
 * SHUTDOWN events. */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "system/chardev-internal.h"
#include "system/cpus.h"
#include "system/gdbstub.h"
#include "system/machine.h"
#include "system/mainloop.h"
#include "system/monitor-internal.h"
#include "system/util.h"

#define QMP_MAX_INPUT (64 * 1024)

struct QmpMonitor {
    Chardev *chr;
    bool negotiated;
    bool greeted;
    char *in;                 /* the object being received */
    size_t in_len;
    int depth;
    bool in_string, escaped, overflow;
    Monitor hmp;              /* for human-monitor-command */
};

/* ---- JSON reading ------------------------------------------------------------------------ */

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A string at *p; decoded into *out (allocated) unless out is NULL. */
static bool json_string(const char **p, char **out)
{
    if (**p != '"')
        return false;
    (*p)++;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = out ? open_memstream(&buf, &size) : NULL;
    bool ok = false;
    while (**p && **p != '"') {
        unsigned char c = (unsigned char)*(*p)++;
        if (c < 0x20)
            goto done;
        if (c != '\\') {
            if (f)
                fputc(c, f);
            continue;
        }
        static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
        const char *e = **p ? strchr(esc_in, **p) : NULL;
        if (e) {
            if (f)
                fputc(esc_out[e - esc_in], f);
            (*p)++;
        } else if (**p == 'u') {
            int cp = hex4(*p + 1);
            if (cp < 0)
                goto done;
            *p += 5;
            if (f) {          /* UTF-8; surrogate pairs kept as two code points */
                if (cp < 0x80) {
                    fputc(cp, f);
                } else if (cp < 0x800) {
                    fputc(0xc0 | (cp >> 6), f);
                    fputc(0x80 | (cp & 0x3f), f);
                } else {
                    fputc(0xe0 | (cp >> 12), f);
                    fputc(0x80 | ((cp >> 6) & 0x3f), f);
                    fputc(0x80 | (cp & 0x3f), f);
                }
            }
        } else {
            goto done;
        }
    }
    if (**p == '"') {
        (*p)++;
        ok = true;
    }
done:
    if (f) {
        fclose(f);
        if (ok)
            *out = buf;
        else
            free(buf);
    }
    return ok;
}

static bool json_value(const char **p, int depth);

static bool json_members(const char **p, int depth, char open, char close)
{
    (*p)++;
    skip_ws(p);
    if (**p == close) {
        (*p)++;
        return true;
    }
    for (;;) {
        skip_ws(p);
        if (open == '{') {
            if (!json_string(p, NULL))
                return false;
            skip_ws(p);
            if (*(*p)++ != ':')
                return false;
        }
        if (!json_value(p, depth + 1))
            return false;
        skip_ws(p);
        if (**p == ',') {
            (*p)++;
            continue;
        }
        if (**p != close)
            return false;
        (*p)++;
        return true;
    }
}

/* Validate and skip any value. */
static bool json_value(const char **p, int depth)
{
    if (depth > 64)
        return false;
    skip_ws(p);
    switch (**p) {
    case '{':
        return json_members(p, depth, '{', '}');
    case '[':
        return json_members(p, depth, '[', ']');
    case '"':
        return json_string(p, NULL);
    default:
        break;
    }
    static const char *const words[] = { "true", "false", "null" };
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        size_t n = strlen(words[i]);
        if (strncmp(*p, words[i], n) == 0) {
            *p += n;
            return true;
        }
    }
    char *end;
    strtod(*p, &end);
    if (end == *p)
        return false;
    *p = end;
    return true;
}

/* The span of member `key` in the object at obj (validated before), or false. */
static bool json_member(const char *obj, const char *key, const char **start, const char **end)
{
    const char *p = obj;
    skip_ws(&p);
    if (*p != '{')
        return false;
    p++;
    for (;;) {
        skip_ws(&p);
        char *name = NULL;
        if (!json_string(&p, &name))
            return false;
        skip_ws(&p);
        p++;                       /* ':' */
        skip_ws(&p);
        const char *s = p;
        json_value(&p, 0);
        bool match = strcmp(name, key) == 0;
        free(name);
        if (match) {
            *start = s;
            *end = p;
            return true;
        }
        skip_ws(&p);
        if (*p != ',')
            return false;
        p++;
    }
}

/* ---- JSON writing ------------------------------------------------------------------------- */

static void json_put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void qmp_send(QmpMonitor *q, const char *text, size_t len)
{
    chardev_write(q->chr, (const uint8_t *)text, (int)len);
    chardev_write(q->chr, (const uint8_t *)"\r\n", 2);
}

static void qmp_event(QmpMonitor *q, const char *name)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char *s = xasprintf("{\"timestamp\": {\"seconds\": %ld, \"microseconds\": %ld}, "
                        "\"event\": \"%s\"}", (long)tv.tv_sec, (long)tv.tv_usec, name);
    qmp_send(q, s, strlen(s));
    free(s);
}

/* ---- commands -------------------------------------------------------------------------------- */

/* A command writes its return value to out (nothing: {}), or returns an
 * error description (allocated) with *cls set. */
typedef char *(*QmpCmdFn)(QmpMonitor *q, FILE *out, const char *args, const char **cls);

static bool vm_running(void)
{
    Machine *m = current_machine;
    if (!m)
        return false;
    for (int i = 0; i < m->ncpus; i++)
        if (!atomic_load(&m->cpus[i]->stop))
            return true;
    return false;
}

static char *qmp_capabilities(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    q->negotiated = true;
    return NULL;
}

static char *qmp_query_status(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    bool running = vm_running();
    fprintf(out, "{\"status\": \"%s\", \"singlestep\": false, \"running\": %s}",
            running ? "running" : "paused", running ? "true" : "false");
    return NULL;
}

static char *qmp_query_version(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    int major = 0, minor = 0, micro = 0;
    sscanf(KESTREL_VERSION, "%d.%d.%d", &major, &minor, &micro);
    fprintf(out, "{\"qemu\": {\"major\": %d, \"minor\": %d, \"micro\": %d}, "
            "\"package\": \"Kestrel " KESTREL_VERSION "\"}", major, minor, micro);
    return NULL;
}

static char *qmp_query_name(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    const char *name = current_machine && current_machine->cfg ? current_machine->cfg->name : NULL;
    if (name) {
        fputs("{\"name\": ", out);
        json_put_string(out, name);
        fputc('}', out);
    }
    return NULL;
}

static char *qmp_query_kvm(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    Machine *m = current_machine;
    bool enabled = m && m->accel && strcmp(m->accel->name, "kvm") == 0;
    bool present = access("/dev/kvm", R_OK | W_OK) == 0;
    fprintf(out, "{\"enabled\": %s, \"present\": %s}", enabled ? "true" : "false",
            present ? "true" : "false");
    return NULL;
}

static char *qmp_query_cpus_fast(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    Machine *m = current_machine;
    fputc('[', out);
    for (int i = 0; m && i < m->ncpus; i++)
        fprintf(out, "%s{\"cpu-index\": %d, \"qom-path\": \"/machine/cpu[%d]\", "
                "\"target\": \"x86_64\", \"props\": {\"socket-id\": %d, \"core-id\": 0, "
                "\"thread-id\": 0}}", i ? ", " : "", i, i, i);
    fputc(']', out);
    return NULL;
}

static char *qmp_stop(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    if (current_machine && vm_running()) {
        cpus_pause(current_machine);
        gdbstub_vm_stopped();
        qmp_event(q, "STOP");
    }
    return NULL;
}

static char *qmp_cont(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    if (current_machine && current_machine->ncpus && !vm_running()) {
        cpus_resume(current_machine);
        qmp_event(q, "RESUME");
    }
    return NULL;
}

static char *qmp_system_reset(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    machine_request_reset();
    qmp_event(q, "RESET");
    return NULL;
}

static char *qmp_system_powerdown(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    monitor_run_command(&q->hmp, out, "system_powerdown");
    qmp_event(q, "POWERDOWN");
    return NULL;
}

static char *qmp_quit(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    main_loop_quit(0);
    return NULL;
}

static char *qmp_hmp(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    const char *s, *e;
    char *line = NULL;
    if (!args || !json_member(args, "command-line", &s, &e) || !json_string(&s, &line)) {
        *cls = "GenericError";
        return xstrdup("Parameter 'command-line' is missing or not a string");
    }
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    monitor_run_command(&q->hmp, f, line);
    fclose(f);
    json_put_string(out, text);
    free(text);
    free(line);
    return NULL;
}

static char *qmp_query_commands(QmpMonitor *q, FILE *out, const char *args, const char **cls);

static const struct {
    const char *name;
    QmpCmdFn fn;
} qmp_commands[] = {
    { "qmp_capabilities", qmp_capabilities },
    { "query-status", qmp_query_status },
    { "query-version", qmp_query_version },
    { "query-commands", qmp_query_commands },
    { "query-name", qmp_query_name },
    { "query-kvm", qmp_query_kvm },
    { "query-cpus-fast", qmp_query_cpus_fast },
    { "stop", qmp_stop },
    { "cont", qmp_cont },
    { "system_reset", qmp_system_reset },
    { "system_powerdown", qmp_system_powerdown },
    { "quit", qmp_quit },
    { "human-monitor-command", qmp_hmp },
};

static char *qmp_query_commands(QmpMonitor *q, FILE *out, const char *args, const char **cls)
{
    fputc('[', out);
    for (size_t i = 0; i < ARRAY_SIZE(qmp_commands); i++)
        fprintf(out, "%s{\"name\": \"%s\"}", i ? ", " : "", qmp_commands[i].name);
    fputc(']', out);
    return NULL;
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

static void qmp_reply(QmpMonitor *q, const char *value, const char *err_cls, const char *err,
                      const char *id, size_t id_len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (err) {
        fprintf(f, "{\"error\": {\"class\": \"%s\", \"desc\": ", err_cls);
        json_put_string(f, err);
        fputc('}', f);
    } else {
        fprintf(f, "{\"return\": %s", value && *value ? value : "{}");
    }
    if (id)
        fprintf(f, ", \"id\": %.*s", (int)id_len, id);
    fputc('}', f);
    fclose(f);
    qmp_send(q, buf, size);
    free(buf);
}

static void qmp_handle(QmpMonitor *q, const char *text)
{
    const char *p = text;
    const char *id = NULL, *id_end = NULL, *args = NULL, *args_end, *ex, *ex_end;
    if (!json_value(&p, 0) || (skip_ws(&p), *p)) {
        qmp_reply(q, NULL, "GenericError", "JSON parse error", NULL, 0);
        return;
    }
    json_member(text, "id", &id, &id_end);
    size_t id_len = id ? (size_t)(id_end - id) : 0;
    char *name = NULL;
    if (!json_member(text, "execute", &ex, &ex_end) || !json_string(&ex, &name)) {
        qmp_reply(q, NULL, "GenericError", "QMP input lacks member 'execute'", id, id_len);
        return;
    }
    if (json_member(text, "arguments", &args, &args_end) && *args != '{') {
        qmp_reply(q, NULL, "GenericError", "QMP input member 'arguments' must be an object",
                  id, id_len);
        free(name);
        return;
    }
    bool is_caps = strcmp(name, "qmp_capabilities") == 0;
    char *err = NULL;
    const char *cls = "CommandNotFound";
    if (!q->negotiated && !is_caps) {
        err = xstrdup("Expecting capabilities negotiation with 'qmp_capabilities'");
    } else if (q->negotiated && is_caps) {
        err = xstrdup("Capabilities negotiation is already complete, command ignored");
    }
    char *value = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&value, &size);
    bool found = err != NULL;
    for (size_t i = 0; i < ARRAY_SIZE(qmp_commands) && !found; i++) {
        if (strcmp(qmp_commands[i].name, name) == 0) {
            found = true;
            err = qmp_commands[i].fn(q, out, args, &cls);
        }
    }
    if (!found)
        err = xasprintf("The command %s has not been found", name);
    fclose(out);
    qmp_reply(q, value, cls, err, id, id_len);
    free(value);
    free(err);
    free(name);
}

/* ---- input framing: one object at a time, split on balanced braces ------------------------ */

static void qmp_input_reset(QmpMonitor *q)
{
    q->in_len = 0;
    q->depth = 0;
    q->in_string = q->escaped = q->overflow = false;
}

static void qmp_byte(QmpMonitor *q, char c)
{
    if (q->depth == 0 && c != '{') {
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            qmp_reply(q, NULL, "GenericError", "JSON parse error: expected an object", NULL, 0);
        return;
    }
    if (q->in_len < QMP_MAX_INPUT)
        q->in[q->in_len++] = c;
    else
        q->overflow = true;
    if (q->in_string) {
        if (q->escaped)
            q->escaped = false;
        else if (c == '\\')
            q->escaped = true;
        else if (c == '"')
            q->in_string = false;
        return;
    }
    if (c == '"')
        q->in_string = true;
    else if (c == '{' || c == '[')
        q->depth++;
    else if (c == '}' || c == ']')
        q->depth--;
    if (q->depth == 0) {
        if (q->overflow) {
            qmp_reply(q, NULL, "GenericError", "JSON parse error: input too long", NULL, 0);
        } else {
            q->in[q->in_len] = '\0';
            qmp_handle(q, q->in);
        }
        qmp_input_reset(q);
    }
}

static int qmp_can_receive(void *opaque)
{
    return CHR_INBUF_SIZE;
}

static void qmp_receive(void *opaque, const uint8_t *buf, int len)
{
    QmpMonitor *q = opaque;
    for (int i = 0; i < len; i++)
        qmp_byte(q, (char)buf[i]);
}

static void qmp_greet(QmpMonitor *q)
{
    int major = 0, minor = 0, micro = 0;
    sscanf(KESTREL_VERSION, "%d.%d.%d", &major, &minor, &micro);
    char *s = xasprintf("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": %d, \"minor\": %d, "
                        "\"major\": %d}, \"package\": \"Kestrel " KESTREL_VERSION "\"}, "
                        "\"capabilities\": []}}", micro, minor, major);
    qmp_send(q, s, strlen(s));
    free(s);
    q->greeted = true;
}

static void qmp_chr_event(void *opaque, int event)
{
    QmpMonitor *q = opaque;
    if (event == CHR_EVENT_OPENED) {
        /* a new client negotiates afresh */
        q->negotiated = false;
        qmp_input_reset(q);
        qmp_greet(q);
    } else if (event == CHR_EVENT_FOCUS && !q->greeted) {
        qmp_greet(q);
    }
}

QmpMonitor *qmp_monitor_new(Chardev *chr)
{
    if (!chr)
        return NULL;
    QmpMonitor *q = xzalloc(sizeof(*q));
    q->chr = chr;
    q->in = xmalloc(QMP_MAX_INPUT + 1);
    ChardevFrontend fe = { qmp_can_receive, qmp_receive, qmp_chr_event, q };
    chardev_attach(chr, &fe);
    return q;
}

void qmp_monitor_free(QmpMonitor *q)
{
    if (q) {
        free(q->in);
        free(q);
    }
}
