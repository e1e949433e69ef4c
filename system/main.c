/* kestrel: the command line, then build the machine and run the main loop. */
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "hw/devices.h"
#include "hw/drives.h"
#include "hw/pc.h"
#include "system/chardev.h"
#include "system/cpus.h"
#include "system/gdbstub.h"
#include "system/log.h"
#include "system/monitor.h"
#include "system/mainloop.h"
#include "system/timer.h"

typedef struct Option Option;
typedef void (*OptionHandler)(MachineConfig *cfg, const Option *opt, const char *arg);

struct Option {
    const char *name;
    const char *argname;      /* NULL: takes no argument */
    OptionHandler handler;
    const char *help;
};

static void usage_error(const char *opt, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void usage_error(const char *opt, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "kestrel: -%s: %s\n", opt, msg);
    exit(1);
}

static void need_readable(const Option *o, const char *path)
{
    if (access(path, R_OK) != 0)
        usage_error(o->name, "cannot read '%s': %s", path, strerror(errno));
}

static Opts *parse_opts(const Option *o, const char *arg, const char *implied)
{
    char err[256];
    Opts *opts = opts_parse(arg, implied, err, sizeof(err));
    if (!opts)
        usage_error(o->name, "%s", err);
    return opts;
}

static void check_unused(const Option *o, Opts *opts)
{
    const char *u = opts_first_unused(opts);
    if (u)
        usage_error(o->name, "unknown option '%s'", u);
}

static void opt_help(MachineConfig *cfg, const Option *o, const char *arg);

static void opt_version(MachineConfig *cfg, const Option *o, const char *arg)
{
    printf("Kestrel emulator version %s\n", KESTREL_VERSION);
    exit(0);
}

static void opt_m(MachineConfig *cfg, const Option *o, const char *arg)
{
    Opts *opts = parse_opts(o, arg, "size");
    const char *s = opts_get(opts, "size");
    uint64_t size;
    if (!s || !parse_size(s, MiB, &size))
        usage_error(o->name, "bad memory size '%s' (e.g. 512, 512M, 2G)", s ? s : "");
    check_unused(o, opts);
    if (size < 1 * MiB || size > 1024 * GiB)
        usage_error(o->name, "memory size %s out of range (1M to 1T)", s);
    if (size % (4 * KiB))
        usage_error(o->name, "memory size must be a multiple of 4 KiB");
    cfg->ram_size = size;
    opts_free(opts);
}

/* One -smp count (cpus=, sockets=, ...): 0 when absent, else 1..MAX_CPUS. */
static unsigned smp_count(const Option *o, Opts *opts, const char *key)
{
    const char *v = opts_get(opts, key);
    uint64_t x;
    if (!v)
        return 0;
    if (!parse_u64(v, &x) || x < 1 || x > MAX_CPUS) {
        if (strcmp(key, "cpus") == 0)
            usage_error(o->name, "bad CPU count '%s' (1 to %d)", v, MAX_CPUS);
        usage_error(o->name, "bad %s '%s' (1 to %d)", key, v, MAX_CPUS);
    }
    return (unsigned)x;
}

/* -smp [cpus=]N[,sockets=S][,cores=C][,threads=T][,maxcpus=M], as QEMU reads
 * it: missing counts are derived (sockets first), the product of the
 * topology must be the CPU count, and every CPU is present (no hotplug). */
