/* kestrel-img: create, inspect, check, convert and modify disk images.
 * The user interface follows qemu-img (and qemu-io for the 'io' command). */
#include "block/block.h"
#include "system/util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "kestrel-img";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ---- help ---- */

static const struct { const char *name, *usage, *help; } cmds[] = {
    { "create", "create [-q] [-f FMT] [-b BACKING [-F BACKING_FMT]] [-o OPTIONS] FILE [SIZE]",
      "Create a new image. SIZE takes K/M/G/T suffixes (binary units); with -b it\n"
      "defaults to the size of the backing file. A relative BACKING is resolved\n"
      "relative to the directory of FILE.\n"
      "  -f FMT          qcow2 (default) or raw\n"
      "  -b BACKING      backing file (qcow2 only)\n"
      "  -F FMT          format of the backing file (probed when omitted)\n"
      "  -o OPTIONS      comma-separated: cluster_size=SIZE (512..2M, default 64K),\n"
      "                  compat=0.10|1.1 (qcow2 version 2 or 3, default 1.1),\n"
      "                  refcount_bits=1|2|4|8|16|32|64 (default 16),\n"
      "                  backing_file=NAME, backing_fmt=FMT, size=SIZE;\n"
      "                  '-o help' lists them\n"
      "  -q              quiet\n" },
    { "info", "info [-f FMT] [--output=human|json] [--backing-chain] FILE",
      "Show the format, virtual size, disk usage, backing file and snapshots.\n" },
    { "check", "check [-q] [-f FMT] [-r leaks|all] [--output=human|json] FILE",
      "Check the consistency of an image (refcounts and tables).\n"
      "  -r leaks        repair leaked clusters; -r all also repairs errors\n"
      "Exit status: 0 no problems, 1 check could not run, 2 corruptions found,\n"
      "3 only leaks found, 63 format without checks (raw).\n" },
    { "snapshot", "snapshot [-q] [-f FMT] (-l | -c NAME | -a NAME | -d NAME) FILE",
      "List (-l), create (-c), apply (-a, revert the disk to) or delete (-d)\n"
      "internal snapshots (qcow2).\n" },
    { "convert", "convert [-q] [-p] [-c] [-f FMT] [-O OUTPUT_FMT] [-o OPTIONS] SRC DST",
      "Copy SRC (with its whole backing chain) into a new image DST.\n"
      "  -O FMT          output format: raw (default) or qcow2\n"
      "  -c              compress the output (qcow2, zlib, like qemu-img -c)\n"
      "  -o OPTIONS      as for create (cluster_size, compat, refcount_bits)\n"
      "  -p              accepted for compatibility (no progress display)\n" },
    { "resize", "resize [-q] [-f FMT] [--shrink] FILE [+|-]SIZE",
      "Change the virtual size. Raw images can shrink (with --shrink);\n"
      "qcow2 images can only grow.\n" },
    { "commit", "commit [-q] [-f FMT] [-d] FILE",
      "Write the data of the overlay FILE into its backing file, then empty\n"
      "FILE (unless -d).\n" },
    { "map", "map [-f FMT] [--output=human|json] FILE",
      "Show where the data of each range of the virtual disk lives.\n" },
    { "compare", "compare [-q] [-s] [-f FMT] [-F FMT] FILE1 FILE2",
      "Compare the contents of two images (with their backing chains).\n"
      "Without -s a size difference is fine if the extra part reads as zero.\n"
      "Exit status: 0 identical, 1 different, 2 error.\n" },
    { "io", "io [-f FMT] [-r] [-s] FILE -c COMMAND [-c COMMAND...]",
      "Run I/O commands on an image (like qemu-io). Offsets and lengths take\n"
      "size suffixes. Commands:\n"
      "  read [-P PAT] OFF LEN       read; with -P verify every byte is PAT\n"
      "  write [-P PAT] [-z] [-c] OFF LEN\n"
      "                              write PAT (default 0xcd); -z writes zeroes,\n"
      "                              -c compressed (whole clusters)\n"
      "  discard OFF LEN             discard (whole clusters)\n"
      "  flush                       write back metadata and fdatasync\n"
      "  randwrite [-q QD] SEED COUNT FLUSH_EVERY [MAXLEN]\n"
      "                              COUNT (0 = forever) random writes, write-zeroes\n"
      "                              and discards (2M-aligned); after every FLUSH_EVERY requests\n"
      "                              flush and print 'flushed N' (N requests done);\n"
      "                              -q QD: QD requests in flight at once (async API)\n"
      "  randverify [-q QD] SEED FLUSH_EVERY N BASE\n"
      "                              check that the image holds the first N requests\n"
      "                              of 'randwrite SEED' applied on top of BASE (a raw\n"
      "                              file, or '-' for zeroes); the following\n"
      "                              FLUSH_EVERY requests may or may not have landed\n"
      "  -r opens read-only, -s opens in snapshot mode (writes are thrown away).\n" },
};

static void usage_all(FILE *f)
{
    fprintf(f, "kestrel-img " KESTREL_VERSION " - disk image utility\n\n"
               "usage: kestrel-img COMMAND [options]\n\nCommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
        fprintf(f, "  %s\n", cmds[i].usage);
    fprintf(f, "\n'kestrel-img COMMAND --help' describes a command.\n"
               "Formats: qcow2 (v2 and v3; backing files, compression, internal snapshots), raw.\n"
               "-f FMT may be omitted everywhere: the format is probed.\n");
}

static void usage_cmd(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
        if (!strcmp(cmds[i].name, name)) {
            printf("usage: kestrel-img %s\n\n%s", cmds[i].usage, cmds[i].help);
            exit(0);
        }
}

static void bad_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void bad_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s %s: ", prog, cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try 'kestrel-img %s --help')\n", cmd);
    exit(1);
}

/* ---- helpers ---- */

static uint64_t parse_size_arg(const char *cmd, const char *what, const char *s)
{
    uint64_t v;
    if (!parse_size(s, 1, &v))
        bad_usage(cmd, "invalid %s '%s'", what, s);
    return v;
}

static BlockDev *open_img(const char *file, const char *fmt, int flags)
{
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(file, fmt, flags, err, sizeof(err));
    if (!bs)
        die("%s", err);
    return bs;
}

