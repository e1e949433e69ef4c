/* The human monitor: the terminal side (banner, prompt, output) and command
 * dispatch. Line editing is in system/monitor-readline.c, the commands in
 * system/monitor-cmds.c. */
#include "system/monitor-internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "system/chardev-internal.h"
#include "system/cpus.h"
#include "system/machine.h"
#include "system/util.h"

#define PROMPT "(kestrel) "

void monitor_write_raw(Monitor *mon, const char *s, size_t len)
{
    if (mon->chr && len)
        chardev_write(mon->chr, (const uint8_t *)s, (int)len);
}

static void mon_puts(Monitor *mon, const char *s)
{
    monitor_write_raw(mon, s, strlen(s));
}

void monitor_printf(Monitor *mon, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n > 0)
        monitor_write_raw(mon, s, (size_t)n);
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
    monitor_write_raw(mon, buf, size);
    free(buf);
}

/* ---- terminal ---------------------------------------------------------------------- */

void monitor_show_prompt(Monitor *mon)
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

/* ---- chardev frontend ------------------------------------------------------------------ */

static int mon_can_receive(void *opaque)
{
    return CHR_INBUF_SIZE;       /* commands run synchronously: always ready */
}

static void mon_receive(void *opaque, const uint8_t *buf, int len)
{
    Monitor *mon = opaque;
    if (!mon->banner_done) {
        /* input before any focus event (a "mon:" monitor on its own) */
        mon_banner(mon);
        monitor_show_prompt(mon);
    }
    for (int i = 0; i < len; i++)
        monitor_readline_key(mon, buf[i]);
}

static void mon_event(void *opaque, int event)
{
    Monitor *mon = opaque;
    switch (event) {
    case CHR_EVENT_OPENED:
        mon->banner_done = false;     /* a new client: greet it */
        mon->len = mon->cursor = 0;
        /* fall through */
    case CHR_EVENT_FOCUS:
        mon_banner(mon);
        monitor_show_prompt(mon);
        if (mon->len)
            monitor_write_raw(mon, mon->line, (size_t)mon->len);
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
    monitor_readline_free(mon);
    free(mon);
}
