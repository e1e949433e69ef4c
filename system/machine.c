/* Machine-wide requests (reset, shutdown, debug exit) and reset handlers. */
#include "system/machine.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "system/mainloop.h"

Machine *current_machine;

typedef struct ResetEntry {
    ResetHandler fn;
    void *opaque;
} ResetEntry;

static ResetEntry *reset_handlers;
static int nr_reset_handlers;

static atomic_int reset_requested, shutdown_requested, pause_requested;
static atomic_int shutdown_status;
static atomic_bool a20_enabled = true;

void machine_register_reset(ResetHandler fn, void *opaque)
{
    reset_handlers = xrealloc(reset_handlers, sizeof(*reset_handlers) * (size_t)(nr_reset_handlers + 1));
    reset_handlers[nr_reset_handlers++] = (ResetEntry){ fn, opaque };
}

void machine_run_reset_handlers(void)
{
    for (int i = 0; i < nr_reset_handlers; i++)
        reset_handlers[i].fn(reset_handlers[i].opaque);
}

void machine_request_reset(void)
{
    atomic_store(&reset_requested, 1);
    main_loop_wakeup();
}

void machine_request_shutdown(int exit_status)
{
    if (!atomic_exchange(&shutdown_requested, 1))
        atomic_store(&shutdown_status, exit_status);
    main_loop_wakeup();
}

void machine_request_debug_exit(int exit_status)
{
    machine_request_shutdown(exit_status);
}

void machine_request_pause(void)
{
    atomic_store(&pause_requested, 1);
    main_loop_wakeup();
}

/* Implemented by the board (hw/pc.c): full system reset, run from the main loop. */
void board_reset(Machine *m);
void cpus_pause(Machine *m);
void cpus_resume(Machine *m);

bool machine_handle_requests(int *status)
{
    if (atomic_load(&shutdown_requested)) {
        *status = atomic_load(&shutdown_status);
        return true;
    }
    if (atomic_exchange(&reset_requested, 0)) {
        if (current_machine && current_machine->cfg->no_reboot) {
            *status = 0;
            return true;
        }
        if (current_machine)
            board_reset(current_machine);
    }
    if (atomic_exchange(&pause_requested, 0) && current_machine)
        cpus_pause(current_machine);
    return false;
}

void machine_set_a20(bool enabled)
{
    if (atomic_exchange(&a20_enabled, enabled) == enabled || !current_machine)
        return;
    /* CPUs pick the new mask up through their a20_mask (cpu/x86). */
    void x86_machine_a20_changed(Machine *m, bool enabled) __attribute__((weak));
    if (x86_machine_a20_changed)
        x86_machine_a20_changed(current_machine, enabled);
}

bool machine_a20(void)
{
    return atomic_load(&a20_enabled);
}