static void size_str(char *buf, size_t n, uint64_t v)
{
    static const char *suf[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int i = 0;
    double d = (double)v;
    while (d >= 1024 && i < 6) {
        d /= 1024;
        i++;
    }
    snprintf(buf, n, "%0.3g %s", d, suf[i]);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

typedef struct CreateOpts {
    BlockCreateOpts o;
    char compat[16];
} CreateOpts;

static void parse_o(const char *cmd, const char *arg, BlockCreateOpts *o)
{
    if (!strcmp(arg, "help") || !strcmp(arg, "?")) {
        printf("Supported options:\n"
               "  cluster_size=SIZE     qcow2 cluster size (512..2M, default 64K)\n"
               "  compat=0.10|1.1       qcow2 version 2 or 3 (default 1.1)\n"
               "  refcount_bits=N       1, 2, 4, 8, 16 (default), 32 or 64\n"
               "  backing_file=NAME     backing file\n"
               "  backing_fmt=FMT       backing file format\n"
               "  size=SIZE             virtual size\n");
        exit(0);
    }
    char *dup = xstrdup(arg), *save = NULL;
    for (char *kv = strtok_r(dup, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            bad_usage(cmd, "invalid option '%s' (expected NAME=VALUE)", kv);
        *eq = 0;
        const char *v = eq + 1;
        if (!strcmp(kv, "cluster_size")) {
            o->cluster_size = (uint32_t)parse_size_arg(cmd, "cluster size", v);
        } else if (!strcmp(kv, "compat")) {
            if (!strcmp(v, "0.10") || !strcmp(v, "v2"))
                o->qcow2_version = 2;
            else if (!strcmp(v, "1.1") || !strcmp(v, "v3"))
                o->qcow2_version = 3;
            else
                bad_usage(cmd, "invalid compat value '%s' (0.10 or 1.1)", v);
        } else if (!strcmp(kv, "refcount_bits")) {
            uint64_t b;
            if (!parse_u64(v, &b) || b > 64)
                bad_usage(cmd, "invalid refcount_bits '%s'", v);
            o->refcount_bits = (int)b;
        } else if (!strcmp(kv, "backing_file")) {
            o->backing_file = xstrdup(v);
        } else if (!strcmp(kv, "backing_fmt")) {
            o->backing_fmt = xstrdup(v);
        } else if (!strcmp(kv, "size")) {
            o->size = parse_size_arg(cmd, "size", v);
        } else if (!strcmp(kv, "lazy_refcounts")) {
            if (strcmp(v, "off"))
                bad_usage(cmd, "lazy_refcounts are not supported (refcounts are always exact)");
        } else if (!strcmp(kv, "preallocation")) {
            if (strcmp(v, "off"))
                bad_usage(cmd, "preallocation=%s is not supported", v);
        } else {
            bad_usage(cmd, "unknown option '%s' (see -o help)", kv);
        }
    }
    free(dup);
}

static const struct option common_long[] = {
    { "help", no_argument, NULL, 'h' },
    { "output", required_argument, NULL, 'U' },
    { "backing-chain", no_argument, NULL, 'C' },
    { "shrink", no_argument, NULL, 'S' },
    { NULL, 0, NULL, 0 },
};

static int output_json(const char *cmd, const char *v)
{
    if (!strcmp(v, "json"))
        return 1;
    if (!strcmp(v, "human"))
        return 0;
    bad_usage(cmd, "--output must be 'human' or 'json', not '%s'", v);
}

/* ---- create ---- */

static int cmd_create(int argc, char **argv)
{
    BlockCreateOpts o = { .format = "qcow2" };
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:b:F:o:qhu", common_long, NULL)) != -1) {
        switch (c) {
        case 'f': o.format = optarg; break;
        case 'b': o.backing_file = optarg; break;
        case 'F': o.backing_fmt = optarg; break;
        case 'o': parse_o("create", optarg, &o); break;
        case 'q': quiet = true; break;
        case 'u': break;
        case 'h': usage_cmd("create"); break;
        default: bad_usage("create", "invalid option");
        }
    }
    if (optind >= argc)
        bad_usage("create", "missing FILE");
    const char *file = argv[optind++];
    if (optind < argc)
        o.size = parse_size_arg("create", "size", argv[optind++]);
    if (optind < argc)
        bad_usage("create", "unexpected argument '%s'", argv[optind]);
    if (strcmp(o.format, "qcow2") && strcmp(o.format, "raw"))
        bad_usage("create", "unknown format '%s' (qcow2 or raw)", o.format);
    if (!o.size && !o.backing_file)
        bad_usage("create", "missing SIZE");
    if (o.backing_fmt && !o.backing_file)
        bad_usage("create", "-F needs -b");
    char err[BLK_ERR_LEN] = "";
    if (!quiet) {
        printf("Formatting '%s', fmt=%s", file, o.format);
        if (!strcmp(o.format, "qcow2"))
            printf(" cluster_size=%u", o.cluster_size ? o.cluster_size : 65536);
        if (o.backing_file)
            printf(" backing_file=%s", o.backing_file);
        if (o.backing_fmt)
            printf(" backing_fmt=%s", o.backing_fmt);
        if (o.size)
            printf(" size=%" PRIu64, o.size);
        printf("\n");
        fflush(stdout);
    }
    if (blk_create(file, &o, err, sizeof(err)) < 0)
        die("%s", err);
    return 0;
}

/* ---- info ---- */

static void print_snapshot_table(const BlockSnapshotInfo *sn, int n)
{
    printf("Snapshot list:\n");
    printf("%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
    for (int i = 0; i < n; i++) {
        char vs[32], date[64], clock[64];
        size_str(vs, sizeof(vs), sn[i].vm_state_size);
        time_t t = sn[i].date_sec;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
        uint64_t ns = sn[i].vm_clock_nsec;
        snprintf(clock, sizeof(clock), "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64,
                 ns / UINT64_C(3600000000000), (ns / UINT64_C(60000000000)) % 60,
                 (ns / UINT64_C(1000000000)) % 60, (ns / 1000000) % 1000);
        char ic[32] = "";
        if (sn[i].icount != UINT64_MAX)
            snprintf(ic, sizeof(ic), "%" PRIu64, sn[i].icount);
        printf("%-9s %-16s %8s %19s %12s %10s\n", sn[i].id, sn[i].name, vs, date, clock, ic);
    }
}

static void info_one(BlockDev *bs, bool json, bool last)
{
    BlockInfo info;
    if (blk_get_info(bs, &info) < 0)
        die("%s", blk_last_error(bs));
    if (json) {
        printf("{\n");
        if (info.nb_snapshots) {
            printf("    \"snapshots\": [\n");
            for (int i = 0; i < info.nb_snapshots; i++) {
                BlockSnapshotInfo *s = &info.snapshots[i];
                printf("        {\n");
                if (s->icount != UINT64_MAX)
                    printf("            \"icount\": %" PRIu64 ",\n", s->icount);
                printf("            \"vm-clock-nsec\": %" PRIu64 ",\n", s->vm_clock_nsec % UINT64_C(1000000000));
                printf("            \"name\": ");
                json_str(stdout, s->name);
                printf(",\n            \"date-sec\": %u,\n", s->date_sec);
                printf("            \"date-nsec\": %u,\n", s->date_nsec);
                printf("            \"vm-clock-sec\": %" PRIu64 ",\n", s->vm_clock_nsec / UINT64_C(1000000000));
                printf("            \"id\": ");
                json_str(stdout, s->id);
                printf(",\n            \"vm-state-size\": %" PRIu64 "\n", s->vm_state_size);
                printf("        }%s\n", i + 1 < info.nb_snapshots ? "," : "");
            }
            printf("    ],\n");
        }
        if (info.backing_fmt[0]) {
            printf("    \"backing-filename-format\": ");
            json_str(stdout, info.backing_fmt);
            printf(",\n");
        }
        printf("    \"virtual-size\": %" PRIu64 ",\n", info.virtual_size);
        printf("    \"filename\": ");
        json_str(stdout, blk_filename(bs));
        printf(",\n");
        if (info.cluster_size)
            printf("    \"cluster-size\": %u,\n", info.cluster_size);
        printf("    \"format\": \"%s\",\n", info.format);
        printf("    \"actual-size\": %" PRIu64 ",\n", info.actual_size);
        if (!strcmp(info.format, "qcow2")) {
            printf("    \"format-specific\": {\n        \"type\": \"qcow2\",\n        \"data\": {\n");
            printf("            \"compat\": \"%s\",\n", info.qcow2_version >= 3 ? "1.1" : "0.10");
            if (info.qcow2_version >= 3) {
                printf("            \"compression-type\": \"zlib\",\n");
                printf("            \"lazy-refcounts\": %s,\n", info.lazy_refcounts ? "true" : "false");
            }
            printf("            \"refcount-bits\": %d,\n", info.refcount_bits);
            printf("            \"corrupt\": %s", info.corrupt ? "true" : "false");
            if (info.qcow2_version >= 3)
                printf(",\n            \"extended-l2\": false\n");
            else
                printf("\n");
            printf("        }\n    },\n");
        }
        if (info.backing_file[0]) {
            printf("    \"full-backing-filename\": ");
            json_str(stdout, info.backing_full);
            printf(",\n    \"backing-filename\": ");
            json_str(stdout, info.backing_file);
            printf(",\n");
        }
        printf("    \"dirty-flag\": %s\n", info.dirty ? "true" : "false");
        printf("}%s\n", last ? "" : ",");
    } else {
        char vs[32], ds[32];
        size_str(vs, sizeof(vs), info.virtual_size);
        size_str(ds, sizeof(ds), info.actual_size);
        printf("image: %s\n", blk_filename(bs));
        printf("file format: %s\n", info.format);
        printf("virtual size: %s (%" PRIu64 " bytes)\n", vs, info.virtual_size);
        printf("disk size: %s\n", ds);
        if (info.cluster_size)
            printf("cluster_size: %u\n", info.cluster_size);
        if (info.backing_file[0]) {
            printf("backing file: %s", info.backing_file);
            if (strcmp(info.backing_file, info.backing_full))
                printf(" (actual path: %s)", info.backing_full);
            printf("\n");
            if (info.backing_fmt[0])
                printf("backing file format: %s\n", info.backing_fmt);
        }
        if (info.nb_snapshots)
            print_snapshot_table(info.snapshots, info.nb_snapshots);
        if (!strcmp(info.format, "qcow2")) {
            printf("Format specific information:\n");
            printf("    compat: %s\n", info.qcow2_version >= 3 ? "1.1" : "0.10");
            if (info.qcow2_version >= 3) {
                printf("    compression type: zlib\n");
                printf("    lazy refcounts: %s\n", info.lazy_refcounts ? "true" : "false");
            }
            printf("    refcount bits: %d\n", info.refcount_bits);
            printf("    corrupt: %s\n", info.corrupt ? "true" : "false");
            if (info.qcow2_version >= 3)
                printf("    extended l2: false\n");
        }
        if (info.dirty)
            printf("dirty flag: true\n");
    }
    blk_info_free(&info);
}

static int cmd_info(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false, chain = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:hU", common_long, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': json = output_json("info", optarg); break;
        case 'C': chain = true; break;
        case 'h': usage_cmd("info"); break;
        default: bad_usage("info", "invalid option");
        }
    }
    if (optind + 1 != argc)
        bad_usage("info", optind >= argc ? "missing FILE" : "too many arguments");
    BlockDev *bs = open_img(argv[optind], fmt, BLK_O_RDONLY | (chain ? 0 : BLK_O_NO_BACKING));
    if (chain && json)
        printf("[\n");
    for (BlockDev *b = bs; b; b = chain ? blk_backing(b) : NULL) {
        if (chain && !json && b != bs)
            printf("\n");
        info_one(b, json, !chain || !blk_backing(b));
    }
    if (chain && json)
        printf("]\n");
    blk_close(bs);
    return 0;
}

/* ---- check ---- */

/* A dirty image was not closed cleanly: leaks are expected there, and are
 * not a fault of the image (see block/qcow2-dirty.c). */
static void print_dirty_note(BlockDev *bs, int64_t leaks)
{
    BlockInfo info;
    memset(&info, 0, sizeof(info));
    if (blk_get_info(bs, &info) == 0 && info.dirty)
        printf("The image is marked dirty (it was not closed cleanly)%s; leaked clusters are\n"
               "repaired when it is next opened for writing, or now with 'check -r leaks'.\n",
               leaks ? ": these leaks are expected" : "");
    blk_info_free(&info);
}

static int cmd_check(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false, quiet = false;
    int fix = 0;
    int c;
    while ((c = getopt_long(argc, argv, "f:r:qhU", common_long, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'r':
            if (!strcmp(optarg, "leaks"))
                fix = BLK_FIX_LEAKS;
            else if (!strcmp(optarg, "all"))
                fix = BLK_FIX_LEAKS | BLK_FIX_ERRORS;
            else
                bad_usage("check", "-r must be 'leaks' or 'all', not '%s'", optarg);
            break;
        case 'q': quiet = true; break;
        case 'U': json = output_json("check", optarg); break;
        case 'h': usage_cmd("check"); break;
        default: bad_usage("check", "invalid option");
        }
    }
    if (optind + 1 != argc)
        bad_usage("check", optind >= argc ? "missing FILE" : "too many arguments");
    const char *file = argv[optind];
    char err[BLK_ERR_LEN];
    BlockDev *bs = blk_open(file, fmt, (fix ? BLK_O_RDWR : BLK_O_RDONLY) | BLK_O_NO_BACKING | BLK_O_CHECK,
                            err, sizeof(err));
    if (!bs) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 1;
    }
    if (strcmp(blk_format(bs), "qcow2")) {
        fprintf(stderr, "%s: This image format (%s) does not support checks\n", prog, blk_format(bs));
        blk_close(bs);
        return 63;
    }
    BlockCheckResult r;
    int ret = blk_check(bs, &r, fix);
    if (ret < 0) {
        fprintf(stderr, "%s: check failed: %s\n", prog, blk_last_error(bs));
        blk_close(bs);
        return 1;
    }
    if (json) {
        printf("{\n");
        printf("    \"image-end-offset\": %" PRIu64 ",\n", r.image_end_offset);
        printf("    \"total-clusters\": %" PRIu64 ",\n", r.total_clusters);
        printf("    \"check-errors\": %" PRId64 ",\n", r.check_errors);
        if (r.leaks)
            printf("    \"leaks\": %" PRId64 ",\n", r.leaks);
        if (r.corruptions)
            printf("    \"corruptions\": %" PRId64 ",\n", r.corruptions);
        if (r.leaks_fixed)
            printf("    \"leaks-fixed\": %" PRId64 ",\n", r.leaks_fixed);
        if (r.corruptions_fixed)
            printf("    \"corruptions-fixed\": %" PRId64 ",\n", r.corruptions_fixed);
        printf("    \"allocated-clusters\": %" PRIu64 ",\n", r.allocated_clusters);
        if (r.fragmented_clusters)
            printf("    \"fragmented-clusters\": %" PRIu64 ",\n", r.fragmented_clusters);
        if (r.compressed_clusters)
            printf("    \"compressed-clusters\": %" PRIu64 ",\n", r.compressed_clusters);
        printf("    \"filename\": ");
        json_str(stdout, file);
        printf(",\n    \"format\": \"%s\"\n}\n", blk_format(bs));
    } else if (!quiet) {
        if (r.messages)
            fputs(r.messages, stdout);
        if (r.messages_dropped)
            printf("(%" PRId64 " more messages not shown)\n", r.messages_dropped);
        if (r.leaks_fixed || r.corruptions_fixed) {
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %" PRId64 " leaked clusters\n    %" PRId64 " corruptions\n\n",
                   r.leaks_fixed, r.corruptions_fixed);
        }
        if (!r.corruptions && !r.leaks && !r.check_errors) {
            printf("No errors were found on the image.\n");
        } else {
            if (r.corruptions)
                printf("\n%" PRId64 " errors were found on the image.\n"
                       "Data may be corrupted, or further writes to the image may corrupt it.\n",
                       r.corruptions);
            if (r.leaks)
                printf("\n%" PRId64 " leaked clusters were found on the image.\n"
                       "This means waste of disk space, but no harm to data.\n", r.leaks);
            if (r.check_errors)
                printf("\n%" PRId64 " internal errors have occurred during the check.\n", r.check_errors);
        }
        if (r.total_clusters)
            printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% compressed clusters\n",
                   r.allocated_clusters, r.total_clusters,
                   r.allocated_clusters * 100.0 / r.total_clusters,
                   r.allocated_clusters ? r.fragmented_clusters * 100.0 / r.allocated_clusters : 0.0,
                   r.allocated_clusters ? r.compressed_clusters * 100.0 / r.allocated_clusters : 0.0);
        printf("Image end offset: %" PRIu64 "\n", r.image_end_offset);
        print_dirty_note(bs, r.leaks);
    }
    int rc = r.check_errors ? 1 : r.corruptions ? 2 : r.leaks ? 3 : 0;
    blk_check_result_free(&r);
    if (blk_close(bs) < 0 && rc == 0)
        rc = 1;
    return rc;
}

