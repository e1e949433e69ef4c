/* The human monitor: the terminal side (banner, prompt, line editing with
 * history and command-name completion) and command dispatch. The commands
 * themselves are in system/monitor-cmds.c. */
#include "system/monitor-internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "system/chardev-internal.h"
#include "system/cpus.h"
#include "system/machine.h"
#include "system/util.h"

#define PROMPT "(kestrel) "

static void mon_write(Monitor *mon, const char *s, size_t len)
{
    if (mon->chr && len)
        chardev_write(mon->chr, (const uint8_t *)s, (int)len);
}

static void mon_puts(Monitor *mon, const char *s)
{
    mon_write(mon, s, strlen(s));
}

void monitor_printf(Monitor *mon, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n > 0)
        mon_write(mon, s, (size_t)n);
    free(s);
}

/* ---- dispatch ---------------------------------------------------------------------- */

const MonitorCommand *monitor_find_command(const char *name, size_t len)
{
    const MonitorCommand *c;
    for (size_t i = 0; (c = monitor_command_at(i)); i++) {
        if ((strlen(c->name) == len && strncmp(c->name, name, len) == 0) ||
            (c->alias && strlen(c->alias) == len && strncmp(c->alias, name, len) == 0))
            return c;
    }
    return NULL;
}

/* Park running vCPUs around commands that read their state; false when
 * there was nothing to park. */
bool monitor_pause_for_state(void)
{
    Machine *m = current_machine;
    if (!m || m->ncpus == 0)
        return false;
    for (int i = 0; i < m->ncpus; i++) {
        if (!atomic_load(&m->cpus[i]->stop)) {
            cpus_pause(m);
            return true;
        }
    }
    return false;
}

void monitor_resume_after_state(void)
{
    cpus_resume(current_machine);
}

/* "x/10i" is the command "x" with the argument "/10i": a command name ends at
 * a space or a slash. */
void monitor_run_command(Monitor *mon, FILE *out, const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    if (!*line)
        return;
    size_t len = strcspn(line, " \t/");
    const MonitorCommand *cmd = monitor_find_command(line, len);
    if (!cmd) {
        fprintf(out, "unknown command: '%.*s' (type 'help' for the list)\n", (int)len, line);
        return;
    }
    const char *args = line + len;
    while (*args == ' ' || *args == '\t')
        args++;
    char *trimmed = xstrdup(args);
    size_t n = strlen(trimmed);
    while (n && (trimmed[n - 1] == ' ' || trimmed[n - 1] == '\t'))
        trimmed[--n] = '\0';
    bool paused = cmd->reads_cpu_state && monitor_pause_for_state();
    cmd->fn(mon, out, trimmed);
    if (paused)
        monitor_resume_after_state();
    free(trimmed);
}

void monitor_execute(Monitor *mon, const char *line)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buf, &size);
    if (!out)
        return;
    monitor_run_command(mon, out, line);
    fclose(out);
    mon_write(mon, buf, size);
    free(buf);
}

/* ---- line editing -------------------------------------------------------------------- */

static void mon_prompt(Monitor *mon)
{
    mon_puts(mon, PROMPT);
}

static void mon_banner(Monitor *mon)
{
    if (!mon->banner_done) {
        mon->banner_done = true;
        mon_puts(mon, "Kestrel " KESTREL_VERSION " monitor - type 'help' for more information\n");
    }
}

/* Replace the line being edited (history recall, completion). */
static void mon_set_line(Monitor *mon, const char *text)
{
    while (mon->len > 0) {
        mon_puts(mon, "\b \b");
        mon->len--;
    }
    size_t n = MIN(strlen(text), (size_t)MON_LINE_MAX - 1);
    memcpy(mon->line, text, n);
    mon->len = (int)n;
    mon_write(mon, mon->line, n);
}

static void mon_history_add(Monitor *mon, const char *line)
{
    if (!*line)
        return;
    if (mon->nr_history && strcmp(mon->history[mon->nr_history - 1], line) == 0)
        return;
    if (mon->nr_history == MON_HISTORY) {
        free(mon->history[0]);
        memmove(mon->history, mon->history + 1, sizeof(char *) * (MON_HISTORY - 1));
        mon->nr_history--;
    }
    mon->history[mon->nr_history++] = xstrdup(line);
}

static void mon_history_move(Monitor *mon, int delta)
{
    int pos = mon->history_pos + delta;
    if (pos < 0 || pos > mon->nr_history)
        return;
    mon->history_pos = pos;
    mon_set_line(mon, pos == mon->nr_history ? "" : mon->history[pos]);
}