static void opt_smp(MachineConfig *cfg, const Option *o, const char *arg)
{
    Opts *opts = parse_opts(o, arg, "cpus");
    unsigned cpus = smp_count(o, opts, "cpus"), sockets = smp_count(o, opts, "sockets");
    unsigned cores = smp_count(o, opts, "cores"), threads = smp_count(o, opts, "threads");
    unsigned maxcpus = smp_count(o, opts, "maxcpus");
    check_unused(o, opts);
    opts_free(opts);
    if (!cpus && !sockets && !cores && !threads && !maxcpus)
        usage_error(o->name, "bad CPU count '' (1 to %d)", MAX_CPUS);
    if (!threads)
        threads = 1;
    if (!cpus)
        cpus = maxcpus ? maxcpus : (sockets ? sockets : 1) * (cores ? cores : 1) * threads;
    if (!maxcpus)
        maxcpus = cpus;
    if (!sockets) {
        cores = cores ? cores : 1;
        sockets = MAX(maxcpus / (cores * threads), 1u);
    } else if (!cores) {
        cores = MAX(maxcpus / (sockets * threads), 1u);
    }
    if (cpus > MAX_CPUS)
        usage_error(o->name, "%u CPUs: at most %d are supported", cpus, MAX_CPUS);
    if ((uint64_t)sockets * cores * threads != maxcpus)
        usage_error(o->name, "sockets (%u) * cores (%u) * threads (%u) must equal the CPU count (%u)",
                    sockets, cores, threads, maxcpus);
    if (maxcpus != cpus)
        usage_error(o->name, "maxcpus=%u > cpus=%u: CPU hotplug is not supported", maxcpus, cpus);
    CpuTopology t = { sockets, cores, threads };
    /* xAPIC IDs are 8 bits, 0xff is broadcast, and the I/O APIC takes the next one */
    if (topology_apic_id(&t, cpus - 1) >= 0xfe)
        usage_error(o->name, "this topology needs APIC IDs above 253 (no x2APIC)");
    cfg->smp = (int)cpus;
    cfg->topology = t;
}

static void set_accel(MachineConfig *cfg, const Option *o, Opts *opts)
{
    const char *a = opts_get(opts, "accel");
    if (!a)
        return;
    if (strcmp(a, "help") == 0) {
        printf("Accelerators: tcg, kvm\n");
        exit(0);
    }
    if (strcmp(a, "tcg") && strcmp(a, "kvm"))
        usage_error(o->name, "unknown accelerator '%s' (tcg or kvm)", a);
    cfg->accel = xstrdup(a);
}

static void opt_machine(MachineConfig *cfg, const Option *o, const char *arg)
{
    Opts *opts = parse_opts(o, arg, "type");
    const char *t = opts_get(opts, "type");
    if (t && strcmp(t, "help") == 0) {
        printf("Supported machines:\npc                   Standard PC (i440FX + PIIX) (default)\n");
        exit(0);
    }
    if (t && strcmp(t, "pc") && strcmp(t, "pc-i440fx") && strcmp(t, "q35") == 0)
        usage_error(o->name, "machine 'q35' is not implemented (use pc)");
    if (t && strcmp(t, "pc") && strncmp(t, "pc-i440fx", 9))
        usage_error(o->name, "unknown machine type '%s' (try -machine help)", t);
    set_accel(cfg, o, opts);
    check_unused(o, opts);
    cfg->machine_type = "pc";
}

static void opt_accel(MachineConfig *cfg, const Option *o, const char *arg)
{
    Opts *opts = parse_opts(o, arg, "accel");
    set_accel(cfg, o, opts);
    if (cfg->accel && strcmp(cfg->accel, "tcg") == 0) {
        const char *b = opts_get(opts, "backend");
        if (b && strcmp(b, "x86_64") && strcmp(b, "interp"))
            usage_error(o->name, "unknown backend '%s' (x86_64 or interp)", b);
        opts_get(opts, "tb-size");
        opts_get(opts, "return-stack");
        opts_get(opts, "region-trips");
        opts_get(opts, "xfer-stats");
        opts_get(opts, "xfer-sites");
        opts_get(opts, "follow");
        opts_get(opts, "thread");
    }
    check_unused(o, opts);
    cfg->accel_opts = opts;
}

static void opt_enable_kvm(MachineConfig *cfg, const Option *o, const char *arg)
{
    cfg->accel = "kvm";
}

static void opt_cpu(MachineConfig *cfg, const Option *o, const char *arg)
{
    Opts *opts = parse_opts(o, arg, "model");
    const char *m = opts_get(opts, "model");
    if (strcmp(m, "help") == 0) {
        printf("Available CPUs:\n  kestrel64  the Kestrel x86-64 model (default)\n"
               "  max        alias of kestrel64\n");
        exit(0);
    }
    if (strcmp(m, "kestrel64") && strcmp(m, "max") && strcmp(m, "qemu64"))
        usage_error(o->name, "unknown CPU model '%s' (try -cpu help)", m);
    check_unused(o, opts);
    cfg->cpu_model = "kestrel64";
}

static void opt_kernel(MachineConfig *cfg, const Option *o, const char *arg)
{
    need_readable(o, arg);
    cfg->kernel = arg;
}