/* ---- snapshot ---- */

static int cmd_snapshot(int argc, char **argv)
{
    const char *fmt = NULL, *name = NULL;
    int op = 0;
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:lc:a:d:qhU", common_long, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'l': case 'c': case 'a': case 'd':
            if (op)
                bad_usage("snapshot", "only one of -l, -c, -a, -d may be given");
            op = c;
            name = optarg;
            break;
        case 'q': quiet = true; break;
        case 'U': break;
        case 'h': usage_cmd("snapshot"); break;
        default: bad_usage("snapshot", "invalid option");
        }
    }
    if (!op)
        bad_usage("snapshot", "one of -l, -c, -a, -d is required");
    if (optind + 1 != argc)
        bad_usage("snapshot", optind >= argc ? "missing FILE" : "too many arguments");
    (void)quiet;
    BlockDev *bs = open_img(argv[optind], fmt, (op == 'l' ? BLK_O_RDONLY : BLK_O_RDWR) | BLK_O_NO_BACKING);
    int ret = 0;
    if (op == 'l') {
        BlockSnapshotInfo *l;
        int n = blk_snapshot_list(bs, &l);
        if (n < 0)
            die("%s", blk_last_error(bs));
        if (n)
            print_snapshot_table(l, n);
        free(l);
    } else if (op == 'c') {
        ret = blk_snapshot_create(bs, name, 0);
    } else if (op == 'a') {
        ret = blk_snapshot_apply(bs, name);
    } else {
        ret = blk_snapshot_delete(bs, name);
    }
    if (ret < 0) {
        fprintf(stderr, "%s: could not %s snapshot '%s': %s\n", prog,
                op == 'c' ? "create" : op == 'a' ? "apply" : "delete", name, blk_last_error(bs));
        blk_close(bs);
        return 1;
    }
    if (blk_close(bs) < 0)
        die("could not close the image");
    return 0;
}

