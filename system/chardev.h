/* Character devices: where a serial port or the monitor sends and gets bytes.
 *
 * Specs, as on QEMU's command line (-serial SPEC, -monitor SPEC, -chardev-less):
 *   stdio               the terminal, raw mode, with the Ctrl-A escape
 *                       (Ctrl-A x quit, Ctrl-A c serial/monitor, Ctrl-A h help,
 *                        Ctrl-A Ctrl-A sends one Ctrl-A)
 *   mon:stdio           stdio shared by a serial port and the monitor
 *   file:PATH           output appended... (truncated at open, like QEMU), no input
 *   null                discards output, no input
 *   none                no device at all (chardev_new returns NULL, no error)
 *   unix:PATH[,server][,nowait]   unix socket (server: listen, one client at a time)
 *   tcp:[HOST]:PORT[,server][,nowait]  tcp socket, same rules (",telnet": telnet)
 *   telnet:[HOST]:PORT[,server][,nowait]  tcp socket speaking telnet
 *   pty                 a new pseudo-terminal (its name is printed)
 *   pipe:PATH           named pipes PATH.in and PATH.out, or PATH both ways
 *   chardev:ID          the chardev made by -chardev ...,id=ID (chardev_add)
 * A server without a client discards output. Input is delivered from the main
 * loop to the frontend's receive callback as far as can_receive allows. */
#ifndef SYSTEM_CHARDEV_H
#define SYSTEM_CHARDEV_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct Chardev Chardev;

enum ChardevEvent {
    CHR_EVENT_OPENED,   /* a client connected */
    CHR_EVENT_CLOSED,   /* the client went away / EOF on input */
    CHR_EVENT_BREAK,    /* a break condition (Ctrl-A b on stdio) */
    CHR_EVENT_FOCUS,    /* this frontend got the shared terminal (mux) */
};

typedef struct ChardevFrontend {
    /* How many bytes the frontend can take now (0: try later). */
    int (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, int len);
    void (*event)(void *opaque, int event);
    void *opaque;
} ChardevFrontend;

/* Open a chardev from a spec. On error returns NULL and writes a message into
 * err (which then starts with a non-NUL byte); "none" returns NULL with err "". */
Chardev *chardev_new(const char *spec, char *err, size_t errlen);
void chardev_free(Chardev *chr);

/* -chardev BACKEND,id=ID[,options], as QEMU spells it: a named chardev that
 * the spec "chardev:ID" then names (-serial chardev:ID, -monitor chardev:ID).
 * Backends: null; stdio [signal=on|off]; file path=P [append=on]; pty; pipe path=P;
 * socket path=P | host=H,port=N [server=on] [wait=off] [telnet=on].
 * Any backend: mux=on (the Ctrl-A escape, to share it with the monitor),
 * logfile=P [logappend=on] (a copy of all output). Returns 0, or -1 with a
 * message in err. */
int chardev_add(const char *opts, char *err, size_t errlen);

/* Attach a frontend. A mux chardev (mon:stdio, or stdio used by both a serial
 * port and the monitor) accepts several; the first attached has the focus. */
void chardev_attach(Chardev *chr, const ChardevFrontend *fe);
/* Write bytes; returns how many were taken (output to a missing client is
 * dropped and counts as taken). Safe from any thread. */
int chardev_write(Chardev *chr, const uint8_t *buf, int len);
/* Frontend calls this when it can take input again (after can_receive was 0). */
void chardev_accept_input(Chardev *chr);
const char *chardev_spec(const Chardev *chr);

/* Restore the terminal (called at exit; also from signal-safe paths). */
void chardev_restore_terminals(void);

#endif
