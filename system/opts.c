/* "implied,key=value,key=value" option strings. */
#include "system/opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include "system/util.h"

/* Copy one item up to an unescaped comma (",," is a literal comma). */
static const char *take_item(const char *s, char **out)
{
    size_t cap = strlen(s) + 1, n = 0;
    char *buf = xmalloc(cap);
    while (*s) {
        if (*s == ',') {
            if (s[1] == ',') {
                buf[n++] = ',';
                s += 2;
                continue;
            }
            break;
        }
        buf[n++] = *s++;
    }
    buf[n] = 0;
    *out = buf;
    return s;
}

static void add_pair(Opts *o, char *key, char *value)
{
    o->pairs = xrealloc(o->pairs, sizeof(*o->pairs) * (size_t)(o->n + 1));
    o->pairs[o->n++] = (OptPair){ key, value, false };
}

Opts *opts_parse(const char *s, const char *implied_key, char *err, size_t errlen)
{
    Opts *o = xzalloc(sizeof(*o));
    bool first = true;
    if (!s)
        s = "";
    while (*s) {
        char *item;
        s = take_item(s, &item);
        if (*s == ',')
            s++;
        char *eq = strchr(item, '=');
        if (eq) {
            *eq = 0;
            if (!*item) {
                snprintf(err, errlen, "empty option name before '='");
                free(item);
                opts_free(o);
                return NULL;
            }
            add_pair(o, item, xstrdup(eq + 1));
        } else if (first && implied_key) {
            add_pair(o, xstrdup(implied_key), item);
        } else if (*item) {
            add_pair(o, item, NULL);     /* bare flag such as "server" */
        } else {
            free(item);
        }
        first = false;
    }
    return o;
}

void opts_free(Opts *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->n; i++) {
        free(o->pairs[i].key);
        free(o->pairs[i].value);
    }
    free(o->pairs);
    free(o);
}

static OptPair *find(Opts *o, const char *key)
{
    OptPair *found = NULL;
    for (int i = 0; i < o->n; i++) {
        if (strcmp(o->pairs[i].key, key) == 0) {
            o->pairs[i].used = true;
            found = &o->pairs[i];   /* the last one wins, as on QEMU's command line */
        }
    }
    return found;
}

const char *opts_get(Opts *o, const char *key)
{
    OptPair *p = o ? find(o, key) : NULL;
    if (!p)
        return NULL;
    return p->value ? p->value : "on";
}

bool opts_get_bool(Opts *o, const char *key, bool def, bool *ok)
{
    const char *v = opts_get(o, key);
    if (!v)
        return def;
    static const char *yes[] = { "on", "yes", "true", "1" }, *no[] = { "off", "no", "false", "0" };
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return true;
        if (strcasecmp(v, no[i]) == 0)
            return false;
    }
    if (ok)
        *ok = false;
    return def;
}

const char *opts_first_unused(const Opts *o)
{
    for (int i = 0; o && i < o->n; i++)
        if (!o->pairs[i].used)
            return o->pairs[i].key;
    return NULL;
}
