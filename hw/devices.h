/* Devices the user can add with -device NAME,key=value,... */
#ifndef HW_DEVICES_H
#define HW_DEVICES_H

#include "system/machine.h"

typedef struct DeviceType {
    const char *name;
    const char *help;      /* one line: its options */
    /* Create from options; unknown options are reported by the caller. */
    int (*create)(Machine *m, Opts *o, char *err, size_t errlen);
} DeviceType;

/* Find by name; NULL when unknown. */
const DeviceType *device_type_find(const char *name);
void device_types_print_help(FILE *f);
/* Create every -device of the configuration; -1 with a message on error. */
int devices_create_from_config(Machine *m, char *err, size_t errlen);

#endif
