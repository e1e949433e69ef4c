/* Inside the chardev layer: the Chardev object shared by the core
 * (system/chardev.c) and the backends (system/chardev-*.c), and the entry
 * points tests use to build chardevs on fds of their choosing.
 *
 * Data flow. Output: chardev_write takes chr->write_lock and calls the
 * backend's write. Input: a backend reads its fd from the main loop into
 * chr->in (never more than fits), then chardev_input_flush hands bytes to the
 * focused frontend as far as its can_receive allows; the Ctrl-A escape is
 * interpreted at delivery time, so bytes typed before a focus switch still
 * go to the frontend that had the focus. While chr->in is full the backend's
 * fd is not polled; chardev_accept_input re-offers the bytes and resumes. */
#ifndef SYSTEM_CHARDEV_INTERNAL_H
#define SYSTEM_CHARDEV_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "system/chardev.h"

#define CHR_MAX_FRONTENDS 4
#define CHR_INBUF_SIZE 4096
#define CHR_ESCAPE_CHAR 0x01   /* Ctrl-A */

typedef struct ChardevBackend {
    const char *name;          /* for messages and "info chardev" */
    /* Write bytes (write_lock held); returns how many were taken. */
    int (*write)(Chardev *chr, const uint8_t *buf, int len);
    /* Start or stop watching the input fd (main-loop thread). */
    void (*set_input_polling)(Chardev *chr, bool on);
    /* Release the backend state. */
    void (*close)(Chardev *chr);
    /* One line of details for "info chardev" (e.g. "connected to ..."). */
    void (*describe)(Chardev *chr, char *buf, size_t len);
} ChardevBackend;

struct Chardev {
    char *spec;
    const ChardevBackend *be;
    void *state;                 /* the backend's */
    int refcount;
    pthread_mutex_t write_lock;

    ChardevFrontend fe[CHR_MAX_FRONTENDS];
    bool fe_is_auto_monitor[CHR_MAX_FRONTENDS];
    int nr_fe;
    int focus;
    bool escapes;                /* interpret Ctrl-A (stdio) */
    bool escape_pending;         /* saw Ctrl-A, waiting for the command key */
    bool timestamps;             /* Ctrl-A t: "[hh:mm:ss.mmm] " before each line */
    bool at_line_start;
    int64_t timestamps_start_ms;
    bool want_monitor;           /* "mon:" prefix: a monitor shares this chardev */
    struct Monitor *auto_monitor; /* the monitor "mon:" created, owned here */

    uint8_t in[CHR_INBUF_SIZE];  /* input not yet delivered */
    int in_len;
    bool input_eof;
    bool connected;              /* a socket has its client (frontends attached
                                    later still get CHR_EVENT_OPENED) */
    bool flushing;               /* guards re-entry from receive callbacks */
    atomic_bool accept_pending;  /* a deferred flush is queued */

    char *label;                 /* -chardev id, or NULL */
    int log_fd;                  /* logfile=: a copy of all output, or -1 */

    Chardev *next;               /* all open chardevs */
};

/* ---- core services for backends ---- */
Chardev *chardev_alloc(const char *spec, const ChardevBackend *be, void *state);
/* Room left in the input buffer: read at most this many bytes. */
int chardev_input_room(const Chardev *chr);
/* Append bytes read from the backend and deliver what the frontend takes. */
void chardev_input_push(Chardev *chr, const uint8_t *buf, int len);
void chardev_input_flush(Chardev *chr);
/* Read what fits from a backend's input fd and deliver it. With eof_ends_input,
 * end of file or a hard error marks the input finished (chr->input_eof). */
void chardev_read_fd(Chardev *chr, int fd, bool eof_ends_input);
/* Start or stop polling a backend's input fd; *polling tracks the state. */
void chardev_poll_fd(Chardev *chr, int fd, bool *polling, bool on, void (*ready)(void *, int, short));
/* Tell every frontend (opened/closed: all of them; break: the focused one). */
void chardev_send_event(Chardev *chr, int event);
void chardev_send_event_focused(Chardev *chr, int event);
/* Write with the lock, skipping nothing: used for Ctrl-A help and messages. */
void chardev_write_str(Chardev *chr, const char *s);
/* Attach a frontend that does not take the focus from frontends attached later
 * (the monitor that "mon:" creates). */
void chardev_attach_background(Chardev *chr, const ChardevFrontend *fe);
/* Switch the mux focus to the next frontend (Ctrl-A c). */
void chardev_mux_switch(Chardev *chr);
/* First chardev in the list of open ones (for "info chardev"). */
Chardev *chardev_first(void);
/* Put the terminal back as it was (async-signal-safe). */
void chardev_stdio_restore_terminal(void);
/* Cooked (true) or raw again (false) around a blocking start-up wait. */
void chardev_stdio_suspend_raw(bool suspend);

/* ---- telnet (system/chardev-telnet.c) ---- */
typedef struct TelnetFilter {
    int state;
    bool last_cr;
} TelnetFilter;
extern const uint8_t telnet_greeting[12];
/* Strip telnet commands from buf in place; returns the new length. *brk is
 * set when the client sent a break. */
int telnet_filter_input(TelnetFilter *t, uint8_t *buf, int len, bool *brk);
/* Double 0xff bytes; out holds 2 * len bytes. Returns the length. */
int telnet_escape_output(const uint8_t *in, int len, uint8_t *out);

/* ---- backend constructors: args is the spec after "name:" ---- */
/* keep_signals: leave ISIG on (Ctrl-C kills Kestrel), as -chardev stdio,signal=on */
Chardev *chardev_stdio_open(const char *spec, bool keep_signals, char *err, size_t errlen);
Chardev *chardev_file_open(const char *spec, const char *path, bool append,
                           char *err, size_t errlen);
Chardev *chardev_null_open(const char *spec, char *err, size_t errlen);
Chardev *chardev_socket_open(const char *spec, const char *args, bool is_unix, bool telnet,
                             char *err, size_t errlen);
Chardev *chardev_pty_open(const char *spec, char *err, size_t errlen);
Chardev *chardev_pipe_open(const char *spec, const char *path, char *err, size_t errlen);

/* ---- named chardevs (system/chardev-named.c) ---- */
/* The chardev added with -chardev ...,id=ID (a new reference), or NULL. */
Chardev *chardev_named_get(const char *id);
void chardev_named_forget(Chardev *chr);

/* ---- for tests ---- */
/* A stdio-like chardev (Ctrl-A escapes, mux) on the given fds; never touches
 * the terminal settings. */
Chardev *chardev_stdio_new_fds(int in_fd, int out_fd, bool mux);
/* The local port of a tcp chardev in server mode (after tcp:HOST:0), or -1. */
int chardev_socket_port(const Chardev *chr);
/* Whether a socket chardev has a client now. */
bool chardev_socket_connected(const Chardev *chr);

#endif