static void opt_initrd(MachineConfig *cfg, const Option *o, const char *arg)
{
    /* Multiboot module lists "file args,file2 args": check each file. */
    char *copy = xstrdup(arg);
    for (char *save, *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *sp = strchr(item, ' ');
        if (sp)
            *sp = 0;
        need_readable(o, item);
    }
    free(copy);
    cfg->initrd = arg;
}

static void opt_append(MachineConfig *cfg, const Option *o, const char *arg)
{
    cfg->append = arg;
}

static DriveConfig *new_drive(MachineConfig *cfg, const Option *o)
{
    if (cfg->nr_drives == MAX_DRIVES)
        usage_error(o->name, "too many drives (at most %d)", MAX_DRIVES);
    DriveConfig *d = &cfg->drives[cfg->nr_drives++];
    memset(d, 0, sizeof(*d));
    d->index = -1;
    return d;
}

static bool one_of(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(v, *list) == 0)
            return true;
    return false;
}

static void opt_drive(MachineConfig *cfg, const Option *o, const char *arg)
{
    static const char *const formats[] = { "raw", "qcow2", NULL };
    static const char *const ifs[] = { "ide", "virtio", "none", NULL };
    static const char *const medias[] = { "disk", "cdrom", NULL };
    static const char *const caches[] = { "writeback", "none", "writethrough", "unsafe",
                                          "directsync", NULL };
    Opts *opts = parse_opts(o, arg, "file");
    DriveConfig *d = new_drive(cfg, o);
    const char *v;
    bool ok = true;
    d->file = (char *)opts_get(opts, "file");
    if (!d->file || !*d->file)
        usage_error(o->name, "missing file=");
    if ((v = opts_get(opts, "format")) && !one_of(v, formats))
        usage_error(o->name, "unknown format '%s' (raw or qcow2)", v);
    d->format = (char *)v;
    if ((v = opts_get(opts, "if")) && !one_of(v, ifs))
        usage_error(o->name, "unknown interface if=%s (ide, virtio or none)", v);
    d->interface = (char *)v;
    if ((v = opts_get(opts, "media")) && !one_of(v, medias))
        usage_error(o->name, "unknown media '%s' (disk or cdrom)", v);
    d->media = (char *)v;
    if ((v = opts_get(opts, "cache")) && !one_of(v, caches))
        usage_error(o->name, "unknown cache mode '%s'", v);
    d->cache = (char *)v;
    if ((v = opts_get(opts, "index"))) {
        uint64_t idx;
        if (!parse_u64(v, &idx) || idx > 3)
            usage_error(o->name, "bad index '%s' (0 to 3)", v);
        d->index = (int)idx;
    }
    d->snapshot = opts_get_bool(opts, "snapshot", false, &ok);
    d->readonly = opts_get_bool(opts, "readonly", false, &ok);
    if (!ok)
        usage_error(o->name, "snapshot= and readonly= take on or off");
    opts_get(opts, "id");
    check_unused(o, opts);
    if (access(d->file, d->readonly || (d->media && !strcmp(d->media, "cdrom")) ? R_OK : R_OK | W_OK))
        usage_error(o->name, "cannot open '%s': %s", d->file, strerror(errno));
}

static void opt_hdx(MachineConfig *cfg, const Option *o, const char *arg)
{
    need_readable(o, arg);
    DriveConfig *d = new_drive(cfg, o);
    d->file = (char *)arg;
    d->interface = "ide";
    d->index = o->name[2] - 'a';
}

static void opt_cdrom(MachineConfig *cfg, const Option *o, const char *arg)
{
    need_readable(o, arg);
    DriveConfig *d = new_drive(cfg, o);
    d->file = (char *)arg;
    d->interface = "ide";
    d->media = "cdrom";
    d->readonly = true;
    d->index = 2;
}

static void opt_snapshot(MachineConfig *cfg, const Option *o, const char *arg)
{
    for (int i = 0; i < cfg->nr_drives; i++)
        cfg->drives[i].snapshot = true;
    cfg->name = cfg->name;   /* applied again after parsing: see apply_defaults */
}

