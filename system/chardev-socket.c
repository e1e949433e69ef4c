/* Socket chardevs: unix:PATH and tcp:[HOST]:PORT, as client or server.
 *
 * Options after the address (comma-separated, QEMU's spellings):
 *   server, server=on|off   listen instead of connecting
 *   nowait, wait=on|off     (server) do not block at start-up for a client
 *   nodelay                 accepted (TCP_NODELAY is always set)
 *   telnet, telnet=on|off   speak telnet (as the telnet:HOST:PORT spec does),
 *                           see system/chardev-telnet.c
 * A server accepts one client at a time: while one is connected the
 * listening socket is not polled, so a second client waits in the backlog.
 * Output with no client is dropped; output the client does not take fast
 * enough (the socket buffer is full) is dropped too, never blocking a vCPU. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "system/chardev-internal.h"
#include "system/mainloop.h"
#include "system/util.h"

typedef struct SocketState {
    bool is_unix, server, wait, telnet;
    TelnetFilter tn;
    char *host, *port;       /* tcp */
    char *path;              /* unix */
    int listen_fd;           /* server, else -1 */
    int fd;                  /* the connection, -1 when none (write_lock) */
    bool listening_polled, client_polled, input_on;
    bool warned_drop;
    char peer[NI_MAXHOST + NI_MAXSERV + 2];
} SocketState;

/* ---- options --------------------------------------------------------------------- */

static bool parse_onoff(const char *v, bool *out)
{
    static const struct { const char *s; bool v; } words[] = {
        { "on", true }, { "yes", true }, { "true", true },
        { "off", false }, { "no", false }, { "false", false },
    };
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        if (strcmp(v, words[i].s) == 0) {
            *out = words[i].v;
            return true;
        }
    }
    return false;
}

/* Parse "ADDR,opt,opt=val" into s; ADDR is returned in *addr (allocated). */
static bool socket_parse_options(SocketState *s, const char *spec, const char *args,
                                 char **addr, char *err, size_t errlen)
{
    size_t addrlen = strcspn(args, ",");
    *addr = strndup(args, addrlen);
    char *copy = xstrdup(args[addrlen] ? args + addrlen + 1 : "");
    char *save = NULL;
    char *item;
    s->wait = true;
    bool ok = true;
    for (item = strtok_r(copy, ",", &save); ok && item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        const char *val = eq ? eq + 1 : "on";
        if (eq)
            *eq = '\0';
        bool b;
        if (strcmp(item, "nowait") == 0 && !eq) {
            s->wait = false;
        } else if (strcmp(item, "server") == 0 && parse_onoff(val, &b)) {
            s->server = b;
        } else if (strcmp(item, "wait") == 0 && parse_onoff(val, &b)) {
            s->wait = b;
        } else if (strcmp(item, "nodelay") == 0) {
            /* always on */
        } else if (strcmp(item, "telnet") == 0 && parse_onoff(val, &b)) {
            s->telnet = b;
        } else if (strcmp(item, "reconnect") == 0 ||
                   strcmp(item, "tls-creds") == 0 || strcmp(item, "websocket") == 0) {
            snprintf(err, errlen, "chardev '%s': option '%s' is not implemented", spec, item);
            ok = false;
        } else {
            snprintf(err, errlen, "chardev '%s': unknown or malformed option '%s%s%s'", spec,
                     item, eq ? "=" : "", eq ? val : "");
            ok = false;
        }
    }
    free(copy);
    if (!ok) {
        free(*addr);
        *addr = NULL;
    }
    return ok;
}

/* "[HOST]:PORT" or "[v6addr]:PORT" into host (NULL: any/localhost) and port. */
static bool split_host_port(SocketState *s, const char *spec, const char *addr,
                            char *err, size_t errlen)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon[1] == '\0') {
        snprintf(err, errlen, "chardev '%s': expected tcp:[HOST]:PORT", spec);
        return false;
    }
    const char *h = addr;
    size_t hlen = (size_t)(colon - addr);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    s->host = hlen ? strndup(h, hlen) : NULL;
    s->port = xstrdup(colon + 1);
    for (const char *p = s->port; *p; p++) {
        if (*p < '0' || *p > '9') {
            snprintf(err, errlen, "chardev '%s': bad port '%s'", spec, s->port);
            return false;
        }
    }
    return true;
}

/* ---- connection handling --------------------------------------------------------- */

static void socket_listen_ready(void *opaque, int fd, short revents);
static void socket_read_ready(void *opaque, int fd, short revents);