/* ---- convert ---- */

static bool is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int cmd_convert(int argc, char **argv)
{
    const char *fmt = NULL, *ofmt = "raw";
    BlockCreateOpts o = { 0 };
    bool compress = false, quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:O:o:cpqhU", common_long, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 'o': parse_o("convert", optarg, &o); break;
        case 'c': compress = true; break;
        case 'p': break;
        case 'q': quiet = true; break;
        case 'h': usage_cmd("convert"); break;
        default: bad_usage("convert", "invalid option");
        }
    }
    (void)quiet;
    if (argc - optind != 2)
        bad_usage("convert", "need exactly one source and one destination");
    if (strcmp(ofmt, "qcow2") && strcmp(ofmt, "raw"))
        bad_usage("convert", "unknown output format '%s' (qcow2 or raw)", ofmt);
    if (compress && strcmp(ofmt, "qcow2"))
        bad_usage("convert", "-c needs -O qcow2");
    if (o.backing_file)
        bad_usage("convert", "backing_file is not supported by convert");
    BlockDev *src = open_img(argv[optind], fmt, BLK_O_RDONLY);
    const char *dst = argv[optind + 1];
    o.format = ofmt;
    o.size = (uint64_t)blk_getlength(src);
    char err[BLK_ERR_LEN];
    if (blk_create(dst, &o, err, sizeof(err)) < 0)
        die("%s", err);
    BlockDev *out = open_img(dst, ofmt, BLK_O_RDWR);
    BlockInfo oi;
    blk_get_info(out, &oi);
    blk_info_free(&oi);
    uint64_t chunk = oi.cluster_size ? oi.cluster_size : 1 << 20;
    if (!compress && chunk < (1 << 20))
        chunk = (1 << 20) / chunk * chunk;
    uint64_t size = o.size;
    uint8_t *buf = xmalloc(chunk);
    for (uint64_t off = 0; off < size; off += chunk) {
        size_t n = (size_t)MIN(chunk, size - off);
        /* skip ranges that read as zero without reading them */
        uint64_t pnum;
        int fl;
        uint64_t map;
        BlockDev *file;
        bool zero = false;
        BlockDev *b = src;
        uint64_t boff = off;
        for (;;) {
            if (boff >= (uint64_t)blk_getlength(b)) {
                zero = true;
                break;
            }
            if (blk_block_status(b, boff, MIN(n, (uint64_t)blk_getlength(b) - boff), &pnum, &fl, &map, &file) < 0)
                break;
            if (pnum < n && pnum < (uint64_t)blk_getlength(b) - boff)
                break;
            if (fl & BLK_STATUS_ZERO) {
                zero = true;
                break;
            }
            if (fl & BLK_STATUS_ALLOCATED)
                break;
            if (!blk_backing(b)) {
                zero = true;
                break;
            }
            b = blk_backing(b);
        }
        if (zero)
            continue;
        if (blk_pread(src, off, buf, n) < 0)
            die("read error: %s", blk_last_error(src));
        if (compress) {
            if (is_zero(buf, n))
                continue;
            if (blk_pwrite_compressed(out, off, buf, n) < 0)
                die("write error: %s", blk_last_error(out));
            continue;
        }
        /* write only the non-zero parts (cluster granularity) */
        uint64_t g = oi.cluster_size ? oi.cluster_size : 4096;
        for (uint64_t p = 0; p < n; ) {
            size_t len = (size_t)MIN(g, n - p);
            if (is_zero(buf + p, len)) {
                p += len;
                continue;
            }
            uint64_t q = p + len;
            while (q < n && !is_zero(buf + q, (size_t)MIN(g, n - q)))
                q += MIN(g, n - q);
            if (blk_pwrite(out, off + p, buf + p, (size_t)(q - p)) < 0)
                die("write error: %s", blk_last_error(out));
            p = q;
        }
    }
    free(buf);
    blk_close(src);
    if (blk_close(out) < 0)
        die("could not finish writing '%s'", dst);
    return 0;
}