static void opt_boot(MachineConfig *cfg, const Option *o, const char *arg)
{
    Opts *opts = parse_opts(o, arg, "order");
    const char *order = opts_get(opts, "order");
    if (!order || !*order || strspn(order, "acdn") != strlen(order))
        usage_error(o->name, "bad boot order '%s' (letters a, c, d, n)", order ? order : "");
    opts_get(opts, "menu");
    check_unused(o, opts);
    cfg->boot_order = order;
}

static void opt_serial(MachineConfig *cfg, const Option *o, const char *arg)
{
    if (cfg->nr_serial == MAX_SERIAL)
        usage_error(o->name, "too many serial ports (at most %d)", MAX_SERIAL);
    cfg->serial[cfg->nr_serial++] = arg;
}

static void opt_monitor(MachineConfig *cfg, const Option *o, const char *arg)
{
    cfg->monitor = arg;
}

static void opt_nographic(MachineConfig *cfg, const Option *o, const char *arg)
{
    cfg->nographic = true;
}

static void opt_display(MachineConfig *cfg, const Option *o, const char *arg)
{
    Opts *opts = parse_opts(o, arg, "type");
    const char *t = opts_get(opts, "type");
    if (strcmp(t, "help") == 0) {
        printf("Available displays: none%s\n", CONFIG_SDL ? ", sdl (not implemented yet)" : "");
        exit(0);
    }
    if (strcmp(t, "none") == 0) {
        check_unused(o, opts);
        cfg->display = "none";
        return;
    }
    if (strcmp(t, "sdl") == 0)
        usage_error(o->name, "the SDL display is not implemented yet (use -display none or -nographic)");
    usage_error(o->name, "unknown display '%s' (try -display help)", t);
}

static void opt_no_reboot(MachineConfig *cfg, const Option *o, const char *arg)
{
    cfg->no_reboot = true;
}

static void opt_no_shutdown(MachineConfig *cfg, const Option *o, const char *arg)
{
    cfg->no_shutdown = true;
}

static void opt_device(MachineConfig *cfg, const Option *o, const char *arg)
{
    if (strcmp(arg, "help") == 0) {
        device_types_print_help(stdout);
        exit(0);
    }
    Opts *opts = parse_opts(o, arg, "driver");
    const char *name = opts_get(opts, "driver");
    if (!name || !device_type_find(name))
        usage_error(o->name, "unknown device '%s' (try -device help)", name ? name : "");
    if (cfg->nr_devices == MAX_DEVICES)
        usage_error(o->name, "too many devices");
    for (int i = 0; i < opts->n; i++)
        opts->pairs[i].used = false;
    cfg->devices[cfg->nr_devices++] = opts;
}

static void opt_d(MachineConfig *cfg, const Option *o, const char *arg)
{
    char err[256] = "";
    unsigned mask;
    if (!log_parse_items(arg, &mask, err, sizeof(err))) {
        if (!err[0])
            exit(0);       /* -d help */
        usage_error(o->name, "%s", err);
    }
    log_mask |= mask;
}

static void opt_D(MachineConfig *cfg, const Option *o, const char *arg)
{
    if (!log_set_file(arg))
        usage_error(o->name, "cannot open log file '%s': %s", arg, strerror(errno));
}

static void opt_name(MachineConfig *cfg, const Option *o, const char *arg)
{
    Opts *opts = parse_opts(o, arg, "guest");
    cfg->name = opts_get(opts, "guest");
    opts_get(opts, "process");
    opts_get(opts, "debug-threads");
    check_unused(o, opts);
}

static void opt_rtc(MachineConfig *cfg, const Option *o, const char *arg)
{
    Opts *opts = parse_opts(o, arg, NULL);
    const char *b = opts_get(opts, "base");
    if (b && strcmp(b, "utc") && strcmp(b, "localtime")) {
        int y, mo, d, h = 0, mi = 0, s = 0;
        if (sscanf(b, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) < 3 &&
            sscanf(b, "%d-%d-%d", &y, &mo, &d) != 3)
            usage_error(o->name, "bad base '%s' (utc, localtime or YYYY-MM-DD[THH:MM:SS])", b);
    }
    opts_get(opts, "clock");
    opts_get(opts, "driftfix");
    check_unused(o, opts);
    cfg->rtc_base = b;
}

static void opt_qmp(MachineConfig *cfg, const Option *o, const char *arg)
{
    cfg->qmp = arg;
}