static void socket_update_polling(Chardev *chr)
{
    SocketState *s = chr->state;
    bool want_listen = s->server && s->listen_fd >= 0 && s->fd < 0;
    bool want_client = s->fd >= 0 && s->input_on;
    if (want_listen != s->listening_polled) {
        s->listening_polled = want_listen;
        if (want_listen)
            main_loop_set_fd(s->listen_fd, POLLIN, socket_listen_ready, chr);
        else
            main_loop_remove_fd(s->listen_fd);
    }
    if (s->fd >= 0 && want_client != s->client_polled) {
        s->client_polled = want_client;
        if (want_client)
            main_loop_set_fd(s->fd, POLLIN, socket_read_ready, chr);
        else
            main_loop_remove_fd(s->fd);
    }
}

static void describe_peer(SocketState *s, const struct sockaddr *sa, socklen_t len)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (s->is_unix) {
        snprintf(s->peer, sizeof(s->peer), "%s", s->path);
    } else if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                           NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        snprintf(s->peer, sizeof(s->peer), "%s:%s", host, serv);
    } else {
        snprintf(s->peer, sizeof(s->peer), "?");
    }
}

static void socket_set_connection(Chardev *chr, int fd)
{
    SocketState *s = chr->state;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (!s->is_unix) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    pthread_mutex_lock(&chr->write_lock);
    if (s->telnet)       /* before any output can reach the client */
        send(fd, telnet_greeting, sizeof(telnet_greeting), MSG_NOSIGNAL | MSG_DONTWAIT);
    s->fd = fd;
    s->client_polled = false;
    pthread_mutex_unlock(&chr->write_lock);
    chr->connected = true;
    chr->input_eof = false;
    s->tn = (TelnetFilter){ 0 };
    socket_update_polling(chr);
    chardev_send_event(chr, CHR_EVENT_OPENED);
}

static void socket_disconnect(Chardev *chr)
{
    SocketState *s = chr->state;
    if (s->fd < 0)
        return;
    if (s->client_polled)
        main_loop_remove_fd(s->fd);
    s->client_polled = false;
    pthread_mutex_lock(&chr->write_lock);
    close(s->fd);
    s->fd = -1;
    pthread_mutex_unlock(&chr->write_lock);
    chr->connected = false;
    s->peer[0] = '\0';
    chr->in_len = 0;          /* the old client's unread input goes with it */
    chr->escape_pending = false;
    socket_update_polling(chr);
    chardev_send_event(chr, CHR_EVENT_CLOSED);
}

static int socket_accept(Chardev *chr, bool blocking)
{
    SocketState *s = chr->state;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd;
    do {
        fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR && blocking);
    if (fd >= 0)
        describe_peer(s, (struct sockaddr *)&ss, len);
    return fd;
}

static void socket_listen_ready(void *opaque, int fd, short revents)
{
    Chardev *chr = opaque;
    SocketState *s = chr->state;
    if (s->fd >= 0)
        return;
    int cfd = socket_accept(chr, false);
    if (cfd >= 0)
        socket_set_connection(chr, cfd);
}

static void socket_read_ready(void *opaque, int fd, short revents)
{
    Chardev *chr = opaque;
    uint8_t buf[CHR_INBUF_SIZE];
    int room = chardev_input_room(chr);
    if (room <= 0)
        return;
    ssize_t n = recv(fd, buf, (size_t)room, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        socket_disconnect(chr);
        return;
    }
    SocketState *s = chr->state;
    bool brk = false;
    if (s->telnet)
        n = telnet_filter_input(&s->tn, buf, (int)n, &brk);
    chardev_input_push(chr, buf, (int)n);
    if (brk)
        chardev_send_event_focused(chr, CHR_EVENT_BREAK);
}

/* ---- backend ops ----------------------------------------------------------------- */

static int socket_send_all(Chardev *chr, const uint8_t *buf, int len);

static int socket_write(Chardev *chr, const uint8_t *buf, int len)
{
    SocketState *s = chr->state;
    if (s->telnet && memchr(buf, 0xff, (size_t)len)) {
        uint8_t *esc = xmalloc((size_t)len * 2);
        socket_send_all(chr, esc, telnet_escape_output(buf, len, esc));
        free(esc);
        return len;
    }
    return socket_send_all(chr, buf, len);
}

/* Send what the socket takes now; the rest is dropped. */
static int socket_send_all(Chardev *chr, const uint8_t *buf, int len)
{
    SocketState *s = chr->state;
    int done = 0;
    while (s->fd >= 0 && done < len) {
        ssize_t n = send(s->fd, buf + done, (size_t)(len - done), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            done += (int)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !s->warned_drop) {
                s->warned_drop = true;
                error_report("chardev '%s': client reads too slowly, dropping output",
                             chr->spec);
            }
            /* Errors (client gone) are noticed by the read side. */
            break;
        }
    }
    return len;
}

static void socket_set_input_polling(Chardev *chr, bool on)
{
    SocketState *s = chr->state;
    s->input_on = on;
    socket_update_polling(chr);
}