/* ---- resize ---- */

static int cmd_resize(int argc, char **argv)
{
    const char *fmt = NULL;
    bool shrink = false, quiet = false;
    /* "-1G" looks like an option: treat a last argument starting with '-'
     * followed by a digit as the size */
    char *sizearg = NULL;
    if (argc >= 2 && argv[argc - 1][0] == '-' && argv[argc - 1][1] >= '0' && argv[argc - 1][1] <= '9') {
        sizearg = argv[argc - 1];
        argc--;
    }
    int c;
    while ((c = getopt_long(argc, argv, "f:qhS", common_long, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case 'S': shrink = true; break;
        case 'h': usage_cmd("resize"); break;
        default: bad_usage("resize", "invalid option");
        }
    }
    if (!sizearg) {
        if (argc - optind != 2)
            bad_usage("resize", "need FILE and SIZE");
        sizearg = argv[argc - 1];
    } else if (argc - optind != 1) {
        bad_usage("resize", "need FILE and SIZE");
    }
    const char *file = argv[optind];
    BlockDev *bs = open_img(file, fmt, BLK_O_RDWR);
    uint64_t cur = (uint64_t)blk_getlength(bs), newsize;
    if (sizearg[0] == '+' || sizearg[0] == '-') {
        uint64_t d = parse_size_arg("resize", "size", sizearg + 1);
        if (sizearg[0] == '+')
            newsize = cur + d;
        else if (d > cur)
            die("cannot shrink below zero");
        else
            newsize = cur - d;
    } else {
        newsize = parse_size_arg("resize", "size", sizearg);
    }
    if (newsize < cur && !shrink) {
        blk_close(bs);
        die("shrinking the image discards data: use --shrink to confirm");
    }
    if (blk_truncate(bs, newsize) < 0) {
        fprintf(stderr, "%s: %s\n", prog, blk_last_error(bs));
        blk_close(bs);
        return 1;
    }
    if (blk_close(bs) < 0)
        die("could not close the image");
    if (!quiet)
        printf("Image resized.\n");
    return 0;
}

/* ---- commit ---- */

static int cmd_commit(int argc, char **argv)
{
    const char *fmt = NULL;
    bool keep = false, quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:dqpht:", common_long, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'd': keep = true; break;
        case 'q': quiet = true; break;
        case 'p': case 't': break;
        case 'h': usage_cmd("commit"); break;
        default: bad_usage("commit", "invalid option");
        }
    }
    if (optind + 1 != argc)
        bad_usage("commit", optind >= argc ? "missing FILE" : "too many arguments");
    const char *file = argv[optind];
    BlockDev *top = open_img(file, fmt, BLK_O_RDWR | BLK_O_NO_BACKING);
    BlockInfo info;
    if (blk_get_info(top, &info) < 0)
        die("%s", blk_last_error(top));
    blk_info_free(&info);
    if (!info.backing_file[0])
        die("'%s' has no backing file to commit to", file);
    BlockDev *base = open_img(info.backing_full, info.backing_fmt[0] ? info.backing_fmt : NULL, BLK_O_RDWR);
    uint64_t size = (uint64_t)blk_getlength(top);
    if ((uint64_t)blk_getlength(base) < size && blk_truncate(base, size) < 0)
        die("could not grow the backing file: %s", blk_last_error(base));
    uint8_t *buf = xmalloc(1 << 20);
    for (uint64_t off = 0; off < size; ) {
        uint64_t pnum, map;
        int fl;
        BlockDev *f;
        if (blk_block_status(top, off, MIN(size - off, 1ULL << 20), &pnum, &fl, &map, &f) < 0)
            die("%s", blk_last_error(top));
        if (fl & BLK_STATUS_ALLOCATED) {
            if (fl & BLK_STATUS_ZERO) {
                if (blk_write_zeroes(base, off, pnum) < 0)
                    die("write error: %s", blk_last_error(base));
            } else {
                if (blk_pread(top, off, buf, pnum) < 0)
                    die("read error: %s", blk_last_error(top));
                if (blk_pwrite(base, off, buf, pnum) < 0)
                    die("write error: %s", blk_last_error(base));
            }
        }
        off += pnum;
    }
    free(buf);
    if (blk_flush(base) < 0)
        die("flush failed: %s", blk_last_error(base));
    if (!keep && blk_make_empty(top) < 0)
        die("could not empty '%s': %s", file, blk_last_error(top));
    blk_close(base);
    if (blk_close(top) < 0)
        die("could not close '%s'", file);
    if (!quiet)
        printf("Image committed.\n");
    return 0;
}

/* ---- map ---- */

typedef struct MapEnt {
    uint64_t start, length, offset;
    int depth;
    bool present, zero, data, has_offset;
    const char *file;
} MapEnt;

