/* The "pc" board: guest RAM, the port-I/O and memory maps, the ISA devices,
 * vCPUs and direct kernel boot. Grows into the i440FX/PIIX3 machine. */
#include "hw/pc.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/mman.h>
#include "cpu/x86/cpu.h"
#include "cpu/x86/helpers.h"
#include "hw/acpi-pm.h"
#include "hw/acpi-tables.h"
#include "hw/devices.h"
#include "hw/drives.h"
#include "hw/fw_cfg.h"
#include "hw/i440fx.h"
#include "hw/i8254.h"
#include "hw/i8042.h"
#include "hw/ide.h"
#include "hw/i8259.h"
#include "hw/ioapic.h"
#include "hw/ferr.h"
#include "hw/ioport80.h"
#include "hw/port92.h"
#include "hw/smbios.h"
#include "hw/virtio-blk.h"
#include "hw/mc146818.h"
#include "system/monitor.h"
#include "system/cpus.h"
#include "system/loader.h"

/* Where direct kernel boot finds the ACPI tables (the BIOS area, which the
 * e820 map reserves; Linux also scans it for the RSDP). */
#define ACPI_TABLES_ADDR 0xf0000

typedef struct PcBoard {
    PicState *pic;
    PitState *pit;
    I440fxState *pci;
    AcpiPmState *pm;
    RtcState *rtc;
    FwCfgState *fw_cfg;
    I8042State *kbd;
    IdeState *ide;
    IrqOr serial_irq[2];        /* COM1/COM3 share IRQ 4, COM2/COM4 IRQ 3 */
    IrqLine cpu_intr;
    /* APICs: see "local APICs and the I/O APIC" at the end of this file. */
    ApicBus *apic_bus;
    IoApicState *ioapic;
    IoApicIsaFanout isa_fanout;
} PcBoard;

static void pc_apic_create_chipset(Machine *m, PcBoard *b);
static void pc_apic_create_cpus(Machine *m, PcBoard *b);

/* Parts built on other branches are linked when present. */
struct SerialState;
struct SerialState *serial_create(AddressSpace *io, uint16_t base, IrqLine *irq,
                                  Chardev *chr) __attribute__((weak));
void x86_cpu_reset(CPUX86State *env) __attribute__((weak));

static const struct { uint16_t base; int irq; } serial_ports[MAX_SERIAL] = {
    { 0x3f8, 4 }, { 0x2f8, 3 }, { 0x3e8, 4 }, { 0x2e8, 3 },
};

static int alloc_ram(Machine *m, char *err, size_t errlen)
{
    m->ram_size = m->cfg->ram_size;
    void *p = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "-m: cannot allocate %" PRIu64 " MiB of guest RAM: %s",
                 (uint64_t)(m->ram_size / MiB), strerror(errno));
        return -1;
    }
    madvise(p, m->ram_size, MADV_MERGEABLE);
    m->ram = p;
    uint64_t low = MIN(m->ram_size, PC_LOWMEM_LIMIT);
    m->ram_below_4g = as_add_ram(m->mem, "ram-below-4g", 0, low, m->ram, 0);
    m->ram_below_4g->ram_offset = 0;
    if (m->ram_size > low) {
        m->ram_above_4g = as_add_ram(m->mem, "ram-above-4g", 4 * GiB, m->ram_size - low,
                                     m->ram + low, 0);
        m->ram_above_4g->ram_offset = low;
    }
    return 0;
}

static int create_serial_ports(Machine *m, char *err, size_t errlen)
{
    for (int i = 0; i < m->cfg->nr_serial; i++) {
        const char *spec = m->cfg->serial[i];
        if (!spec)
            continue;
        char cerr[400] = "";
        Chardev *chr = chardev_new(spec, cerr, sizeof(cerr));
        if (!chr) {
            if (cerr[0]) {
                snprintf(err, errlen, "-serial %s: %s", spec, cerr);
                return -1;
            }
            continue;          /* "none" */
        }
        m->serial_chr[i] = chr;
        if (!serial_create) {
            snprintf(err, errlen, "-serial: the UART model is not built into this binary");
            return -1;
        }
        PcBoard *b = m->board;
        serial_create(m->io, serial_ports[i].base, &b->serial_irq[i & 1].in[i >> 1], chr);
    }
    return 0;
}