static void opt_mon(MachineConfig *cfg, const Option *o, const char *arg)
{
    if (cfg->nr_mons == (int)ARRAY_SIZE(cfg->mons))
        usage_error(o->name, "too many monitors");
    cfg->mons[cfg->nr_mons++] = arg;
}

/* Named chardevs exist from the start, so -serial chardev:ID can use them. */
static void opt_chardev(MachineConfig *cfg, const Option *o, const char *arg)
{
    char err[400] = "";
    if (chardev_add(arg, err, sizeof(err)) < 0)
        usage_error(o->name, "%s", err);
}

static void opt_gdb(MachineConfig *cfg, const Option *o, const char *arg)
{
    cfg->gdb_dev = arg ? arg : "tcp::1234";
}

static void opt_S(MachineConfig *cfg, const Option *o, const char *arg)
{
    cfg->start_paused = true;
}

static void opt_not_implemented(MachineConfig *cfg, const Option *o, const char *arg)
{
    fprintf(stderr, "kestrel: -%s: this option is not implemented yet\n", o->name);
    exit(1);
}

#define NOT_YET(n, a, h) { n, a, opt_not_implemented, h " (not implemented yet)" }

static const Option options[] = {
    { "h", NULL, opt_help, "print this help and exit" },
    { "help", NULL, opt_help, "print this help and exit" },
    { "version", NULL, opt_version, "print the version and exit" },
    { "m", "[size=]SIZE", opt_m, "guest RAM (default 128M; a bare number means MiB)" },
    { "smp", "[cpus=]N[,sockets=,cores=,threads=,maxcpus=]", opt_smp, "number of vCPUs and their topology (at most 64)" },
    { "M", "TYPE[,accel=tcg|kvm]", opt_machine, "machine type: pc (-M help lists them)" },
    { "machine", "TYPE[,accel=tcg|kvm]", opt_machine, "same as -M" },
    { "accel", "tcg[,backend=x86_64|interp]|kvm", opt_accel,
      "accelerator (default: KVM if hardware-backed, else the translator)" },
    { "enable-kvm", NULL, opt_enable_kvm, "same as -accel kvm" },
    { "cpu", "MODEL", opt_cpu, "CPU model: kestrel64 (-cpu help lists them)" },
    { "kernel", "FILE", opt_kernel, "boot a multiboot or Linux kernel directly" },
    { "initrd", "FILE", opt_initrd, "initial RAM disk (multiboot: module list 'f1 args,f2')" },
    { "append", "CMDLINE", opt_append, "kernel command line" },
    { "drive", "file=F[,format=raw|qcow2][,if=ide|virtio|none][,media=disk|cdrom]"
               "[,index=N][,snapshot=on][,readonly=on][,cache=MODE]", opt_drive, "a disk" },
    { "hda", "FILE", opt_hdx, "IDE disk 0" },
    { "hdb", "FILE", opt_hdx, "IDE disk 1" },
    { "hdc", "FILE", opt_hdx, "IDE disk 2" },
    { "hdd", "FILE", opt_hdx, "IDE disk 3" },
    { "cdrom", "FILE", opt_cdrom, "IDE CD-ROM (secondary master)" },
    { "snapshot", NULL, opt_snapshot, "write disk changes to temporary files" },
    { "boot", "[order=]DRIVES", opt_boot, "boot order: a floppy, c disk, d CD-ROM, n network" },
    { "serial", "DEV", opt_serial, "serial port backend: stdio, mon:stdio, file:F, null, none, "
                                  "unix:PATH[,server,nowait], tcp:[HOST]:PORT[,server,nowait]" },
    { "monitor", "DEV", opt_monitor, "monitor backend (same forms as -serial)" },
    { "nographic", NULL, opt_nographic, "no window: serial port and monitor on the terminal "
                                        "(Ctrl-A h for help)" },
    { "display", "none|sdl", opt_display, "display type" },
    { "no-reboot", NULL, opt_no_reboot, "exit instead of rebooting" },
    { "no-shutdown", NULL, opt_no_shutdown, "stop instead of exiting on power-off" },
    { "device", "NAME[,opts]", opt_device, "add a device (-device help lists them)" },
    { "d", "ITEM[,ITEM]", opt_d, "debug log: in_asm, out_asm, op, int, exec, cpu, guest_errors, "
                                 "unimp, trace, perfmap (-d help)" },
    { "D", "FILE", opt_D, "write the debug log to FILE instead of stderr" },
    { "name", "NAME", opt_name, "the guest's name (window title, logs)" },
    { "rtc", "base=utc|localtime|DATE", opt_rtc, "real-time clock start" },
    NOT_YET("netdev", "...", "network backends"),
    NOT_YET("nic", "...", "network cards"),
    NOT_YET("net", "...", "network (legacy form)"),
    { "chardev", "BACKEND,id=ID[,opts]", opt_chardev,
      "named chardev (null, stdio, file path=, pty, socket path=|host=,port= [server=on,wait=off]), "
      "used as chardev:ID" },
    NOT_YET("vga", "TYPE", "graphics card"),
    NOT_YET("vnc", "DISPLAY", "VNC server"),
    NOT_YET("bios", "FILE", "firmware image"),
    NOT_YET("fda", "FILE", "floppy disk"),
    NOT_YET("usb", NULL, "USB"),
    NOT_YET("soundhw", "...", "sound"),
    NOT_YET("loadvm", "TAG", "start from a snapshot"),
    NOT_YET("incoming", "URI", "incoming migration"),
    NOT_YET("object", "...", "objects"),
    NOT_YET("numa", "...", "NUMA nodes"),
    NOT_YET("icount", "...", "instruction counting"),
    NOT_YET("trace", "...", "trace events"),
    { "mon", "chardev=ID[,mode=readline|control][,pretty=on]", opt_mon,
      "a monitor (human, or QMP with mode=control) on the chardev ID" },
    { "qmp", "DEV", opt_qmp, "QMP (JSON) monitor on DEV, e.g. unix:/tmp/qmp.sock,server,nowait" },
    { "gdb", "DEV", opt_gdb, "GDB server on DEV (e.g. tcp::1234)" },
    { "s", NULL, opt_gdb, "same as -gdb tcp::1234" },
    { "S", NULL, opt_S, "start paused (the monitor's cont, or gdb, starts the CPUs)" },
    NOT_YET("daemonize", NULL, "run in the background"),
    NOT_YET("pidfile", "FILE", "write the process id"),
    NOT_YET("mem-path", "DIR", "file-backed RAM"),
    NOT_YET("full-screen", NULL, "full screen window"),
};