static void map_emit(MapEnt *e, bool json, bool *first)
{
    if (json) {
        printf("%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d, \"present\": %s, \"zero\": %s, \"data\": %s",
               *first ? "[" : ",\n", e->start, e->length, e->depth, e->present ? "true" : "false",
               e->zero ? "true" : "false", e->data ? "true" : "false");
        if (e->has_offset)
            printf(", \"offset\": %" PRIu64, e->offset);
        printf("}");
    } else if (e->data && e->has_offset) {
        printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", e->start, e->length, e->offset, e->file);
    }
    *first = false;
}

static int cmd_map(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:hU", common_long, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': json = output_json("map", optarg); break;
        case 'h': usage_cmd("map"); break;
        default: bad_usage("map", "invalid option");
        }
    }
    if (optind + 1 != argc)
        bad_usage("map", optind >= argc ? "missing FILE" : "too many arguments");
    BlockDev *bs = open_img(argv[optind], fmt, BLK_O_RDONLY);
    uint64_t size = (uint64_t)blk_getlength(bs);
    bool first = true;
    if (!json)
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    MapEnt cur = { 0 };
    bool have = false;
    for (uint64_t off = 0; off < size; ) {
        MapEnt e = { .start = off };
        BlockDev *b = bs;
        uint64_t len = size - off;
        int depth = 0;
        for (;;) {
            uint64_t pnum, map;
            int fl;
            BlockDev *f;
            if (off >= (uint64_t)blk_getlength(b)) {
                e.zero = true;
                break;
            }
            uint64_t l = MIN(len, (uint64_t)blk_getlength(b) - off);
            if (blk_block_status(b, off, l, &pnum, &fl, &map, &f) < 0)
                die("%s", blk_last_error(b));
            len = MIN(len, pnum);
            if (fl & BLK_STATUS_ALLOCATED) {
                e.present = true;
                e.zero = !!(fl & BLK_STATUS_ZERO);
                e.data = !!(fl & BLK_STATUS_DATA);
                if (fl & BLK_STATUS_OFFSET) {
                    e.has_offset = true;
                    e.offset = map;
                }
                e.file = blk_filename(f);
                break;
            }
            if (!blk_backing(b) || off >= (uint64_t)blk_getlength(blk_backing(b))) {
                e.zero = true;
                break;
            }
            b = blk_backing(b);
            depth++;
        }
        e.depth = depth;
        e.length = len;
        if (have && cur.depth == e.depth && cur.present == e.present && cur.zero == e.zero &&
            cur.data == e.data && cur.has_offset == e.has_offset &&
            (!cur.has_offset || (cur.offset + cur.length == e.offset && cur.file == e.file))) {
            cur.length += e.length;
        } else {
            if (have)
                map_emit(&cur, json, &first);
            cur = e;
            have = true;
        }
        off += len;
    }
    if (have)
        map_emit(&cur, json, &first);
    if (json)
        printf("%s]\n", first ? "[" : "");
    blk_close(bs);
    return 0;
}

/* ---- compare ---- */

static int cmd_compare(int argc, char **argv)
{
    const char *f1 = NULL, *f2 = NULL;
    bool strict = false, quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:F:sqphU", common_long, NULL)) != -1) {
        switch (c) {
        case 'f': f1 = optarg; break;
        case 'F': f2 = optarg; break;
        case 's': strict = true; break;
        case 'q': quiet = true; break;
        case 'p': case 'U': break;
        case 'h': usage_cmd("compare"); break;
        default:
            fprintf(stderr, "%s compare: invalid option (try 'kestrel-img compare --help')\n", prog);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "%s compare: need two images (try 'kestrel-img compare --help')\n", prog);
        return 2;
    }
    char err[BLK_ERR_LEN];
    BlockDev *a = blk_open(argv[optind], f1, BLK_O_RDONLY, err, sizeof(err));
    if (!a) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    BlockDev *b = blk_open(argv[optind + 1], f2 ? f2 : f1, BLK_O_RDONLY, err, sizeof(err));
    if (!b) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    uint64_t sa = (uint64_t)blk_getlength(a), sb = (uint64_t)blk_getlength(b);
    if (strict && sa != sb) {
        if (!quiet)
            printf("Strict mode: Image size mismatch!\n");
        return 1;
    }
    uint64_t common = MIN(sa, sb), total = MAX(sa, sb);
    size_t chunk = 1 << 20;
    uint8_t *x = xmalloc(chunk), *y = xmalloc(chunk);
    int rc = 0;
    for (uint64_t off = 0; off < total && rc == 0; off += chunk) {
        size_t n = (size_t)MIN((uint64_t)chunk, total - off);
        size_t na = off < sa ? (size_t)MIN((uint64_t)n, sa - off) : 0;
        size_t nb = off < sb ? (size_t)MIN((uint64_t)n, sb - off) : 0;
        memset(x, 0, n);
        memset(y, 0, n);
        if (na && blk_pread(a, off, x, na) < 0) {
            fprintf(stderr, "%s: read error: %s\n", prog, blk_last_error(a));
            rc = 2;
            break;
        }
        if (nb && blk_pread(b, off, y, nb) < 0) {
            fprintf(stderr, "%s: read error: %s\n", prog, blk_last_error(b));
            rc = 2;
            break;
        }
        if (memcmp(x, y, n)) {
            size_t i = 0;
            while (x[i] == y[i])
                i++;
            if (!quiet) {
                if (off + i >= common)
                    printf("Content mismatch at offset %" PRIu64 "!\n", off + i);
                else
                    printf("Content mismatch at offset %" PRIu64 "!\n", off + i);
            }
            rc = 1;
        }
    }
    if (rc == 0 && !quiet) {
        if (sa != sb)
            printf("Warning: Image size mismatch!\n");
        printf("Images are identical.\n");
    }
    free(x);
    free(y);
    blk_close(a);
    blk_close(b);
    return rc;
}

/* ---- io ---- */

static uint64_t rng_state;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct RandOp {
    int kind;           /* 0 write, 1 write zeroes, 2 discard */
    uint64_t off, len;
    uint8_t pat;
} RandOp;

static void rand_op(uint64_t i, uint64_t size, uint64_t maxlen, uint64_t cluster, RandOp *op)
{
    uint64_t r = rng_next();
    op->kind = (r % 16 == 7) ? 1 : (r % 16 == 11) ? 2 : 0;
    uint64_t len = 1 + rng_next() % maxlen;
    if (rng_next() % 2)
        len = ALIGN_UP(len, 512);
    if (len > size)
        len = size;
    uint64_t off = rng_next() % (size - len + 1);
    if (rng_next() % 2)
        off = ALIGN_DOWN(off, 512);
    if (op->kind == 2) {
        off = ALIGN_DOWN(off, cluster);
        len = ALIGN_UP(len, cluster);
        if (off + len > size)
            len = ALIGN_DOWN(size - off, cluster);
        if (!len)
            op->kind = 0, len = 1;
    }
    op->off = off;
    op->len = len;
    op->pat = (uint8_t)(i * 131 + 7) ? (uint8_t)(i * 131 + 7) : 1;
}