/* The PIC's INT output drives the boot CPU's INTR line. */
static void cpu_intr_handler(void *opaque, int n, int level)
{
    Machine *m = opaque;
    if (!m->ncpus)
        return;
    CPUX86State *env = m->cpus[0]->env;
    if (env->apic) {
        apic_deliver_pic_intr(env->apic, level);    /* LINT0 */
        return;
    }
    if (level) {
        atomic_fetch_or(&env->interrupt_request, CPU_INTERRUPT_HARD);
        vcpu_kick(m->cpus[0]);
    } else {
        atomic_fetch_and(&env->interrupt_request, ~CPU_INTERRUPT_HARD);
    }
}

static int pc_intack(CPUX86State *env)
{
    PcBoard *b = current_machine->board;
    return pic_intack(b->pic);
}

static void power_button(void *opaque);

/* Disk controllers take the drives of their interface (hw/drives.h). */
static int attach_drives(Machine *m, char *err, size_t errlen)
{
    PcBoard *b = m->board;
    b->ide = piix3_ide_create(b->pci->bus, &m->isa_irq[14], &m->isa_irq[15]);
    if (piix3_ide_attach_drives(b->ide, false, err, errlen) < 0)
        return -1;
    return virtio_blk_attach_drives(b->pci->bus, err, errlen);
}

static void pc_msi(void *opaque, uint64_t addr, uint32_t data)
{
    apic_bus_msi(opaque, addr, data);
}

static void create_chipset(Machine *m)
{
    PcBoard *b = xzalloc(sizeof(*b));
    m->board = b;
    irq_init(&b->cpu_intr, cpu_intr_handler, m, 0);
    b->pic = pic_create(m->io, &b->cpu_intr);
    m->isa_irq = b->pic->in;
    pc_apic_create_chipset(m, b);
    b->pit = pit_create(m->io, &m->isa_irq[0]);
    b->pci = i440fx_create(m->mem, m->io, m->isa_irq, m->gsi);
    if (b->apic_bus) {
        b->pci->bus->msi = pc_msi;
        b->pci->bus->msi_opaque = b->apic_bus;
    }
    b->pm = acpi_pm_create(b->pci->bus, &m->isa_irq[9]);
    monitor_set_powerdown_handler(power_button, b);
    b->rtc = rtc_create(m->io, &m->isa_irq[8]);
    b->fw_cfg = fw_cfg_create(m->io, m->mem);
    b->kbd = i8042_create(m->io, &m->isa_irq[1], &m->isa_irq[12]);
    irq_or_init(&b->serial_irq[0], &m->isa_irq[4]);
    irq_or_init(&b->serial_irq[1], &m->isa_irq[3]);
    port92_create(m->io);
    ioport80_create(m->io);
    ferr_port_create(m->io);   /* FPU error: IRQ 13, cleared at port 0xF0 */
}

/* What SeaBIOS reads through fw_cfg: RAM size, CPU count, the e820 map. */
static void setup_fw_cfg(Machine *m)
{
    PcBoard *b = m->board;
    fw_cfg_add_i64(b->fw_cfg, FW_CFG_RAM_SIZE, m->ram_size);
    fw_cfg_add_i16(b->fw_cfg, FW_CFG_NB_CPUS, (uint16_t)m->cfg->smp);
    fw_cfg_add_i16(b->fw_cfg, FW_CFG_MAX_CPUS, (uint16_t)m->cfg->smp);
    fw_cfg_add_i16(b->fw_cfg, FW_CFG_NOGRAPHIC, m->cfg->nographic);
    /* RAM only: the firmware reserves its own areas. */
    uint8_t e820[2 * 20] = { 0 };
    int n = 0;
    st64(e820, 0);
    st64(e820 + 8, m->ram_below_4g->size);
    st32(e820 + 16, 1);
    n++;
    if (m->ram_above_4g) {
        st64(e820 + 20, m->ram_above_4g->base);
        st64(e820 + 28, m->ram_above_4g->size);
        st32(e820 + 36, 1);
        n++;
    }
    fw_cfg_add_file(b->fw_cfg, "etc/e820", e820, (uint32_t)(20 * n));
}