static void opt_help(MachineConfig *cfg, const Option *o, const char *arg)
{
    printf("Usage: kestrel [options]\n"
           "Kestrel %s: a PC emulator (x86 and x86-64 guests).\n\n"
           "Example: kestrel -nographic -kernel bzImage -initrd initramfs.cpio.gz "
           "-append console=ttyS0\n\nOptions:\n", KESTREL_VERSION);
    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        const Option *p = &options[i];
        char left[160];
        snprintf(left, sizeof(left), "-%s%s%s", p->name, p->argname ? " " : "",
                 p->argname ? p->argname : "");
        if (strlen(left) > 30)
            printf("  %s\n  %-30s %s\n", left, "", p->help);
        else
            printf("  %-30s %s\n", left, p->help);
    }
    printf("\nWith -nographic (or stdio serial): Ctrl-A x quits, Ctrl-A c switches between "
           "the serial console and the monitor, Ctrl-A h lists the other keys.\n"
           "Options may start with - or --. A debug-exit device makes the exit status "
           "(V<<1)|1 when the guest writes V.\n");
    exit(0);
}

static const Option *find_option(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(options); i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

static void parse_command_line(MachineConfig *cfg, int argc, char **argv)
{
    bool snapshot_all = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            fprintf(stderr, "kestrel: '%s': unexpected argument (disk images go in -drive or -hda)\n", a);
            exit(1);
        }
        const char *name = a + 1 + (a[1] == '-');
        const Option *o = find_option(name);
        if (!o) {
            fprintf(stderr, "kestrel: -%s: unknown option (see kestrel -help)\n", name);
            exit(1);
        }
        const char *arg = NULL;
        if (o->argname && o->handler != opt_not_implemented) {
            if (i + 1 >= argc) {
                fprintf(stderr, "kestrel: -%s: requires an argument (%s)\n", name, o->argname);
                exit(1);
            }
            arg = argv[++i];
        }
        if (o->handler == opt_snapshot)
            snapshot_all = true;
        o->handler(cfg, o, arg);
    }
    if (snapshot_all)
        for (int i = 0; i < cfg->nr_drives; i++)
            cfg->drives[i].snapshot = true;
}

