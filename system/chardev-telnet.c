/* The telnet side of tcp chardevs (telnet:HOST:PORT, or tcp:...,telnet), as
 * RFC 854/857/858 describe it: on connection Kestrel offers to echo and to
 * suppress go-ahead and asks for binary mode, so that a telnet client sends
 * each key at once; in the input, IAC commands and option negotiation are
 * dropped (IAC BRK becomes a break), IAC IAC is a 0xff byte, and the NUL a
 * client sends after CR is removed. In the output a 0xff byte is doubled. */
#include <string.h>

#include "system/chardev-internal.h"

enum {
    TN_SE = 240, TN_BRK = 243, TN_SB = 250, TN_WILL = 251, TN_DONT = 254, TN_IAC = 255,
    TN_OPT_BINARY = 0, TN_OPT_ECHO = 1, TN_OPT_SGA = 3,
    TN_DO = 253,
};

enum { TS_DATA, TS_IAC, TS_OPTION, TS_SUB, TS_SUB_IAC };

const uint8_t telnet_greeting[12] = {
    TN_IAC, TN_WILL, TN_OPT_ECHO,
    TN_IAC, TN_WILL, TN_OPT_SGA,
    TN_IAC, TN_WILL, TN_OPT_BINARY,
    TN_IAC, TN_DO, TN_OPT_BINARY,
};

int telnet_filter_input(TelnetFilter *t, uint8_t *buf, int len, bool *brk)
{
    int out = 0;
    for (int i = 0; i < len; i++) {
        uint8_t c = buf[i];
        switch (t->state) {
        case TS_DATA:
            if (c == TN_IAC) {
                t->state = TS_IAC;
            } else if (!(c == 0 && t->last_cr)) {
                buf[out++] = c;
            }
            t->last_cr = c == '\r';
            break;
        case TS_IAC:
            if (c == TN_IAC) {
                buf[out++] = c;
                t->state = TS_DATA;
            } else if (c >= TN_WILL && c <= TN_DONT) {
                t->state = TS_OPTION;
            } else if (c == TN_SB) {
                t->state = TS_SUB;
            } else {
                if (c == TN_BRK)
                    *brk = true;
                t->state = TS_DATA;
            }
            break;
        case TS_OPTION:
            t->state = TS_DATA;
            break;
        case TS_SUB:
            if (c == TN_IAC)
                t->state = TS_SUB_IAC;
            break;
        case TS_SUB_IAC:
            t->state = c == TN_SE ? TS_DATA : TS_SUB;
            break;
        }
    }
    return out;
}

int telnet_escape_output(const uint8_t *in, int len, uint8_t *out)
{
    int n = 0;
    for (int i = 0; i < len; i++) {
        out[n++] = in[i];
        if (in[i] == TN_IAC)
            out[n++] = TN_IAC;
    }
    return n;
}
