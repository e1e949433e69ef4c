/* The monitor's line editor: the line being typed with a cursor, the usual
 * keys (left/right, Home/End, Delete, Backspace, Ctrl-E/K/U/C), a history
 * walked with up/down, and command-name completion with Tab. Output is plain
 * backspaces and rewrites, which every terminal and telnet client handles. */
#include <stdlib.h>
#include <string.h>

#include "system/mainloop.h"
#include "system/monitor-internal.h"
#include "system/util.h"

static void out(Monitor *mon, const char *s, size_t len)
{
    monitor_write_raw(mon, s, len);
}

static void out_str(Monitor *mon, const char *s)
{
    out(mon, s, strlen(s));
}

static void cursor_left(Monitor *mon, int n)
{
    for (int i = 0; i < n; i++)
        out_str(mon, "\b");
    mon->cursor -= n;
}

/* Redraw from the cursor to the end, blank `extra` stale cells after it,
 * and bring the cursor back. */
static void redraw_tail(Monitor *mon, int extra)
{
    int tail = mon->len - mon->cursor;
    out(mon, mon->line + mon->cursor, (size_t)tail);
    for (int i = 0; i < extra; i++)
        out_str(mon, " ");
    for (int i = 0; i < tail + extra; i++)
        out_str(mon, "\b");
}

static void move_to_end(Monitor *mon)
{
    out(mon, mon->line + mon->cursor, (size_t)(mon->len - mon->cursor));
    mon->cursor = mon->len;
}

/* Replace the whole line (history recall, completion, Ctrl-U). */
static void set_line(Monitor *mon, const char *text)
{
    move_to_end(mon);
    while (mon->len > 0) {
        out_str(mon, "\b \b");
        mon->len--;
    }
    size_t n = MIN(strlen(text), (size_t)MON_LINE_MAX - 1);
    memcpy(mon->line, text, n);
    mon->len = mon->cursor = (int)n;
    out(mon, mon->line, n);
}

static void insert_char(Monitor *mon, char c)
{
    if (mon->len >= MON_LINE_MAX - 1)
        return;
    memmove(mon->line + mon->cursor + 1, mon->line + mon->cursor,
            (size_t)(mon->len - mon->cursor));
    mon->line[mon->cursor] = c;
    mon->len++;
    out(mon, &c, 1);
    mon->cursor++;
    redraw_tail(mon, 0);
}

/* Delete the character under the cursor. */
static void delete_char(Monitor *mon)
{
    if (mon->cursor >= mon->len)
        return;
    memmove(mon->line + mon->cursor, mon->line + mon->cursor + 1,
            (size_t)(mon->len - mon->cursor - 1));
    mon->len--;
    redraw_tail(mon, 1);
}

static void kill_to_end(Monitor *mon)
{
    int gone = mon->len - mon->cursor;
    mon->len = mon->cursor;
    redraw_tail(mon, gone);
}

static void history_add(Monitor *mon, const char *line)
{
    if (!*line)
        return;
    if (mon->nr_history && strcmp(mon->history[mon->nr_history - 1], line) == 0)
        return;
    if (mon->nr_history == MON_HISTORY) {
        free(mon->history[0]);
        memmove(mon->history, mon->history + 1, sizeof(char *) * (MON_HISTORY - 1));
        mon->nr_history--;
    }
    mon->history[mon->nr_history++] = xstrdup(line);
}

static void history_move(Monitor *mon, int delta)
{
    int pos = mon->history_pos + delta;
    if (pos < 0 || pos > mon->nr_history)
        return;
    mon->history_pos = pos;
    set_line(mon, pos == mon->nr_history ? "" : mon->history[pos]);
}

