/* Character devices, the core: spec parsing, frontends, the input buffer,
 * the mux with its Ctrl-A escape, and thread-safe writes.
 * The backends live in system/chardev-*.c; system/chardev-internal.h
 * describes how they fit together. */
#include "system/chardev-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "system/log.h"
#include "system/mainloop.h"
#include "system/monitor.h"
#include "system/util.h"

static Chardev *chardev_list;
static pthread_mutex_t chardev_list_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- creation -------------------------------------------------------------------- */

Chardev *chardev_alloc(const char *spec, const ChardevBackend *be, void *state)
{
    Chardev *chr = xzalloc(sizeof(*chr));
    chr->spec = xstrdup(spec);
    chr->be = be;
    chr->state = state;
    chr->refcount = 1;
    chr->log_fd = -1;
    pthread_mutex_init(&chr->write_lock, NULL);
    pthread_mutex_lock(&chardev_list_lock);
    chr->next = chardev_list;
    chardev_list = chr;
    pthread_mutex_unlock(&chardev_list_lock);
    return chr;
}

Chardev *chardev_first(void)
{
    return chardev_list;
}

typedef Chardev *(*ChardevOpenFn)(const char *spec, const char *args, char *err, size_t errlen);

static Chardev *open_stdio(const char *spec, const char *args, char *err, size_t errlen)
{
    return chardev_stdio_open(spec, false, err, errlen);
}

static Chardev *open_null(const char *spec, const char *args, char *err, size_t errlen)
{
    return chardev_null_open(spec, err, errlen);
}

static Chardev *open_file(const char *spec, const char *args, char *err, size_t errlen)
{
    if (!*args) {
        snprintf(err, errlen, "chardev '%s': missing file name (file:PATH)", spec);
        return NULL;
    }
    return chardev_file_open(spec, args, false, err, errlen);
}

static Chardev *open_unix(const char *spec, const char *args, char *err, size_t errlen)
{
    return chardev_socket_open(spec, args, true, false, err, errlen);
}

static Chardev *open_tcp(const char *spec, const char *args, char *err, size_t errlen)
{
    return chardev_socket_open(spec, args, false, false, err, errlen);
}

static Chardev *open_telnet(const char *spec, const char *args, char *err, size_t errlen)
{
    return chardev_socket_open(spec, args, false, true, err, errlen);
}

static Chardev *open_pipe(const char *spec, const char *args, char *err, size_t errlen)
{
    if (!*args) {
        snprintf(err, errlen, "chardev '%s': missing path (pipe:PATH)", spec);
        return NULL;
    }
    return chardev_pipe_open(spec, args, err, errlen);
}

static Chardev *open_pty(const char *spec, const char *args, char *err, size_t errlen)
{
    return chardev_pty_open(spec, err, errlen);
}

/* Spec prefixes: "name" alone or "name:args". */
static const struct {
    const char *name;
    bool takes_args;
    ChardevOpenFn open;
} chardev_kinds[] = {
    { "stdio", false, open_stdio },
    { "null",  false, open_null },
    { "file",  true,  open_file },
    { "unix",  true,  open_unix },
    { "tcp",   true,  open_tcp },
    { "telnet", true, open_telnet },
    { "pty",   false, open_pty },
    { "pipe",  true,  open_pipe },
};

static Chardev *chardev_open_kind(const char *spec, const char *body, char *err, size_t errlen)
{
    size_t namelen = strcspn(body, ":");
    const char *args = body[namelen] ? body + namelen + 1 : "";
    for (size_t i = 0; i < ARRAY_SIZE(chardev_kinds); i++) {
        if (strlen(chardev_kinds[i].name) != namelen ||
            strncmp(chardev_kinds[i].name, body, namelen) != 0)
            continue;
        if (!chardev_kinds[i].takes_args && body[namelen]) {
            snprintf(err, errlen, "chardev '%s': '%s' takes no options", spec,
                     chardev_kinds[i].name);
            return NULL;
        }
        return chardev_kinds[i].open(spec, args, err, errlen);
    }
    snprintf(err, errlen, "unknown chardev '%s' (known: stdio, mon:stdio, null, none, "
             "file:PATH, unix:PATH[,server][,nowait], tcp:[HOST]:PORT[,server][,nowait], "
             "telnet:[HOST]:PORT[,server][,nowait], pty, pipe:PATH, chardev:ID)",
             spec);
    return NULL;
}