/* randwrite/randverify: a reproducible stream of requests.  With a queue
 * depth qd > 1 the requests go through the asynchronous API qd at a time
 * (a group), so their order inside a group is not defined. */
typedef struct RandStream {
    uint64_t seed, count, every, maxlen, qd, size;
} RandStream;

/* discards are 2 MiB-aligned so that they free whole clusters of any size
 * and raw and qcow2 images see the same requests */
#define RAND_DISCARD_ALIGN (2 * MiB)

static void rand_done(void *opaque, int ret)
{
    int *slot = opaque;
    *slot = ret;
}

static void rand_write(BlockDev *bs, const RandStream *rs)
{
    uint64_t qd = rs->qd;
    uint8_t **buf = xmalloc(sizeof(*buf) * qd);
    int *res = xmalloc(sizeof(*res) * qd);
    RandOp *ops = xmalloc(sizeof(*ops) * qd);
    for (uint64_t k = 0; k < qd; k++)
        buf[k] = xmalloc(rs->maxlen + RAND_DISCARD_ALIGN);
    rng_state = rs->seed;
    for (uint64_t i = 0; rs->count == 0 || i < rs->count; i += qd) {
        for (uint64_t k = 0; k < qd; k++) {
            RandOp *op = &ops[k];
            rand_op(i + k, rs->size, rs->maxlen, RAND_DISCARD_ALIGN, op);
            static const BlockAioOp aio_kind[] = { BLK_AIO_WRITE, BLK_AIO_WRITE_ZEROES, BLK_AIO_DISCARD };
            int ret;
            if (qd == 1) {
                if (op->kind == 1)
                    ret = blk_write_zeroes(bs, op->off, op->len);
                else if (op->kind == 2)
                    ret = blk_discard(bs, op->off, op->len);
                else {
                    memset(buf[k], op->pat, op->len);
                    ret = blk_pwrite(bs, op->off, buf[k], op->len);
                }
                res[k] = ret;
                continue;
            }
            struct iovec iov = { buf[k], op->len };
            memset(buf[k], op->pat, op->len);
            res[k] = 1;
            ret = blk_aio_submit(bs, aio_kind[op->kind], op->off, op->kind ? NULL : &iov,
                                 op->kind ? 0 : 1, op->len, rand_done, &res[k]);
            if (ret < 0)
                die("io: could not submit request %" PRIu64 ": %s", i + k, strerror(-ret));
        }
        if (qd > 1)
            blk_aio_drain(bs);
        for (uint64_t k = 0; k < qd; k++)
            if (res[k] < 0)
                die("io: randwrite request %" PRIu64 " failed: %s", i + k, blk_last_error(bs));
        if ((i + qd) % rs->every == 0) {
            if (blk_flush(bs) < 0)
                die("io: flush failed: %s", blk_last_error(bs));
            printf("flushed %" PRIu64 "\n", i + qd);
            fflush(stdout);
        }
    }
    for (uint64_t k = 0; k < qd; k++)
        free(buf[k]);
    free(buf);
    free(res);
    free(ops);
}

/* Mark the bytes where two requests of one group disagree: either may
 * have landed last. */
static void rand_mark_races(const RandOp *ops, uint64_t n, uint8_t *unsure)
{
    for (uint64_t a = 0; a < n; a++)
        for (uint64_t b = a + 1; b < n; b++) {
            uint8_t va = ops[a].kind ? 0 : ops[a].pat, vb = ops[b].kind ? 0 : ops[b].pat;
            uint64_t lo = MAX(ops[a].off, ops[b].off);
            uint64_t hi = MIN(ops[a].off + ops[a].len, ops[b].off + ops[b].len);
            if (va != vb && lo < hi)
                memset(unsure + lo, 1, hi - lo);
        }
}

static int rand_verify(BlockDev *bs, const RandStream *rs, const char *base)
{
    uint64_t size = rs->size, qd = rs->qd;
    if (size > (1ULL << 31))
        die("io: randverify supports images up to 2 GiB");
    uint8_t *model = xzalloc(size);
    uint8_t *unsure = xzalloc(size);
    if (strcmp(base, "-")) {
        char err[BLK_ERR_LEN];
        BlockDev *b = blk_open(base, "raw", BLK_O_RDONLY, err, sizeof(err));
        if (!b)
            die("%s", err);
        uint64_t bl = MIN(size, (uint64_t)blk_getlength(b));
        if (blk_pread(b, 0, model, bl) < 0)
            die("io: %s", blk_last_error(b));
        blk_close(b);
    }
    RandOp *ops = xmalloc(sizeof(*ops) * qd);
    rng_state = rs->seed;
    for (uint64_t i = 0; i < rs->count + rs->every; i += qd) {
        for (uint64_t k = 0; k < qd; k++) {
            RandOp *op = &ops[k];
            rand_op(i + k, size, rs->maxlen, RAND_DISCARD_ALIGN, op);
            if (i < rs->count) {
                memset(model + op->off, op->kind ? 0 : op->pat, op->len);
                memset(unsure + op->off, 0, op->len);
            } else {
                /* after the last completed flush: may or may not be there */
                memset(unsure + op->off, 1, op->len);
            }
        }
        if (i < rs->count)
            rand_mark_races(ops, qd, unsure);
    }
    free(ops);
    uint8_t *img = xmalloc(1 << 20);
    uint64_t bad = 0, first_bad = 0;
    for (uint64_t off = 0; off < size; off += 1 << 20) {
        size_t n = (size_t)MIN(1ULL << 20, size - off);
        if (blk_pread(bs, off, img, n) < 0)
            die("io: read failed: %s", blk_last_error(bs));
        for (size_t k = 0; k < n; k++)
            if (!unsure[off + k] && img[k] != model[off + k]) {
                if (!bad)
                    first_bad = off + k;
                bad++;
            }
    }
    free(img);
    free(model);
    free(unsure);
    if (bad) {
        printf("randverify: %" PRIu64 " bytes differ, first at offset %" PRIu64 "\n", bad, first_bad);
        return 1;
    }
    printf("randverify: %" PRIu64 " requests verified\n", rs->count);
    return 0;
}

static int split_args(char *line, char **av, int max)
{
    int n = 0;
    for (char *t = strtok(line, " \t"); t && n < max; t = strtok(NULL, " \t"))
        av[n++] = t;
    return n;
}

static uint64_t io_num(const char *s)
{
    uint64_t v;
    if (!parse_size(s, 1, &v) && !parse_u64(s, &v))
        die("io: invalid number '%s'", s);
    return v;
}