/* Tab: complete the command name when the prefix names exactly one. */
static void complete(Monitor *mon)
{
    mon->line[mon->len] = '\0';
    if (strchr(mon->line, ' ') || mon->cursor != mon->len)
        return;
    const char *match = NULL;
    const MonitorCommand *c;
    for (size_t i = 0; (c = monitor_command_at(i)); i++) {
        if (strncmp(c->name, mon->line, (size_t)mon->len) == 0) {
            if (match)
                return;       /* ambiguous */
            match = c->name;
        }
    }
    if (match) {
        char buf[MON_LINE_MAX];
        snprintf(buf, sizeof(buf), "%s ", match);
        set_line(mon, buf);
    }
}

static void enter(Monitor *mon)
{
    mon->line[mon->len] = '\0';
    out_str(mon, "\n");
    char *line = xstrdup(mon->line);
    mon->len = mon->cursor = 0;
    history_add(mon, line);
    mon->history_pos = mon->nr_history;
    monitor_execute(mon, line);
    free(line);
    if (!main_loop_should_quit())
        monitor_show_prompt(mon);
}

/* The final byte of ESC [ ... or ESC O ...: cursor and editing keys. */
static void escape_final(Monitor *mon, uint8_t c, int param)
{
    switch (c) {
    case 'A': history_move(mon, -1); break;
    case 'B': history_move(mon, 1); break;
    case 'C':
        if (mon->cursor < mon->len) {
            out(mon, mon->line + mon->cursor, 1);
            mon->cursor++;
        }
        break;
    case 'D':
        if (mon->cursor > 0)
            cursor_left(mon, 1);
        break;
    case 'H': cursor_left(mon, mon->cursor); break;
    case 'F': move_to_end(mon); break;
    case '~':                  /* ESC [ n ~: 1/7 Home, 4/8 End, 3 Delete */
        if (param == 1 || param == 7)
            cursor_left(mon, mon->cursor);
        else if (param == 4 || param == 8)
            move_to_end(mon);
        else if (param == 3)
            delete_char(mon);
        break;
    default: break;
    }
}

static void escape_key(Monitor *mon, uint8_t c)
{
    if (mon->esc_state == 1) {
        mon->esc_state = (c == '[' || c == 'O') ? 2 : 0;
        mon->esc_param = 0;
        return;
    }
    if (c >= '0' && c <= '9') {
        mon->esc_param = MIN(mon->esc_param * 10 + (c - '0'), 1000);
        return;
    }
    if (c == ';')
        return;                /* modifiers: ignored */
    mon->esc_state = 0;
    escape_final(mon, c, mon->esc_param);
}

void monitor_readline_key(Monitor *mon, uint8_t c)
{
    bool was_cr = mon->last_was_cr;
    mon->last_was_cr = c == '\r';
    if (mon->esc_state) {
        escape_key(mon, c);
        return;
    }
    switch (c) {
    case '\n':
        if (was_cr)
            return;            /* CR LF from a telnet-ish client: one Enter */
        /* fall through */
    case '\r':
        enter(mon);
        return;
    case 0x7f:
    case '\b':
        if (mon->cursor > 0) {
            cursor_left(mon, 1);
            delete_char(mon);
        }
        return;
    case 0x05:                 /* Ctrl-E: end of line */
        move_to_end(mon);
        return;
    case 0x0b:                 /* Ctrl-K: kill to the end */
        kill_to_end(mon);
        return;
    case 0x15:                 /* Ctrl-U: erase the line */
        set_line(mon, "");
        return;
    case 0x03:                 /* Ctrl-C: abandon the line */
        mon->len = mon->cursor = 0;
        out_str(mon, "\n");
        monitor_show_prompt(mon);
        return;
    case 0x1b:
        mon->esc_state = 1;
        return;
    case '\t':
        complete(mon);
        return;
    default:
        if (c >= 0x20 && c < 0x7f)
            insert_char(mon, (char)c);
        return;
    }
}

void monitor_readline_free(Monitor *mon)
{
    for (int i = 0; i < mon->nr_history; i++)
        free(mon->history[i]);
    mon->nr_history = 0;
}
