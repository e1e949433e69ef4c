/* Inside the monitor: the Monitor object and the command tables shared by
 * system/monitor.c (terminal, line editing, dispatch) and
 * system/monitor-cmds.c (what the commands do). */
#ifndef SYSTEM_MONITOR_INTERNAL_H
#define SYSTEM_MONITOR_INTERNAL_H

#include "system/monitor.h"

#define MON_LINE_MAX 512
#define MON_HISTORY 32

struct Monitor {
    Chardev *chr;
    bool banner_done;
    char line[MON_LINE_MAX];
    int len;
    int cursor;                  /* 0..len */
    bool last_was_cr;
    int esc_state;               /* 0, 1 after ESC, 2 after ESC [ or ESC O */
    int esc_param;               /* the number in ESC [ n ~ */
    char *history[MON_HISTORY];
    int nr_history;
    int history_pos;             /* nr_history: editing a new line */
    int cpu_index;               /* "cpu N": the CPU that x, info registers use first */
};

/* A command writes its output to `out` (gathered and sent to the terminal
 * when it returns); args is the rest of the line, spaces trimmed. */
typedef MonitorCommandFn MonitorCmdFn;

typedef struct MonitorCommand {
    const char *name;
    const char *alias;           /* or NULL */
    const char *args;            /* for help, or "" */
    const char *help;
    MonitorCmdFn fn;
    /* Reads vCPU state: run with the vCPUs parked (briefly, when running),
     * so that accelerators such as KVM have handed back their registers. */
    bool reads_cpu_state;
} MonitorCommand;

/* The i-th command, built-in ones first, then registered ones; NULL past
 * the end. */
const MonitorCommand *monitor_command_at(size_t i);

/* Look a command up by name or alias. */
const MonitorCommand *monitor_find_command(const char *name, size_t len);
/* The terminal side (monitor.c) and the line editor (monitor-readline.c). */
void monitor_write_raw(Monitor *mon, const char *s, size_t len);
void monitor_show_prompt(Monitor *mon);
void monitor_readline_key(Monitor *mon, uint8_t c);
void monitor_readline_free(Monitor *mon);

/* Run one command line, output into out (monitor_execute, gdb's qRcmd). */
void monitor_run_command(Monitor *mon, FILE *out, const char *line);
/* Park running vCPUs to read their state (true: they were running, call
 * monitor_resume_after_state when done). */
bool monitor_pause_for_state(void);
void monitor_resume_after_state(void);
/* "info tlb" / "info mem" (system/monitor-paging.c). */
void monitor_info_tlb(Monitor *mon, FILE *out);
void monitor_info_mem(Monitor *mon, FILE *out);
/* "help" text, also used for unknown commands. */
void monitor_print_help(FILE *out, const char *topic);

#endif