/* Where the serial port and the monitor go when not given. */
static void apply_defaults(MachineConfig *cfg)
{
    if (!cfg->ram_size)
        cfg->ram_size = 128 * MiB;
    if (!cfg->smp) {
        cfg->smp = 1;
        cfg->topology = (CpuTopology){ 1, 1, 1 };
    }
    bool terminal_free = true;
    for (int i = 0; i < cfg->nr_serial; i++)
        if (strstr(cfg->serial[i], "stdio"))
            terminal_free = false;
    if (cfg->monitor && strstr(cfg->monitor, "stdio"))
        terminal_free = false;
    if (cfg->nr_serial == 0 && terminal_free) {
        /* No window yet: the first serial port is the console, shared with the
         * monitor (Ctrl-A c), as with -nographic. */
        cfg->serial[cfg->nr_serial++] = "mon:stdio";
    }
}

static int start_monitor_and_debugger(MachineConfig *cfg, char *err, size_t errlen)
{
    if (cfg->monitor && strcmp(cfg->monitor, "none") != 0) {
        char cerr[400] = "";
        Chardev *chr = chardev_new(cfg->monitor, cerr, sizeof(cerr));
        if (!chr && cerr[0]) {
            snprintf(err, errlen, "-monitor %s: %s", cfg->monitor, cerr);
            return -1;
        }
        if (chr && !strstr(cfg->monitor, "mon:"))
            monitor_new(chr);
    }
    if (cfg->qmp) {
        char cerr[400] = "";
        Chardev *chr = chardev_new(cfg->qmp, cerr, sizeof(cerr));
        if (!chr) {
            snprintf(err, errlen, "-qmp %s: %s", cfg->qmp, cerr[0] ? cerr : "no device");
            return -1;
        }
        qmp_monitor_new(chr);
    }
    for (int i = 0; i < cfg->nr_mons; i++) {
        char merr[400] = "";
        if (monitor_add_from_opts(cfg->mons[i], merr, sizeof(merr)) < 0) {
            snprintf(err, errlen, "-mon %s: %s", cfg->mons[i], merr);
            return -1;
        }
    }
    if (cfg->gdb_dev) {
        char gerr[400] = "";
        if (gdbstub_start(cfg->gdb_dev, gerr, sizeof(gerr)) < 0) {
            snprintf(err, errlen, "-gdb %s: %s", cfg->gdb_dev, gerr);
            return -1;
        }
    }
    return 0;
}

static void on_fatal_signal(int sig)
{
    chardev_restore_terminals();
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv)
{
    static MachineConfig cfg;
    static Machine machine;
    char err[1024] = "";

    parse_command_line(&cfg, argc, argv);
    apply_defaults(&cfg);

    signal(SIGPIPE, SIG_IGN);
    signal(SIGSEGV, on_fatal_signal);
    signal(SIGABRT, on_fatal_signal);

    machine.cfg = &cfg;
    current_machine = &machine;
    machine_lock();
    if (pc_machine_init(&machine, err, sizeof(err)) < 0) {
        chardev_restore_terminals();
        fprintf(stderr, "kestrel: %s\n", err);
        return 1;
    }

    if (start_monitor_and_debugger(&cfg, err, sizeof(err)) < 0) {
        chardev_restore_terminals();
        fprintf(stderr, "kestrel: %s\n", err);
        return 1;
    }

    int status = 0;
    if (!cfg.start_paused)
        cpus_start(&machine);
    for (;;) {
        main_loop_iterate(-1);
        if (main_loop_should_quit()) {
            status = main_loop_exit_status();
            break;
        }
        if (machine_handle_requests(&status))
            break;
    }
    cpus_quit(&machine);
    if (log_enabled(LOG_JIT) && machine.accel && machine.accel->dump_stats)
        machine.accel->dump_stats(log_file());
    /* Every write the guest issued reaches the image before we exit. */
    blk_aio_drain(NULL);
    drives_close_all();
    machine_unlock();
    chardev_restore_terminals();
    fflush(NULL);
    _exit(status);
}
