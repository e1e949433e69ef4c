/* The KVM accelerator without a guest: memory slots follow the address
 * space, and CPU state survives the trip to KVM and back (put, then get). */
#include "tests/unit/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <unistd.h>

#include "accel/kvm-internal.h"
#include "cpu/x86/helpers.h"

static const char *kvm_unusable(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return "/dev/kvm cannot be opened";
    close(fd);
    return NULL;
}

static Machine machine;
static uint8_t rom[65536] __attribute__((aligned(4096)));
static VCPU vcpu;
static CPUX86State env;
static char err[256];

/* One VM per test binary: 2 MiB of RAM at 0 and a 64 KiB ROM at the top of
 * 32-bit space. */
static bool setup(void)
{
    static bool done, ok;
    if (done)
        return ok;
    done = true;
    static MachineConfig cfg;
    machine.cfg = &cfg;
    machine.mem = address_space_new("memory", 1ull << 52);
    machine.io = address_space_new("io", 0x10000);
    machine.ram_size = 2 * MiB;
    machine.ram = aligned_alloc(4096, machine.ram_size);
    memset(machine.ram, 0, machine.ram_size);
    machine.ram_below_4g = as_add_ram(machine.mem, "ram", 0, machine.ram_size, machine.ram, 0);
    as_add_rom(machine.mem, "rom", 0xffff0000, sizeof(rom), rom, 0);
    if (accel_kvm_ops.init(&machine, err, sizeof(err)) < 0) {
        printf("# kvm init: %s\n", err);
        return false;
    }
    vcpu.env = &env;
    vcpu.machine = &machine;
    env.vcpu = &vcpu;
    x86_cpu_reset(&env);
    if (accel_kvm_ops.vcpu_init(&vcpu, err, sizeof(err)) < 0) {
        printf("# kvm vcpu init: %s\n", err);
        return false;
    }
    ok = true;
    return ok;
}

static int count_slots(uint64_t gpa, uint64_t size, bool readonly)
{
    int n = 0;
    for (int i = 0; i < kvm_state.max_slots; i++) {
        const KVMSlot *s = &kvm_state.slots[i];
        if (s->used && s->gpa == gpa && s->size == size &&
            !!(s->flags & KVM_MEM_READONLY) == readonly)
            n++;
    }
    return n;
}

TEST(slots_follow_layout)
{
    if (kvm_unusable())
        SKIP(kvm_unusable());
    REQUIRE(setup());
    CHECK_EQ(count_slots(0, 2 * MiB, false), 1);
    CHECK_EQ(count_slots(0xffff0000, 65536, true), 1);
    /* An I/O region over part of RAM splits the RAM slot around it. */
    static const MemoryRegionOps ops = { 0 };
    MemoryRegion *io = as_add_io(machine.mem, "hole", 0x100000, 0x1000, &ops, NULL, 1);
    accel_kvm_ops.memory_changed(&machine);
    CHECK_EQ(count_slots(0, 0x100000, false), 1);
    CHECK_EQ(count_slots(0x101000, 2 * MiB - 0x101000, false), 1);
    CHECK_EQ(count_slots(0, 2 * MiB, false), 0);
    as_remove(io);
    accel_kvm_ops.memory_changed(&machine);
    CHECK_EQ(count_slots(0, 2 * MiB, false), 1);
}

static void set_seg(SegmentCache *s, uint16_t sel, uint64_t base, uint32_t limit, uint32_t flags)
{
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->flags = flags;
}