Chardev *chardev_new(const char *spec, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (!spec || strcmp(spec, "none") == 0)
        return NULL;
    bool mon = strncmp(spec, "mon:", 4) == 0;
    const char *body = mon ? spec + 4 : spec;
    if (mon && strcmp(body, "none") == 0) {
        snprintf(err, errlen, "chardev '%s': a monitor needs a device", spec);
        return NULL;
    }
    Chardev *chr;
    if (strncmp(body, "chardev:", 8) == 0) {
        chr = chardev_named_get(body + 8);
        if (!chr)
            snprintf(err, errlen, "no chardev with id '%s' (add one with -chardev ...,id=%s)",
                     body + 8, body + 8);
    } else {
        chr = chardev_open_kind(spec, body, err, errlen);
    }
    if (!chr)
        return NULL;
    if (mon && !chr->want_monitor) {
        chr->want_monitor = true;
        chr->escapes = true;     /* mon:tcp:... is a mux too: Ctrl-A c */
        monitor_new_mux(chr);
    }
    return chr;
}

void chardev_free(Chardev *chr)
{
    if (!chr || --chr->refcount > 0)
        return;
    pthread_mutex_lock(&chardev_list_lock);
    for (Chardev **p = &chardev_list; *p; p = &(*p)->next) {
        if (*p == chr) {
            *p = chr->next;
            break;
        }
    }
    pthread_mutex_unlock(&chardev_list_lock);
    if (chr->be->close)
        chr->be->close(chr);
    monitor_free(chr->auto_monitor);
    chardev_named_forget(chr);
    if (chr->log_fd >= 0)
        close(chr->log_fd);
    free(chr->label);
    pthread_mutex_destroy(&chr->write_lock);
    free(chr->spec);
    free(chr);
}

const char *chardev_spec(const Chardev *chr)
{
    return chr ? chr->spec : "none";
}

/* ---- frontends and the mux ------------------------------------------------------- */

static void chardev_attach_common(Chardev *chr, const ChardevFrontend *fe, bool background)
{
    if (!chr)
        return;
    if (chr->nr_fe >= CHR_MAX_FRONTENDS) {
        error_report("chardev '%s': too many users", chr->spec);
        return;
    }
    int idx = chr->nr_fe++;
    chr->fe[idx] = *fe;
    chr->fe_is_auto_monitor[idx] = background;
    /* The first real frontend takes the focus from a monitor that "mon:"
     * attached before it (the serial port comes first, as QEMU users expect). */
    bool take_focus = idx == 0 || (!background && chr->fe_is_auto_monitor[chr->focus]);
    if (take_focus) {
        chr->focus = idx;
        if (!background && chr->fe[idx].event)
            chr->fe[idx].event(chr->fe[idx].opaque, CHR_EVENT_FOCUS);
    }
    if (chr->connected && chr->fe[idx].event)
        chr->fe[idx].event(chr->fe[idx].opaque, CHR_EVENT_OPENED);
    if (chr->be->set_input_polling)
        chr->be->set_input_polling(chr, chr->in_len < CHR_INBUF_SIZE && !chr->input_eof);
}

void chardev_attach(Chardev *chr, const ChardevFrontend *fe)
{
    chardev_attach_common(chr, fe, false);
}

void chardev_attach_background(Chardev *chr, const ChardevFrontend *fe)
{
    chardev_attach_common(chr, fe, true);
}

void chardev_mux_switch(Chardev *chr)
{
    if (chr->nr_fe < 2)
        return;
    chr->focus = (chr->focus + 1) % chr->nr_fe;
    ChardevFrontend *fe = &chr->fe[chr->focus];
    if (fe->event)
        fe->event(fe->opaque, CHR_EVENT_FOCUS);
}

void chardev_send_event(Chardev *chr, int event)
{
    for (int i = 0; i < chr->nr_fe; i++) {
        if (chr->fe[i].event)
            chr->fe[i].event(chr->fe[i].opaque, event);
    }
}

