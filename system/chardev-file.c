/* Output-only chardevs: file:PATH (truncated at open, like QEMU) and null. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "system/chardev-internal.h"
#include "system/util.h"

typedef struct FileState {
    int fd;
    char *path;
} FileState;

static int file_write(Chardev *chr, const uint8_t *buf, int len)
{
    FileState *s = chr->state;
    write_full(s->fd, buf, (size_t)len);
    return len;
}

static void file_close(Chardev *chr)
{
    FileState *s = chr->state;
    close(s->fd);
    free(s->path);
    free(s);
}

static void file_describe(Chardev *chr, char *buf, size_t len)
{
    FileState *s = chr->state;
    snprintf(buf, len, "file %s", s->path);
}

static const ChardevBackend file_backend = {
    .name = "file",
    .write = file_write,
    .close = file_close,
    .describe = file_describe,
};

Chardev *chardev_file_open(const char *spec, const char *path, bool append,
                           char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
    if (fd < 0) {
        snprintf(err, errlen, "chardev '%s': cannot open '%s': %s", spec, path, strerror(errno));
        return NULL;
    }
    FileState *s = xzalloc(sizeof(*s));
    s->fd = fd;
    s->path = xstrdup(path);
    return chardev_alloc(spec, &file_backend, s);
}

static int null_write(Chardev *chr, const uint8_t *buf, int len)
{
    return len;
}

static void null_describe(Chardev *chr, char *buf, size_t len)
{
    snprintf(buf, len, "null");
}

static const ChardevBackend null_backend = {
    .name = "null",
    .write = null_write,
    .describe = null_describe,
};

Chardev *chardev_null_open(const char *spec, char *err, size_t errlen)
{
    return chardev_alloc(spec, &null_backend, NULL);
}