/* Tab: complete the command name when the prefix names exactly one. */
static void mon_complete(Monitor *mon)
{
    mon->line[mon->len] = '\0';
    if (strchr(mon->line, ' '))
        return;
    const char *match = NULL;
    const MonitorCommand *c;
    for (size_t i = 0; (c = monitor_command_at(i)); i++) {
        if (strncmp(c->name, mon->line, (size_t)mon->len) == 0) {
            if (match)
                return;       /* ambiguous */
            match = c->name;
        }
    }
    if (match) {
        char buf[MON_LINE_MAX];
        snprintf(buf, sizeof(buf), "%s ", match);
        mon_set_line(mon, buf);
    }
}

static void mon_enter(Monitor *mon)
{
    mon->line[mon->len] = '\0';
    mon_puts(mon, "\n");
    char *line = xstrdup(mon->line);
    mon->len = 0;
    mon_history_add(mon, line);
    mon->history_pos = mon->nr_history;
    monitor_execute(mon, line);
    free(line);
    mon_prompt(mon);
}

/* ESC [ A / ESC O A and friends: up and down walk the history; the rest
 * (cursor keys, Delete's ESC [ 3 ~ ...) are swallowed. */
static void mon_escape_key(Monitor *mon, uint8_t c)
{
    if (mon->esc_state == 1) {
        mon->esc_state = (c == '[' || c == 'O') ? 2 : 0;
        return;
    }
    if (c >= '0' && c <= '9')
        return;                   /* parameter digits */
    mon->esc_state = 0;
    if (c == 'A')
        mon_history_move(mon, -1);
    else if (c == 'B')
        mon_history_move(mon, 1);
}

static void mon_key(Monitor *mon, uint8_t c)
{
    bool was_cr = mon->last_was_cr;
    mon->last_was_cr = c == '\r';
    if (mon->esc_state) {
        mon_escape_key(mon, c);
        return;
    }
    switch (c) {
    case '\n':
        if (was_cr)
            return;               /* CR LF from a telnet-ish client: one Enter */
        /* fall through */
    case '\r':
        mon_enter(mon);
        return;
    case 0x7f:
    case '\b':
        if (mon->len > 0) {
            mon->len--;
            mon_puts(mon, "\b \b");
        }
        return;
    case 0x15:                    /* Ctrl-U: erase the line */
        mon_set_line(mon, "");
        return;
    case 0x03:                    /* Ctrl-C: abandon the line */
        mon->len = 0;
        mon_puts(mon, "\n");
        mon_prompt(mon);
        return;
    case 0x1b:
        mon->esc_state = 1;
        return;
    case '\t':
        mon_complete(mon);
        return;
    default:
        if (c >= 0x20 && c < 0x7f && mon->len < MON_LINE_MAX - 1) {
            mon->line[mon->len++] = (char)c;
            mon_write(mon, (const char *)&c, 1);
        }
        return;
    }
}

/* ---- chardev frontend ------------------------------------------------------------------ */

static int mon_can_receive(void *opaque)
{
    return CHR_INBUF_SIZE;       /* commands run synchronously: always ready */
}

static void mon_receive(void *opaque, const uint8_t *buf, int len)
{
    Monitor *mon = opaque;
    for (int i = 0; i < len; i++)
        mon_key(mon, buf[i]);
}

static void mon_event(void *opaque, int event)
{
    Monitor *mon = opaque;
    switch (event) {
    case CHR_EVENT_OPENED:
        mon->banner_done = false;     /* a new client: greet it */
        mon->len = 0;
        /* fall through */
    case CHR_EVENT_FOCUS:
        mon_banner(mon);
        mon_prompt(mon);
        if (mon->len)
            mon_write(mon, mon->line, (size_t)mon->len);
        break;
    default:
        break;
    }
}

static Monitor *monitor_create(Chardev *chr, bool background)
{
    if (!chr)
        return NULL;
    Monitor *mon = xzalloc(sizeof(*mon));
    mon->chr = chr;
    ChardevFrontend fe = { mon_can_receive, mon_receive, mon_event, mon };
    if (background)
        chardev_attach_background(chr, &fe);
    else
        chardev_attach(chr, &fe);
    return mon;
}

Monitor *monitor_new(Chardev *chr)
{
    return monitor_create(chr, false);
}

Monitor *monitor_new_mux(Chardev *chr)
{
    Monitor *mon = monitor_create(chr, true);
    if (chr)
        chr->auto_monitor = mon;     /* freed with the chardev */
    return mon;
}

void monitor_free(Monitor *mon)
{
    if (!mon)
        return;
    for (int i = 0; i < mon->nr_history; i++)
        free(mon->history[i]);
    free(mon);
}
