/* The -device registry: a table of the user-creatable device types. */
#include "hw/devices.h"

#include <stdio.h>

extern const DeviceType device_isa_debug_exit;

static const DeviceType *const device_types[] = {
    &device_isa_debug_exit,
};

const DeviceType *device_type_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(device_types); i++)
        if (strcmp(device_types[i]->name, name) == 0)
            return device_types[i];
    return NULL;
}

void device_types_print_help(FILE *f)
{
    fprintf(f, "Available devices (-device NAME,options):\n");
    for (size_t i = 0; i < ARRAY_SIZE(device_types); i++)
        fprintf(f, "  %-18s %s\n", device_types[i]->name, device_types[i]->help);
}

int devices_create_from_config(Machine *m, char *err, size_t errlen)
{
    for (int i = 0; i < m->cfg->nr_devices; i++) {
        Opts *o = m->cfg->devices[i];
        const char *name = opts_get(o, "driver");
        const DeviceType *t = name ? device_type_find(name) : NULL;
        if (!t) {
            snprintf(err, errlen, "-device: unknown device '%s' (try -device help)",
                     name ? name : "");
            return -1;
        }
        if (t->create(m, o, err, errlen) < 0)
            return -1;
        const char *unused = opts_first_unused(o);
        if (unused) {
            snprintf(err, errlen, "-device %s: unknown option '%s'", t->name, unused);
            return -1;
        }
    }
    return 0;
}