void chardev_send_event_focused(Chardev *chr, int event)
{
    if (chr->nr_fe == 0)
        return;
    ChardevFrontend *fe = &chr->fe[chr->focus];
    if (fe->event)
        fe->event(fe->opaque, event);
}

/* ---- output ------------------------------------------------------------------------ */

static int64_t realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ctrl-A t: the output with the time since the first stamp before each
 * line (write_lock held). */
static int chardev_write_stamped(Chardev *chr, const uint8_t *buf, int len)
{
    int done = 0;
    while (done < len) {
        if (chr->at_line_start) {
            int64_t ms = realtime_ms() - chr->timestamps_start_ms;
            char stamp[40];
            int n = snprintf(stamp, sizeof(stamp), "[%02d:%02d:%02d.%03d] ",
                             (int)(ms / 3600000), (int)(ms / 60000 % 60), (int)(ms / 1000 % 60),
                             (int)(ms % 1000));
            chr->be->write(chr, (const uint8_t *)stamp, n);
            chr->at_line_start = false;
        }
        const uint8_t *nl = memchr(buf + done, '\n', (size_t)(len - done));
        int run = nl ? (int)(nl - (buf + done)) + 1 : len - done;
        chr->be->write(chr, buf + done, run);
        chr->at_line_start = nl != NULL;
        done += run;
    }
    return len;
}

int chardev_write(Chardev *chr, const uint8_t *buf, int len)
{
    if (!chr || len <= 0)
        return len > 0 ? len : 0;
    pthread_mutex_lock(&chr->write_lock);
    int n;
    if (chr->timestamps && chr->be->write)
        n = chardev_write_stamped(chr, buf, len);
    else
        n = chr->be->write ? chr->be->write(chr, buf, len) : len;
    if (chr->log_fd >= 0)
        write_full(chr->log_fd, buf, (size_t)len);
    pthread_mutex_unlock(&chr->write_lock);
    return n;
}

void chardev_write_str(Chardev *chr, const char *s)
{
    chardev_write(chr, (const uint8_t *)s, (int)strlen(s));
}

/* ---- input ------------------------------------------------------------------------- */

void chardev_read_fd(Chardev *chr, int fd, bool eof_ends_input)
{
    uint8_t buf[CHR_INBUF_SIZE];
    int room = chardev_input_room(chr);
    if (room <= 0)
        return;
    ssize_t n = read(fd, buf, (size_t)room);
    if (n > 0) {
        chardev_input_push(chr, buf, (int)n);
    } else if (eof_ends_input && (n == 0 || (errno != EINTR && errno != EAGAIN))) {
        chr->input_eof = true;
        chardev_input_flush(chr);
    }
}

void chardev_poll_fd(Chardev *chr, int fd, bool *polling, bool on, void (*ready)(void *, int, short))
{
    if (on == *polling || fd < 0)
        return;
    *polling = on;
    if (on)
        main_loop_set_fd(fd, POLLIN, ready, chr);
    else
        main_loop_remove_fd(fd);
}

int chardev_input_room(const Chardev *chr)
{
    return CHR_INBUF_SIZE - chr->in_len;
}

void chardev_input_push(Chardev *chr, const uint8_t *buf, int len)
{
    len = MIN(len, chardev_input_room(chr));
    memcpy(chr->in + chr->in_len, buf, (size_t)len);
    chr->in_len += len;
    chardev_input_flush(chr);
}

static const char escape_help[] =
    "\r\n"
    "C-a h    print this help\r\n"
    "C-a x    exit emulator\r\n"
    "C-a c    switch between console and monitor\r\n"
    "C-a b    send break\r\n"
    "C-a t    toggle console timestamps\r\n"
    "C-a C-a  sends C-a\r\n";