static void power_button(void *opaque)
{
    PcBoard *b = opaque;
    acpi_pm_power_button(b->pm);
}

/* What SeaBIOS and Linux read from the CMOS: memory sizes, CPUs, boot order. */
static int setup_rtc(Machine *m, char *err, size_t errlen)
{
    PcBoard *b = m->board;
    if (m->cfg->rtc_base && rtc_set_base(b->rtc, m->cfg->rtc_base, err, errlen) < 0)
        return -1;
    RtcPcLayout l = {
        .ram_below_4g = m->ram_below_4g->size,
        .ram_above_4g = m->ram_above_4g ? m->ram_above_4g->size : 0,
        .cpus = m->cfg->smp,
        .boot_order = m->cfg->boot_order ? m->cfg->boot_order : "cdn",
    };
    rtc_fill_pc_cmos(b->rtc, &l);
    return 0;
}

/* After the ACPI tables, in the same reserved BIOS area. */
#define SMBIOS_ADDR 0xf8000

static void install_smbios_tables(Machine *m)
{
    uint32_t a, b, c, d;
    x86_cpuid(m->cpus[0]->env, 1, 0, &a, &b, &c, &d);
    SmbiosConfig cfg = { .ncpus = m->ncpus, .cpuid_1_eax = a, .cpuid_1_edx = d,
                         .name = m->cfg->name, .ram_size = m->ram_size };
    size_t len;
    uint8_t *t = smbios_build(&cfg, SMBIOS_ADDR, &len);
    as_write_rom(m->mem, SMBIOS_ADDR, t, len);
    free(t);
}

static void install_acpi_tables(Machine *m)
{
    AcpiConfig cfg = {
        .ncpus = m->ncpus, .has_apic = ((PcBoard *)m->board)->apic_bus != NULL,
        .topology = m->cfg->topology,
        .lapic_addr = 0xfee00000, .ioapic_addr = 0xfec00000,
        .pm_base = ACPI_PM_BASE, .sci_irq = 9,
        .pci_mem_start = (uint32_t)MAX(m->ram_below_4g->size, 0x80000000ULL),
    };
    size_t len;
    uint8_t *tables = acpi_build_tables(&cfg, ACPI_TABLES_ADDR, &len);
    as_write_rom(m->mem, ACPI_TABLES_ADDR, tables, len);
    free(tables);
    linux_acpi_rsdp_addr = ACPI_TABLES_ADDR;
}


/* What firmware leaves in the MTRRs (direct boot has none): everything
 * write-back except the VGA window and the 32-bit PCI hole, uncacheable. */
static void firmware_mtrrs(Machine *m, CPUX86State *env)
{
    enum { UC = 0, WB = 6 };
    const uint64_t all_wb = 0x0606060606060606ULL;
    for (int i = 0; i < 11; i++)
        env->mtrr_fixed[i] = all_wb;
    env->mtrr_fixed[2] = 0;                                  /* 0xa0000-0xbffff: UC */
    /* Cover [hole, 4 GiB) with aligned power-of-two ranges, one MTRR each. */
    const uint64_t phys_mask = (1ULL << 40) - 1;             /* CPUID: 40 physical bits */
    uint64_t addr = MAX(m->ram_below_4g->size, 0x80000000ULL);
    for (int n = 0; addr < 4 * GiB && n < 8; n++) {
        uint64_t size = 1ULL << __builtin_ctzll(addr);
        while (addr + size > 4 * GiB)
            size >>= 1;
        env->mtrr_var[2 * n] = addr | UC;
        env->mtrr_var[2 * n + 1] = (~(size - 1) & phys_mask) | (1u << 11);   /* valid */
        addr += size;
    }
    env->mtrr_deftype = (1u << 11) | (1u << 10) | WB;        /* enabled, fixed enabled */
}