static void socket_close(Chardev *chr)
{
    SocketState *s = chr->state;
    if (s->client_polled)
        main_loop_remove_fd(s->fd);
    if (s->listening_polled)
        main_loop_remove_fd(s->listen_fd);
    if (s->fd >= 0)
        close(s->fd);
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        if (s->is_unix)
            unlink(s->path);
    }
    free(s->host);
    free(s->port);
    free(s->path);
    free(s);
}

static void socket_describe(Chardev *chr, char *buf, size_t len)
{
    SocketState *s = chr->state;
    const char *what = s->is_unix ? "unix" : "tcp";
    if (s->fd >= 0)
        snprintf(buf, len, "%s %s, connected to %s", what, s->server ? "server" : "client",
                 s->peer);
    else
        snprintf(buf, len, "%s %s, %s", what, s->server ? "server" : "client",
                 s->server ? "waiting for a client" : "disconnected");
}

static const ChardevBackend socket_backend = {
    .name = "socket",
    .write = socket_write,
    .set_input_polling = socket_set_input_polling,
    .close = socket_close,
    .describe = socket_describe,
};

/* ---- opening --------------------------------------------------------------------- */

static int unix_open(SocketState *s, const char *spec, char *err, size_t errlen)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (!*s->path || strlen(s->path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "chardev '%s': bad unix socket path (empty or longer than %zu)",
                 spec, sizeof(sun.sun_path) - 1);
        return -1;
    }
    memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "chardev '%s': socket: %s", spec, strerror(errno));
        return -1;
    }
    if (s->server) {
        struct stat st;
        if (stat(s->path, &st) == 0 && S_ISSOCK(st.st_mode))
            unlink(s->path);     /* a stale socket from an earlier run */
        if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 1) < 0) {
            snprintf(err, errlen, "chardev '%s': cannot listen on %s: %s", spec, s->path,
                     strerror(errno));
            close(fd);
            return -1;
        }
    } else if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        snprintf(err, errlen, "chardev '%s': cannot connect to %s: %s", spec, s->path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int tcp_open(SocketState *s, const char *spec, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
    struct addrinfo *res;
    if (s->server)
        hints.ai_flags = AI_PASSIVE;
    const char *host = s->host ? s->host : (s->server ? NULL : "localhost");
    int rc = getaddrinfo(host, s->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "chardev '%s': cannot resolve '%s': %s", spec,
                 host ? host : "", gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved_errno = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved_errno = errno;
            continue;
        }
        if (s->server) {
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0)
                break;
        } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            describe_peer(s, ai->ai_addr, ai->ai_addrlen);
            break;
        }
        saved_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "chardev '%s': cannot %s %s:%s: %s", spec,
                 s->server ? "listen on" : "connect to", host ? host : "*", s->port,
                 strerror(saved_errno));
    return fd;
}

Chardev *chardev_socket_open(const char *spec, const char *args, bool is_unix, bool telnet,
                             char *err, size_t errlen)
{
    SocketState *s = xzalloc(sizeof(*s));
    s->is_unix = is_unix;
    s->telnet = telnet;
    s->fd = s->listen_fd = -1;
    char *addr = NULL;
    int fd = -1;
    bool ok = socket_parse_options(s, spec, args, &addr, err, errlen);
    if (ok && is_unix)
        s->path = xstrdup(addr);
    else if (ok)
        ok = split_host_port(s, spec, addr, err, errlen);
    free(addr);
    if (ok)
        fd = is_unix ? unix_open(s, spec, err, errlen) : tcp_open(s, spec, err, errlen);
    if (fd < 0) {
        free(s->host);
        free(s->port);
        free(s->path);
        free(s);
        return NULL;
    }
    Chardev *chr = chardev_alloc(spec, &socket_backend, s);
    /* Input is polled once a frontend is attached (chardev_attach). */
    if (!s->server) {
        socket_set_connection(chr, fd);
        return chr;
    }
    s->listen_fd = fd;
    if (s->wait) {
        /* Like QEMU: block until the first client (e.g. a debugger) is there. */
        error_report("waiting for connection on %s", spec);
        chardev_stdio_suspend_raw(true);
        int cfd = socket_accept(chr, true);
        chardev_stdio_suspend_raw(false);
        if (cfd < 0) {
            snprintf(err, errlen, "chardev '%s': accept: %s", spec, strerror(errno));
            chardev_free(chr);
            return NULL;
        }
        socket_set_connection(chr, cfd);
    }
    fcntl(s->listen_fd, F_SETFL, fcntl(s->listen_fd, F_GETFL) | O_NONBLOCK);
    socket_update_polling(chr);
    return chr;
}

int chardev_socket_port(const Chardev *chr)
{
    if (!chr || chr->be != &socket_backend)
        return -1;
    SocketState *s = chr->state;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (s->is_unix || s->listen_fd < 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

bool chardev_socket_connected(const Chardev *chr)
{
    return chr && chr->be == &socket_backend && ((SocketState *)chr->state)->fd >= 0;
}