TEST(state_round_trip_long_mode)
{
    if (kvm_unusable())
        SKIP(kvm_unusable());
    REQUIRE(setup());
    KVMVCPU *v = vcpu.accel_state;
    x86_cpu_reset(&env);
    const uint32_t code64 = DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK | DESC_R_MASK | DESC_A_MASK |
                            DESC_L_MASK | DESC_G_MASK;
    const uint32_t data = DESC_P_MASK | DESC_S_MASK | DESC_W_MASK | DESC_A_MASK | DESC_B_MASK |
                          DESC_G_MASK;
    for (int i = 0; i < 16; i++)
        env.regs[i] = 0x1111111111111111ull * (i + 1);
    env.rip = 0x123456;
    set_seg(&env.segs[R_CS], 0x10, 0, 0xffffffff, code64);
    set_seg(&env.segs[R_SS], 0x18, 0, 0xffffffff, data);
    set_seg(&env.segs[R_DS], 0x18, 0, 0xffffffff, data);
    set_seg(&env.segs[R_ES], 0x18, 0, 0xffffffff, data);
    set_seg(&env.segs[R_FS], 0, 0x7fff12340000ull, 0, 0);
    set_seg(&env.segs[R_GS], 0, 0xffff888000001000ull, 0, 0);
    set_seg(&env.tr, 0x40, 0x5000, 0x67, DESC_P_MASK | (0xb << DESC_TYPE_SHIFT));
    env.gdt.base = 0x6000;
    env.gdt.limit = 0x7f;
    env.idt.base = 0x7000;
    env.idt.limit = 0xfff;
    env.cr[0] = 0x80050033;
    env.cr[3] = 0x9000;
    env.cr[4] = CR4_PAE;
    env.efer = EFER_LME | EFER_LMA | EFER_SCE;
    env.star = 0x0023001000000000ull;
    env.lstar = 0xffffffff81000000ull;
    env.fmask = 0x47700;
    env.kernel_gs_base = 0xffff888000002000ull;
    env.sysenter_cs = 0x10;
    env.sysenter_eip = 0xffffffff81001000ull;
    env.fpuc = 0x37f;
    env.fpstt = 5;
    env.fptags = 0x1f;
    env.fpregs[5].mant = 0xc000000000000000ull;
    env.fpregs[5].sexp = 0x4000;
    env.mxcsr = 0x1f80;
    env.xmm[3].q[0] = 0x0123456789abcdefull;
    env.dr[0] = 0x401000;
    env.dr[7] = 0x401;
    env.nmi_masked = true;
    x86_set_eflags(&env, 0x202 | CC_C | CC_Z, ~0u);
    x86_update_hflags(&env);

    if (kvm_put_state(v, &env, err, sizeof(err)) < 0) {
        printf("# %s\n", err);
        SKIP("this KVM refuses a 64-bit CPU state");
    }
    static CPUX86State got;
    got = env;
    memset(got.regs, 0, sizeof(got.regs));
    memset(got.segs, 0, sizeof(got.segs));
    got.rip = got.cr[0] = got.cr[3] = got.cr[4] = got.efer = 0;
    got.star = got.lstar = got.kernel_gs_base = got.sysenter_eip = 0;
    got.fpregs[5].mant = 0;
    got.xmm[3].q[0] = 0;
    got.dr[0] = got.dr[7] = 0;
    got.nmi_masked = false;
    REQUIRE(kvm_get_state(v, &got, err, sizeof(err)) == 0);
    for (int i = 0; i < 16; i++)
        CHECK_EQ(got.regs[i], env.regs[i]);
    CHECK_EQ(got.rip, env.rip);
    CHECK_EQ(x86_get_eflags(&got) & 0xffff, 0x202 | CC_C | CC_Z);
    CHECK_EQ(got.segs[R_CS].selector, 0x10);
    CHECK_EQ(got.segs[R_CS].flags & (DESC_L_MASK | DESC_P_MASK | DESC_CS_MASK),
             DESC_L_MASK | DESC_P_MASK | DESC_CS_MASK);
    CHECK_EQ(got.segs[R_FS].base, 0x7fff12340000ull);
    CHECK_EQ(got.segs[R_GS].base, 0xffff888000001000ull);
    CHECK_EQ(got.tr.base, 0x5000);
    CHECK_EQ(got.gdt.base, 0x6000);
    CHECK_EQ(got.idt.limit, 0xfff);
    CHECK_EQ(got.cr[0], 0x80050033);
    CHECK_EQ(got.cr[3], 0x9000);
    CHECK_EQ(got.efer & (EFER_LME | EFER_LMA | EFER_SCE), EFER_LME | EFER_LMA | EFER_SCE);
    CHECK_EQ(got.star, env.star);
    CHECK_EQ(got.lstar, env.lstar);
    CHECK_EQ(got.kernel_gs_base, env.kernel_gs_base);
    CHECK_EQ(got.sysenter_eip, env.sysenter_eip);
    CHECK_EQ(got.fpstt, 5);
    CHECK_EQ(got.fptags, 0x1f);
    CHECK_EQ(got.fpregs[5].mant, 0xc000000000000000ull);
    CHECK_EQ(got.fpregs[5].sexp, 0x4000);
    CHECK_EQ(got.xmm[3].q[0], 0x0123456789abcdefull);
    CHECK(got.hflags & HF_CS64_MASK);
    CHECK_EQ(got.dr[0], 0x401000);
    CHECK_EQ(got.dr[7] & 0xff, 0x01);
    CHECK(got.nmi_masked);
}

