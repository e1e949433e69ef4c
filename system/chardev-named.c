/* Named chardevs: -chardev BACKEND,id=ID,... as QEMU spells it, used later
 * through the spec "chardev:ID". The options are translated into the
 * backends' own specs; logfile= and mux= apply to any backend. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "system/chardev-internal.h"
#include "system/opts.h"
#include "system/util.h"

typedef struct Named {
    char *id;
    Chardev *chr;
} Named;

static Named *named;
static int nr_named;

Chardev *chardev_named_get(const char *id)
{
    for (int i = 0; i < nr_named; i++) {
        if (strcmp(named[i].id, id) == 0) {
            named[i].chr->refcount++;
            return named[i].chr;
        }
    }
    return NULL;
}

void chardev_named_forget(Chardev *chr)
{
    for (int i = 0; i < nr_named; i++) {
        if (named[i].chr == chr) {
            free(named[i].id);
            named[i] = named[--nr_named];
            return;
        }
    }
}

/* on/off option; false (with err) when malformed. */
static bool get_flag(Opts *o, const char *key, bool def, bool *out, char *err, size_t errlen)
{
    bool ok = true;
    *out = opts_get_bool(o, key, def, &ok);
    if (!ok)
        snprintf(err, errlen, "-chardev: '%s' must be on or off", key);
    return ok;
}

static bool has_comma(const char *s, const char *what, char *err, size_t errlen)
{
    if (s && strchr(s, ',')) {
        snprintf(err, errlen, "-chardev: a %s containing ',' is not supported", what);
        return true;
    }
    return false;
}

/* socket: path= (unix) or host=,port= (tcp), with server/wait/telnet. */
static Chardev *open_socket(Opts *o, char *err, size_t errlen)
{
    const char *path = opts_get(o, "path");
    const char *host = opts_get(o, "host"), *port = opts_get(o, "port");
    bool server, wait, telnet;
    opts_get(o, "nodelay");
    if (!get_flag(o, "server", false, &server, err, errlen) ||
        !get_flag(o, "wait", true, &wait, err, errlen) ||
        !get_flag(o, "telnet", false, &telnet, err, errlen) ||
        has_comma(path, "path", err, errlen) || has_comma(host, "host", err, errlen))
        return NULL;
    if (!path && !port) {
        snprintf(err, errlen, "-chardev socket: needs path= (unix) or port= (tcp)");
        return NULL;
    }
    char *spec;
    if (path)
        spec = xasprintf("unix:%s%s%s", path, server ? ",server" : "",
                         server && !wait ? ",nowait" : "");
    else
        spec = xasprintf("tcp:%s%s%s:%s%s%s%s", host && strchr(host, ':') ? "[" : "",
                         host ? host : "", host && strchr(host, ':') ? "]" : "", port,
                         server ? ",server" : "", server && !wait ? ",nowait" : "",
                         telnet ? ",telnet" : "");
    Chardev *chr = chardev_new(spec, err, errlen);
    free(spec);
    return chr;
}

static Chardev *open_backend(const char *backend, Opts *o, char *err, size_t errlen)
{
    if (strcmp(backend, "null") == 0)
        return chardev_null_open("null", err, errlen);
    if (strcmp(backend, "pty") == 0)
        return chardev_pty_open("pty", err, errlen);
    if (strcmp(backend, "stdio") == 0) {
        bool sig;
        if (!get_flag(o, "signal", false, &sig, err, errlen))
            return NULL;
        return chardev_stdio_open("stdio", sig, err, errlen);
    }
    if (strcmp(backend, "file") == 0) {
        const char *path = opts_get(o, "path");
        bool append;
        if (!get_flag(o, "append", false, &append, err, errlen))
            return NULL;
        if (!path) {
            snprintf(err, errlen, "-chardev file: needs path=");
            return NULL;
        }
        char *spec = xasprintf("file:%s", path);
        Chardev *chr = chardev_file_open(spec, path, append, err, errlen);
        free(spec);
        return chr;
    }
    if (strcmp(backend, "socket") == 0)
        return open_socket(o, err, errlen);
    if (strcmp(backend, "pipe") == 0) {
        const char *path = opts_get(o, "path");
        if (!path) {
            snprintf(err, errlen, "-chardev pipe: needs path=");
            return NULL;
        }
        char *spec = xasprintf("pipe:%s", path);
        Chardev *chr = chardev_pipe_open(spec, path, err, errlen);
        free(spec);
        return chr;
    }
    static const char *const later[] = { "udp", "serial", "tty", "parallel", "vc",
                                         "ringbuf", "memory", "spicevmc", "spiceport",
                                         "braille", "msmouse", "testdev", "dbus" };
    for (size_t i = 0; i < ARRAY_SIZE(later); i++) {
        if (strcmp(backend, later[i]) == 0) {
            snprintf(err, errlen, "-chardev %s: this backend is not implemented", backend);
            return NULL;
        }
    }
    snprintf(err, errlen, "-chardev: unknown backend '%s' (null, stdio, file, pty, pipe, socket)",
             backend);
    return NULL;
}

static bool open_logfile(Chardev *chr, Opts *o, char *err, size_t errlen)
{
    const char *log = opts_get(o, "logfile");
    bool append;
    if (!get_flag(o, "logappend", false, &append, err, errlen))
        return false;
    if (!log)
        return true;
    int fd = open(log, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
    if (fd < 0) {
        snprintf(err, errlen, "-chardev: cannot open logfile '%s': %s", log, strerror(errno));
        return false;
    }
    chr->log_fd = fd;
    return true;
}

int chardev_add(const char *optstr, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    Opts *o = opts_parse(optstr, "backend", err, errlen);
    if (!o)
        return -1;
    const char *backend = opts_get(o, "backend");
    const char *id = opts_get(o, "id");
    Chardev *chr = NULL;
    bool mux = false;
    int rc = -1;
    if (!backend || !id || !*id) {
        snprintf(err, errlen, "-chardev: expected BACKEND,id=ID[,options]");
        goto out;
    }
    Chardev *dup = chardev_named_get(id);
    if (dup) {
        dup->refcount--;
        snprintf(err, errlen, "-chardev: duplicate id '%s'", id);
        goto out;
    }
    if (!get_flag(o, "mux", false, &mux, err, errlen))
        goto out;
    chr = open_backend(backend, o, err, errlen);
    if (!chr)
        goto out;
    if (!open_logfile(chr, o, err, errlen))
        goto out;
    const char *unused = opts_first_unused(o);
    if (unused) {
        snprintf(err, errlen, "-chardev %s: unknown option '%s'", backend, unused);
        goto out;
    }
    if (mux)
        chr->escapes = true;
    free(chr->label);
    chr->label = xstrdup(id);
    named = xrealloc(named, sizeof(*named) * (size_t)(nr_named + 1));
    named[nr_named++] = (Named){ xstrdup(id), chr };
    chr = NULL;
    rc = 0;
out:
    if (chr)
        chardev_free(chr);
    opts_free(o);
    return rc;
}
