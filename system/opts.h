/* Option strings of the form "value,key=value,key=value" as QEMU's command
 * line uses them (e.g. -drive file=a.img,if=virtio). A bare first item is
 * stored under the implied key given to opts_parse. ",," escapes a comma. */
#ifndef SYSTEM_OPTS_H
#define SYSTEM_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct OptPair {
    char *key, *value;
    bool used;
} OptPair;

typedef struct Opts {
    OptPair *pairs;
    int n;
} Opts;

/* Returns NULL and a message in err on a malformed string. */
Opts *opts_parse(const char *s, const char *implied_key, char *err, size_t errlen);
void opts_free(Opts *o);
/* Lookups mark the key used. */
const char *opts_get(Opts *o, const char *key);
/* Boolean: on/off/yes/no/true/false (a bare key "server" means on). */
bool opts_get_bool(Opts *o, const char *key, bool def, bool *ok);
/* The first key never looked up (an unknown option), or NULL. */
const char *opts_first_unused(const Opts *o);

#endif
