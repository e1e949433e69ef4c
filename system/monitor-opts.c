/* -mon chardev=ID[,mode=readline|control]: a monitor on a named chardev,
 * the human one (readline, the default) or QMP (control). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "system/monitor.h"
#include "system/opts.h"
#include "system/util.h"

int monitor_add_from_opts(const char *optstr, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    Opts *o = opts_parse(optstr, "chardev", err, errlen);
    if (!o)
        return -1;
    const char *id = opts_get(o, "chardev");
    const char *mode = opts_get(o, "mode");
    bool pretty_ok = true;
    opts_get_bool(o, "pretty", false, &pretty_ok);   /* accepted, output stays compact */
    int rc = -1;
    const char *unused = opts_first_unused(o);
    if (!id || !*id) {
        snprintf(err, errlen, "-mon: expected chardev=ID[,mode=readline|control]");
    } else if (mode && strcmp(mode, "readline") != 0 && strcmp(mode, "control") != 0) {
        snprintf(err, errlen, "-mon: mode must be readline or control, not '%s'", mode);
    } else if (unused || !pretty_ok) {
        snprintf(err, errlen, "-mon: unknown or malformed option '%s'", unused ? unused : "pretty");
    } else {
        char *spec = xasprintf("chardev:%s", id);
        Chardev *chr = chardev_new(spec, err, errlen);
        free(spec);
        if (chr) {
            if (mode && strcmp(mode, "control") == 0)
                qmp_monitor_new(chr);
            else
                monitor_new(chr);
            rc = 0;
        }
    }
    opts_free(o);
    return rc;
}
