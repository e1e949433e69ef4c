/* TEMPORARY weak fallbacks while system/chardev*.c lands from the chr branch;
 * delete this file then. */
#include <stdio.h>
/* TEMPORARY weak fallbacks for system/chardev*.c (chr branch): output only. */
#include <fcntl.h>
#include <unistd.h>
#include "system/chardev.h"
#include "system/util.h"

struct Chardev { int fd; char *spec; };

__attribute__((weak)) Chardev *chardev_new(const char *spec, char *err, size_t errlen)
{
    int fd = -1;
    err[0] = 0;
    if (!strcmp(spec, "none"))
        return NULL;
    if (!strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio"))
        fd = 1;
    else if (!strncmp(spec, "file:", 5))
        fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    else if (strcmp(spec, "null")) {
        snprintf(err, errlen, "chardev '%s': not supported in this build", spec);
        return NULL;
    }
    Chardev *c = xzalloc(sizeof(*c));
    c->fd = fd;
    c->spec = xstrdup(spec);
    return c;
}
__attribute__((weak)) void chardev_free(Chardev *chr) { }
__attribute__((weak)) void chardev_attach(Chardev *chr, const ChardevFrontend *fe) { }
__attribute__((weak)) int chardev_write(Chardev *chr, const uint8_t *buf, int len)
{
    if (chr->fd >= 0)
        write_full(chr->fd, buf, (size_t)len);
    return len;
}
__attribute__((weak)) void chardev_accept_input(Chardev *chr) { }
__attribute__((weak)) const char *chardev_spec(const Chardev *chr) { return chr->spec; }
__attribute__((weak)) void chardev_restore_terminals(void) { }