static int boot_cpu(Machine *m, char *err, size_t errlen)
{
    CPUX86State *env = m->cpus[0]->env;
    if (!m->cfg->kernel) {
        snprintf(err, errlen, "no -kernel given: firmware boot (SeaBIOS) is not implemented yet");
        return -1;
    }
    install_acpi_tables(m);
    install_smbios_tables(m);
    for (int i = 0; i < m->ncpus; i++)
        firmware_mtrrs(m, m->cpus[i]->env);
    return load_kernel(m, env, err, errlen);
}

int pc_machine_init(Machine *m, char *err, size_t errlen)
{
    if (m->cfg->machine_type && strcmp(m->cfg->machine_type, "pc") != 0) {
        snprintf(err, errlen, "-machine: unknown machine type '%s' (available: pc)",
                 m->cfg->machine_type);
        return -1;
    }
    m->mem = address_space_new("memory", 1ULL << 52);
    m->io = address_space_new("io", 0x10000);
    if (alloc_ram(m, err, errlen) < 0)
        return -1;
    create_chipset(m);
    if (setup_rtc(m, err, errlen) < 0)
        return -1;
    setup_fw_cfg(m);
    if (devices_create_from_config(m, err, errlen) < 0)
        return -1;
    if (create_serial_ports(m, err, errlen) < 0)
        return -1;
    if (drives_open(m, err, errlen) < 0 || attach_drives(m, err, errlen) < 0 ||
        drives_check_claimed(err, errlen) < 0)
        return -1;
    if (!m->cfg->kernel) {
        snprintf(err, errlen, "no -kernel given: firmware boot (SeaBIOS) is not implemented yet");
        return -1;
    }
    if (cpus_init(m, err, errlen) < 0)
        return -1;
    for (int i = 0; i < m->ncpus; i++)
        m->cpus[i]->env->intack = pc_intack;
    pc_apic_create_cpus(m, m->board);
    return boot_cpu(m, err, errlen);
}

void board_reset(Machine *m)
{
    char err[512] = "";
    cpus_pause(m);
    machine_run_reset_handlers();
    for (int i = 0; i < m->ncpus; i++) {
        if (x86_cpu_reset)
            x86_cpu_reset(m->cpus[i]->env);
        if (m->accel->vcpu_state_changed)
            m->accel->vcpu_state_changed(m->cpus[i]);
    }
    if (boot_cpu(m, err, sizeof(err)) < 0) {
        error_report("reset: %s", err);
        machine_request_shutdown(1);
        return;
    }
    if (m->accel->vcpu_state_changed)
        m->accel->vcpu_state_changed(m->cpus[0]);
    cpus_resume(m);
}

/* ---- local APICs and the I/O APIC (hw/apic.h, hw/ioapic.h) ----------------------
 * ISA IRQs reach both the 8259 and the I/O APIC (IRQ 0 as GSI 2); PCI PIRQs
 * are GSIs 16-19 (i440fx drives m->gsi). The 8259's INT output is the BSP's
 * LINT0 (cpu_intr_handler), and each CPU acknowledges through its APIC. */

static int pc_pic_ack(void *opaque) { return pic_intack(opaque); }

static void pc_apic_create_chipset(Machine *m, PcBoard *b)
{
    b->apic_bus = apic_bus_new(m->mem);
    apic_bus_set_pic(b->apic_bus, pc_pic_ack, b->pic);
    /* The I/O APIC's ID follows the CPUs' (as the MADT says). */
    uint32_t last_cpu = topology_apic_id(&m->cfg->topology, (unsigned)MAX(m->cfg->smp, 1) - 1);
    b->ioapic = ioapic_create(m->mem, b->apic_bus, IOAPIC_DEFAULT_BASE, (uint8_t)(last_cpu + 1));
    m->gsi = b->ioapic->in;
    ioapic_isa_fanout_init(&b->isa_fanout, b->pic->in, m->gsi);
    m->isa_irq = b->isa_fanout.isa_irq;
}

static void pc_apic_create_cpus(Machine *m, PcBoard *b)
{
    for (int i = 0; i < m->ncpus; i++)
        apic_create(b->apic_bus, m->cpus[i]->env,
                    (uint8_t)topology_apic_id(&m->cfg->topology, (unsigned)i));
    apic_cpu_hooks_install();
}
