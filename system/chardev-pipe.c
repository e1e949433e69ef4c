/* The pipe chardev: pipe:PATH uses the named pipes PATH.in (read by
 * Kestrel) and PATH.out (written by it) when both exist, else PATH itself for
 * both directions, as QEMU's pipe backend does. Writes block, like a file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "system/chardev-internal.h"
#include "system/mainloop.h"
#include "system/util.h"

typedef struct PipeState {
    int in_fd, out_fd;
    bool polling;
    char *path;
} PipeState;

static int pipe_write(Chardev *chr, const uint8_t *buf, int len)
{
    PipeState *s = chr->state;
    write_full(s->out_fd, buf, (size_t)len);
    return len;
}

static void pipe_read_ready(void *opaque, int fd, short revents)
{
    chardev_read_fd(opaque, fd, true);      /* EOF: the writer went away */
}

static void pipe_set_input_polling(Chardev *chr, bool on)
{
    PipeState *s = chr->state;
    chardev_poll_fd(chr, s->in_fd, &s->polling, on, pipe_read_ready);
}

static void pipe_close(Chardev *chr)
{
    PipeState *s = chr->state;
    pipe_set_input_polling(chr, false);
    if (s->out_fd != s->in_fd)
        close(s->out_fd);
    close(s->in_fd);
    free(s->path);
    free(s);
}

static void pipe_describe(Chardev *chr, char *buf, size_t len)
{
    PipeState *s = chr->state;
    snprintf(buf, len, "pipe %s", s->path);
}

static const ChardevBackend pipe_backend = {
    .name = "pipe",
    .write = pipe_write,
    .set_input_polling = pipe_set_input_polling,
    .close = pipe_close,
    .describe = pipe_describe,
};

Chardev *chardev_pipe_open(const char *spec, const char *path, char *err, size_t errlen)
{
    char *in_path = xasprintf("%s.in", path), *out_path = xasprintf("%s.out", path);
    int in_fd = -1, out_fd = -1;
    if (access(in_path, F_OK) == 0 && access(out_path, F_OK) == 0) {
        /* O_RDWR on a FIFO never blocks at open and keeps it alive without a peer */
        in_fd = open(in_path, O_RDWR | O_CLOEXEC);
        out_fd = open(out_path, O_RDWR | O_CLOEXEC);
    } else {
        in_fd = out_fd = open(path, O_RDWR | O_CLOEXEC);
    }
    free(in_path);
    free(out_path);
    if (in_fd < 0 || out_fd < 0) {
        snprintf(err, errlen, "chardev '%s': cannot open '%s' (or '%s.in' and '%s.out'): %s",
                 spec, path, path, path, strerror(errno));
        if (in_fd >= 0)
            close(in_fd);
        if (out_fd >= 0 && out_fd != in_fd)
            close(out_fd);
        return NULL;
    }
    PipeState *s = xzalloc(sizeof(*s));
    s->in_fd = in_fd;
    s->out_fd = out_fd;
    s->path = xstrdup(path);
    return chardev_alloc(spec, &pipe_backend, s);
}