static void collect(uint64_t gpa, void *opaque)
{
    uint64_t *pages = opaque;
    if (gpa == 0x2000)
        pages[0]++;
    else if (gpa == 0x5000)
        pages[1]++;
    else
        pages[2]++;
}

/* Real-mode code at the reset vector writes two pages: the dirty log shows
 * them, then nothing after the next sync. */
TEST(dirty_log)
{
    if (kvm_unusable())
        SKIP(kvm_unusable());
    REQUIRE(setup());
    KVMVCPU *v = vcpu.accel_state;
    static const uint8_t code[] = {
        0xc6, 0x06, 0x00, 0x20, 0x01,       /* mov byte [0x2000], 1 */
        0xc6, 0x06, 0x00, 0x50, 0x02,       /* mov byte [0x5000], 2 */
        0xf4,                               /* hlt */
    };
    memcpy(rom + 0xfff0, code, sizeof(code));
    x86_cpu_reset(&env);
    REQUIRE(kvm_put_state(v, &env, err, sizeof(err)) == 0);
    REQUIRE(kvm_dirty_log_start() == 0);
    uint64_t pages[3] = { 0 };
    REQUIRE(kvm_dirty_log_sync(collect, pages) == 0);
    pages[0] = pages[1] = pages[2] = 0;
    int r;
    do
        r = ioctl(v->fd, KVM_RUN, 0);
    while (r < 0 && errno == EINTR);
    REQUIRE(r == 0);
    CHECK_EQ(v->run->exit_reason, KVM_EXIT_HLT);
    CHECK_EQ(machine.ram[0x2000] + machine.ram[0x5000], 3);
    REQUIRE(kvm_dirty_log_sync(collect, pages) == 0);
    CHECK_EQ(pages[0], 1);
    CHECK_EQ(pages[1], 1);
    pages[0] = pages[1] = 0;
    REQUIRE(kvm_dirty_log_sync(collect, pages) == 0);
    CHECK_EQ(pages[0] + pages[1], 0);
    REQUIRE(kvm_dirty_log_stop() == 0);
}

/* IA32_ARCH_CAPABILITIES reaches the CPU model on a user-space exit: it
 * must exist exactly when the CPUID the guest really executes says so (under
 * kvm_pvm CPUID is not intercepted: the host's leaf 7, not the model's). */
TEST(cpuid_gated_msr_follows_guest_cpuid)
{
    if (kvm_unusable())
        SKIP(kvm_unusable());
    REQUIRE(setup());
    KVMVCPU *v = vcpu.accel_state;
    static const uint8_t code[] = {
        0x66, 0xb8, 0x07, 0x00, 0x00, 0x00, /* mov eax, 7 */
        0x66, 0x31, 0xc9,                   /* xor ecx, ecx */
        0x0f, 0xa2,                         /* cpuid */
        0x66, 0x89, 0x16, 0x00, 0x30,       /* mov [0x3000], edx */
        0xf4,                               /* hlt */
    };
    static const uint8_t reset_jmp[] = { 0xe9, 0x0d, 0xf0 };   /* jmp 0xf000 */
    memcpy(rom + 0xf000, code, sizeof(code));
    memcpy(rom + 0xfff0, reset_jmp, sizeof(reset_jmp));
    memset(machine.ram + 0x3000, 0xff, 4);
    x86_cpu_reset(&env);
    REQUIRE(kvm_put_state(v, &env, err, sizeof(err)) == 0);
    int r;
    do
        r = ioctl(v->fd, KVM_RUN, 0);
    while (r < 0 && errno == EINTR);
    REQUIRE(r == 0);
    REQUIRE(v->run->exit_reason == KVM_EXIT_HLT);
    uint32_t edx;
    memcpy(&edx, machine.ram + 0x3000, 4);
    printf("# guest CPUID.7.0:EDX = %#x\n", edx);
    CHECK_EQ(kvm_msr_hidden(v, 0x10a), !(edx >> 29 & 1));
    CHECK_EQ(kvm_msr_hidden(v, 0x1b), false);    /* APIC base: not CPUID-gated */
}