/* The key after Ctrl-A. Returns true when it produced a Ctrl-A to deliver. */
static bool chardev_escape_command(Chardev *chr, uint8_t key)
{
    switch (key) {
    case CHR_ESCAPE_CHAR:
        return true;
    case 'x':
        chardev_write_str(chr, "kestrel: terminated\r\n");
        main_loop_quit(0);
        return false;
    case 'h':
    case '?':
        chardev_write_str(chr, escape_help);
        return false;
    case 'c':
        chardev_mux_switch(chr);
        return false;
    case 'b':
        chardev_send_event_focused(chr, CHR_EVENT_BREAK);
        return false;
    case 't':
        pthread_mutex_lock(&chr->write_lock);
        chr->timestamps = !chr->timestamps;
        chr->at_line_start = true;
        if (chr->timestamps_start_ms == 0)
            chr->timestamps_start_ms = realtime_ms();
        pthread_mutex_unlock(&chr->write_lock);
        return false;
    default:
        return false;   /* unknown escape: swallowed, as QEMU does */
    }
}

static void chardev_input_consume(Chardev *chr, int n)
{
    memmove(chr->in, chr->in + n, (size_t)(chr->in_len - n));
    chr->in_len -= n;
}

/* Deliver up to len plain bytes (no escape inside) to the focused frontend;
 * returns how many it took. Without a frontend, input is discarded. */
static int chardev_deliver(Chardev *chr, const uint8_t *buf, int len)
{
    if (chr->nr_fe == 0)
        return len;
    ChardevFrontend *fe = &chr->fe[chr->focus];
    int room = fe->can_receive ? fe->can_receive(fe->opaque) : len;
    int n = MIN(room, len);
    if (n > 0 && fe->receive)
        fe->receive(fe->opaque, buf, n);
    return MAX(n, 0);
}

/* One step of delivery; returns false when nothing more can move now. */
static bool chardev_input_step(Chardev *chr)
{
    if (chr->in_len == 0)
        return false;
    if (chr->escapes && chr->escape_pending) {
        uint8_t key = chr->in[0];
        if (key == CHR_ESCAPE_CHAR) {
            /* Ctrl-A Ctrl-A: deliver one Ctrl-A (in place of the second). */
            if (chardev_deliver(chr, chr->in, 1) == 0)
                return false;
            chr->escape_pending = false;
            chardev_input_consume(chr, 1);
            return true;
        }
        chr->escape_pending = false;
        chardev_input_consume(chr, 1);
        chardev_escape_command(chr, key);
        return true;
    }
    int run = chr->in_len;
    if (chr->escapes) {
        const uint8_t *esc = memchr(chr->in, CHR_ESCAPE_CHAR, (size_t)chr->in_len);
        if (esc == chr->in) {
            chr->escape_pending = true;
            chardev_input_consume(chr, 1);
            return true;
        }
        if (esc)
            run = (int)(esc - chr->in);
    }
    int n = chardev_deliver(chr, chr->in, run);
    if (n == 0)
        return false;
    chardev_input_consume(chr, n);
    return true;
}

void chardev_input_flush(Chardev *chr)
{
    if (chr->flushing)
        return;     /* a receive callback called chardev_accept_input */
    chr->flushing = true;
    while (chardev_input_step(chr)) {
    }
    chr->flushing = false;
    if (chr->be->set_input_polling)
        chr->be->set_input_polling(chr, chr->in_len < CHR_INBUF_SIZE && !chr->input_eof);
}

static atomic_bool accept_scheduled;

/* Walks the list rather than carrying a Chardev pointer, so a chardev freed
 * in between is simply not there any more. */
static void chardev_accept_input_deferred(void *opaque)
{
    atomic_store(&accept_scheduled, false);
    pthread_mutex_lock(&chardev_list_lock);
    Chardev *pending[64];
    int n = 0;
    for (Chardev *c = chardev_list; c && n < (int)ARRAY_SIZE(pending); c = c->next) {
        if (atomic_exchange(&c->accept_pending, false))
            pending[n++] = c;
    }
    pthread_mutex_unlock(&chardev_list_lock);
    for (int i = 0; i < n; i++)
        chardev_input_flush(pending[i]);
}

/* Frontends call this from vCPU threads too: the flush (and any change to
 * the polled fds) happens on the I/O thread. */
void chardev_accept_input(Chardev *chr)
{
    if (!chr)
        return;
    atomic_store(&chr->accept_pending, true);
    if (!atomic_exchange(&accept_scheduled, true))
        main_loop_defer(chardev_accept_input_deferred, NULL);
}

/* ---- terminals --------------------------------------------------------------------- */

void chardev_restore_terminals(void)
{
    chardev_stdio_restore_terminal();
}