static int io_cmd(BlockDev *bs, const char *cmdline)
{
    char *line = xstrdup(cmdline);
    char *av[16];
    int ac = split_args(line, av, 16);
    int rc = 0;
    if (ac == 0)
        goto out;
    uint64_t size = (uint64_t)blk_getlength(bs);
    if (!strcmp(av[0], "read") || !strcmp(av[0], "write")) {
        bool wr = av[0][0] == 'w';
        int pat = wr ? 0xcd : -1;
        bool zero = false, comp = false;
        int i = 1;
        for (; i < ac && av[i][0] == '-'; i++) {
            if (!strcmp(av[i], "-P") && i + 1 < ac)
                pat = (int)(io_num(av[++i]) & 0xff);
            else if (!strcmp(av[i], "-z") && wr)
                zero = true;
            else if (!strcmp(av[i], "-c") && wr)
                comp = true;
            else if (!strcmp(av[i], "-q"))
                ;
            else
                die("io: %s: unknown option '%s'", av[0], av[i]);
        }
        if (ac - i != 2)
            die("io: usage: %s", wr ? "write [-P PAT] [-z] [-c] OFF LEN" : "read [-P PAT] OFF LEN");
        uint64_t off = io_num(av[i]), len = io_num(av[i + 1]);
        if (off > size || len > size - off)
            die("io: %s: range [%" PRIu64 ", +%" PRIu64 ") is past the end of the image (%" PRIu64 " bytes)",
                av[0], off, len, size);
        if (len > (1ULL << 30))
            die("io: %s: length too large (max 1G per command)", av[0]);
        if (wr && zero) {
            if (blk_write_zeroes(bs, off, len) < 0)
                die("io: write -z failed: %s", blk_last_error(bs));
        } else {
            uint8_t *buf = xmalloc(len ? len : 1);
            if (wr) {
                memset(buf, pat, len);
                int ret;
                if (comp) {
                    BlockInfo info;
                    blk_get_info(bs, &info);
                    blk_info_free(&info);
                    uint64_t cs = info.cluster_size;
                    if (!cs || off % cs || (len % cs && off + len != size))
                        die("io: write -c needs whole clusters");
                    ret = 0;
                    for (uint64_t p = 0; p < len && ret == 0; p += cs)
                        ret = blk_pwrite_compressed(bs, off + p, buf + p, (size_t)MIN(cs, len - p));
                } else {
                    ret = blk_pwrite(bs, off, buf, len);
                }
                if (ret < 0)
                    die("io: write failed: %s", blk_last_error(bs));
            } else {
                if (blk_pread(bs, off, buf, len) < 0)
                    die("io: read failed: %s", blk_last_error(bs));
                if (pat >= 0) {
                    for (uint64_t k = 0; k < len; k++)
                        if (buf[k] != pat) {
                            printf("Pattern verification failed at offset %" PRIu64 ", %" PRIu64 " bytes\n",
                                   off + k, len);
                            rc = 1;
                            break;
                        }
                }
            }
            free(buf);
        }
        printf("%s %" PRIu64 "/%" PRIu64 " bytes at offset %" PRIu64 "\n", wr ? "wrote" : "read", len, len, off);
    } else if (!strcmp(av[0], "discard")) {
        if (ac != 3)
            die("io: usage: discard OFF LEN");
        uint64_t off = io_num(av[1]), len = io_num(av[2]);
        if (blk_discard(bs, off, len) < 0)
            die("io: discard failed: %s", blk_last_error(bs));
        printf("discard %" PRIu64 "/%" PRIu64 " bytes at offset %" PRIu64 "\n", len, len, off);
    } else if (!strcmp(av[0], "flush")) {
        if (blk_flush(bs) < 0)
            die("io: flush failed: %s", blk_last_error(bs));
    } else if (!strcmp(av[0], "randwrite") || !strcmp(av[0], "randverify")) {
        char **a = av;
        int n = ac;
        bool verify = a[0][4] == 'v';
        uint64_t qd = 1;
        if (n >= 3 && !strcmp(a[1], "-q")) {
            qd = io_num(a[2]);
            a += 2;
            n -= 2;
        }
        if ((!verify && n != 4 && n != 5) || (verify && n != 5 && n != 6))
            die("io: usage: randwrite [-q QD] SEED COUNT FLUSH_EVERY [MAXLEN] | "
                "randverify [-q QD] SEED FLUSH_EVERY N BASE [MAXLEN]");
        RandStream rs = {
            .seed = io_num(a[1]),
            .count = verify ? io_num(a[3]) : io_num(a[2]),
            .every = verify ? io_num(a[2]) : io_num(a[3]),
            .maxlen = n == (verify ? 6 : 5) ? io_num(a[n - 1]) : 128 * 1024,
            .qd = qd,
            .size = size,
        };
        if (!rs.every || !rs.maxlen)
            die("io: FLUSH_EVERY and MAXLEN must be positive");
        if (!qd || qd > 64 || rs.every % qd)
            die("io: the queue depth must be 1..64 and divide FLUSH_EVERY");
        if (verify)
            rc = rand_verify(bs, &rs, a[4]);
        else
            rand_write(bs, &rs);
    } else {
        die("io: unknown command '%s' (read, write, discard, flush, randwrite, randverify)", av[0]);
    }
out:
    free(line);
    return rc;
}

static int cmd_io(int argc, char **argv)
{
    const char *fmt = NULL;
    int flags = BLK_O_RDWR;
    const char **cmdv = xmalloc(sizeof(char *) * (size_t)argc);
    int ncmd = 0;
    int c;
    while ((c = getopt_long(argc, argv, "f:c:rsh", common_long, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'c': cmdv[ncmd++] = optarg; break;
        case 'r': flags = BLK_O_RDONLY; break;
        case 's': flags |= BLK_O_SNAPSHOT; break;
        case 'h': usage_cmd("io"); break;
        default: bad_usage("io", "invalid option");
        }
    }
    if (optind + 1 != argc)
        bad_usage("io", optind >= argc ? "missing FILE" : "too many arguments");
    BlockDev *bs = open_img(argv[optind], fmt, flags);
    int rc = 0;
    for (int i = 0; i < ncmd; i++)
        rc |= io_cmd(bs, cmdv[i]);
    free(cmdv);
    if (blk_close(bs) < 0)
        die("could not close the image");
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "%s: missing command (try 'kestrel-img --help')\n", prog);
        return 1;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage_all(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("kestrel-img " KESTREL_VERSION "\n");
        return 0;
    }
    static const struct { const char *name; int (*fn)(int, char **); } table[] = {
        { "create", cmd_create }, { "info", cmd_info }, { "check", cmd_check },
        { "snapshot", cmd_snapshot }, { "convert", cmd_convert }, { "resize", cmd_resize },
        { "commit", cmd_commit }, { "map", cmd_map }, { "compare", cmd_compare }, { "io", cmd_io },
    };
    for (size_t i = 0; i < ARRAY_SIZE(table); i++)
        if (!strcmp(cmd, table[i].name)) {
            optind = 1;
            opterr = 0;
            return table[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "%s: unknown command '%s' (try 'kestrel-img --help')\n", prog, cmd);
    return 1;
}
