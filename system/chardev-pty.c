/* The pty chardev (-serial pty): a new pseudo-terminal whose slave side
 * (/dev/pts/N, printed at start-up as QEMU does) a terminal program such as
 * `screen /dev/pts/N` opens. Kestrel keeps a slave fd open itself, so the
 * master never reports a hang-up; output is dropped while the pty's buffer is
 * full (nobody reading), so a vCPU never blocks on it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "system/chardev-internal.h"
#include "system/mainloop.h"
#include "system/util.h"

typedef struct PtyState {
    int fd;                  /* master */
    int slave_fd;            /* kept open so the master never sees a hang-up */
    char slave[64];
    bool polling;
} PtyState;

static int pty_write(Chardev *chr, const uint8_t *buf, int len)
{
    PtyState *s = chr->state;
    int done = 0;
    while (done < len) {
        ssize_t n = write(s->fd, buf + done, (size_t)(len - done));
        if (n > 0)
            done += (int)n;
        else if (!(n < 0 && errno == EINTR))
            break;       /* EAGAIN (full) or EIO (no slave): drop */
    }
    return len;
}

static void pty_read_ready(void *opaque, int fd, short revents)
{
    chardev_read_fd(opaque, fd, false);     /* the master never ends */
}

static void pty_set_input_polling(Chardev *chr, bool on)
{
    PtyState *s = chr->state;
    chardev_poll_fd(chr, s->fd, &s->polling, on, pty_read_ready);
}

static void pty_close(Chardev *chr)
{
    PtyState *s = chr->state;
    pty_set_input_polling(chr, false);
    close(s->fd);
    close(s->slave_fd);
    free(s);
}

static void pty_describe(Chardev *chr, char *buf, size_t len)
{
    PtyState *s = chr->state;
    snprintf(buf, len, "pty %s", s->slave);
}

static const ChardevBackend pty_backend = {
    .name = "pty",
    .write = pty_write,
    .set_input_polling = pty_set_input_polling,
    .close = pty_close,
    .describe = pty_describe,
};

Chardev *chardev_pty_open(const char *spec, char *err, size_t errlen)
{
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    const char *name = NULL;
    if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 || !(name = ptsname(fd))) {
        snprintf(err, errlen, "chardev '%s': cannot create a pseudo-terminal: %s", spec,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    int slave_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave_fd < 0) {
        snprintf(err, errlen, "chardev '%s': cannot open %s: %s", spec, name, strerror(errno));
        close(fd);
        return NULL;
    }
    /* Raw: the guest sees exactly the bytes typed. */
    struct termios tty;
    if (tcgetattr(slave_fd, &tty) == 0) {
        cfmakeraw(&tty);
        tcsetattr(slave_fd, TCSANOW, &tty);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    PtyState *s = xzalloc(sizeof(*s));
    s->fd = fd;
    s->slave_fd = slave_fd;
    snprintf(s->slave, sizeof(s->slave), "%s", name);
    error_report("char device redirected to %s", s->slave);
    return chardev_alloc(spec, &pty_backend, s);
}
