/* The stdio chardev: the terminal Kestrel runs in, with the Ctrl-A escape.
 *
 * There is one terminal, so "stdio" is one shared Chardev: opening it again
 * (e.g. -serial stdio -monitor stdio, or mon:stdio) returns the same object,
 * and its frontends share it through the mux (Ctrl-A c).
 *
 * When stdin is a terminal it goes into raw mode (no echo, no line editing,
 * no signal keys: Ctrl-C goes to the guest, Ctrl-A x quits), restored at exit
 * and on SIGINT/SIGTERM/SIGHUP. When it is not a terminal (tests, pipes) the
 * bytes are simply read. When Kestrel was started in the background of a
 * shell (`kestrel ... &`), the terminal is left alone and not read: touching
 * it would stop the process (SIGTTOU/SIGTTIN); output still appears. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "system/chardev-internal.h"
#include "system/mainloop.h"
#include "system/util.h"

typedef struct StdioState {
    int in_fd, out_fd;
    bool polling;
    bool is_singleton;
} StdioState;

static Chardev *stdio_chr;

/* ---- the terminal ---------------------------------------------------------------- */

static struct termios saved_tty, raw_tty;
static volatile sig_atomic_t tty_saved;
static int tty_fd = -1;

/* Async-signal-safe: only tcsetattr. */
void chardev_stdio_restore_terminal(void)
{
    if (tty_saved)
        tcsetattr(tty_fd, TCSANOW, &saved_tty);
}

static void restore_and_die(int sig)
{
    chardev_stdio_restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Install our handler only where nobody else (e.g. main.c) installed one:
 * theirs then calls chardev_restore_terminals() themselves. */
static void install_restore_handler(int sig)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
        !(old.sa_flags & SA_SIGINFO)) {
        struct sigaction sa = { 0 };
        sa.sa_handler = restore_and_die;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
    }
}

/* Around a blocking wait at start-up (a socket server waiting for its
 * client), the terminal is cooked again so that Ctrl-C interrupts it. */
void chardev_stdio_suspend_raw(bool suspend)
{
    if (tty_saved)
        tcsetattr(tty_fd, TCSANOW, suspend ? &saved_tty : &raw_tty);
}

/* After a stop and continue the shell may have reset the terminal: raw
 * again, when we are in the foreground (a background tcsetattr would stop us). */
static void reapply_raw(int sig)
{
    if (tty_saved && tcgetpgrp(tty_fd) == getpgrp())
        tcsetattr(tty_fd, TCSANOW, &raw_tty);
}

static void stdio_atexit(void)
{
    chardev_stdio_restore_terminal();
}

static void terminal_enter_raw(int fd, bool keep_signals)
{
    struct termios tty;
    if (!isatty(fd) || tcgetattr(fd, &tty) < 0)
        return;
    saved_tty = tty;
    tty_fd = fd;
    tty_saved = 1;
    tty.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    tty.c_oflag |= OPOST;      /* keep "\n" -> "\r\n" for guest and monitor output */
    tty.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN);
    if (!keep_signals)
        tty.c_lflag &= ~(tcflag_t)ISIG;
    tty.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    tty.c_cflag |= CS8;
    tty.c_cc[VMIN] = 1;
    tty.c_cc[VTIME] = 0;
    tcsetattr(fd, TCSANOW, &tty);
    raw_tty = tty;
    static bool hooks_installed;
    if (!hooks_installed) {
        hooks_installed = true;
        atexit(stdio_atexit);
        install_restore_handler(SIGINT);
        install_restore_handler(SIGTERM);
        install_restore_handler(SIGHUP);
        struct sigaction sa = { 0 };
        sa.sa_handler = reapply_raw;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGCONT, &sa, NULL);
    }
}

/* ---- the backend ----------------------------------------------------------------- */

static int stdio_write(Chardev *chr, const uint8_t *buf, int len)
{
    StdioState *s = chr->state;
    /* Blocking: serial output must not be lost on a slow terminal. */
    write_full(s->out_fd, buf, (size_t)len);
    return len;
}

static void stdio_read_ready(void *opaque, int fd, short revents)
{
    /* EOF (e.g. stdin is /dev/null): stop reading, keep writing. */
    chardev_read_fd(opaque, fd, true);
}

static void stdio_set_input_polling(Chardev *chr, bool on)
{
    StdioState *s = chr->state;
    chardev_poll_fd(chr, s->in_fd, &s->polling, on, stdio_read_ready);
}

static void stdio_close(Chardev *chr)
{
    StdioState *s = chr->state;
    stdio_set_input_polling(chr, false);
    if (s->is_singleton) {
        chardev_stdio_restore_terminal();
        tty_saved = 0;
        stdio_chr = NULL;
    }
    free(s);
}

static void stdio_describe(Chardev *chr, char *buf, size_t len)
{
    StdioState *s = chr->state;
    snprintf(buf, len, "stdio (in fd %d%s, out fd %d)", s->in_fd,
             chr->input_eof ? ", at EOF" : "", s->out_fd);
}

static const ChardevBackend stdio_backend = {
    .name = "stdio",
    .write = stdio_write,
    .set_input_polling = stdio_set_input_polling,
    .close = stdio_close,
    .describe = stdio_describe,
};

static Chardev *stdio_create(const char *spec, int in_fd, int out_fd, bool escapes)
{
    StdioState *s = xzalloc(sizeof(*s));
    s->in_fd = in_fd;
    s->out_fd = out_fd;
    Chardev *chr = chardev_alloc(spec, &stdio_backend, s);
    chr->escapes = escapes;
    return chr;
}

Chardev *chardev_stdio_new_fds(int in_fd, int out_fd, bool mux)
{
    return stdio_create("stdio", in_fd, out_fd, mux);
}

/* A terminal whose foreground process group is not ours. */
static bool in_background(int fd)
{
    if (!isatty(fd))
        return false;
    pid_t fg = tcgetpgrp(fd);
    return fg >= 0 && fg != getpgrp();
}

Chardev *chardev_stdio_open(const char *spec, bool keep_signals, char *err, size_t errlen)
{
    if (stdio_chr) {
        stdio_chr->refcount++;
        return stdio_chr;
    }
    bool background = in_background(STDIN_FILENO);
    Chardev *chr = stdio_create(spec, background ? -1 : STDIN_FILENO, STDOUT_FILENO, true);
    ((StdioState *)chr->state)->is_singleton = true;
    if (!background)
        terminal_enter_raw(STDIN_FILENO, keep_signals);
    stdio_chr = chr;
    return chr;
}
