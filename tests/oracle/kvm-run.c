/* KVM as the oracle for system snippets: a bare VM (no irqchip, no devices)
 * with the oracle's RAM in one slot, one vCPU in long mode at CPL 0 with
 * the system page's GDT/TSS/IDT. The snippet ends at a HLT (KVM_EXIT_HLT);
 * an exception enters its handler on IST1, whose OUT to port = vector
 * exits to us with the general registers untouched and the exception frame
 * on the IST stack. Raw /dev/kvm ioctls: independent of accel/kvm.c, which
 * is itself under test elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "tests/oracle/oracle.h"

struct OracleKVM {
    int kvm, vm, vcpu;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *ram;
};

void oracle_kvm_free(OracleKVM *k)
{
    if (!k)
        return;
    if (k->run)
        munmap(k->run, k->run_size);
    if (k->ram)
        munmap(k->ram, ORACLE_RAM_SIZE);
    if (k->vcpu >= 0)
        close(k->vcpu);
    if (k->vm >= 0)
        close(k->vm);
    if (k->kvm >= 0)
        close(k->kvm);
    free(k);
}

OracleKVM *oracle_kvm_new(char *why, size_t whylen)
{
    OracleKVM *k = calloc(1, sizeof(*k));
    k->kvm = k->vm = k->vcpu = -1;
    k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (k->kvm < 0) {
        snprintf(why, whylen, "/dev/kvm: %s", strerror(errno));
        goto fail;
    }
    if (ioctl(k->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        snprintf(why, whylen, "unexpected KVM API version");
        goto fail;
    }
    k->vm = ioctl(k->kvm, KVM_CREATE_VM, 0);
    if (k->vm < 0) {
        snprintf(why, whylen, "KVM_CREATE_VM: %s", strerror(errno));
        goto fail;
    }
    ioctl(k->vm, KVM_SET_TSS_ADDR, 0xfffbd000UL);   /* Intel hosts need it; harmless elsewhere */
    k->ram = mmap(NULL, ORACLE_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (k->ram == MAP_FAILED) {
        k->ram = NULL;
        snprintf(why, whylen, "mmap: %s", strerror(errno));
        goto fail;
    }
    struct kvm_userspace_memory_region mr = {
        .slot = 0, .guest_phys_addr = ORACLE_RAM_BASE, .memory_size = ORACLE_RAM_SIZE,
        .userspace_addr = (uintptr_t)k->ram,
    };
    if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0) {
        snprintf(why, whylen, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
        goto fail;
    }
    k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
    int sz = ioctl(k->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (k->vcpu < 0 || sz <= 0) {
        snprintf(why, whylen, "KVM_CREATE_VCPU: %s", strerror(errno));
        goto fail;
    }
    k->run_size = (size_t)sz;
    k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu, 0);
    if (k->run == MAP_FAILED) {
        k->run = NULL;
        snprintf(why, whylen, "mmap kvm_run: %s", strerror(errno));
        goto fail;
    }
    return k;
fail:
    oracle_kvm_free(k);
    return NULL;
}

static struct kvm_segment seg(uint16_t sel, uint8_t type, bool code64, bool s)
{
    struct kvm_segment g = {
        .base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
        .dpl = 0, .db = !code64 && s, .s = s, .l = code64, .g = 1,
    };
    return g;
}

static bool setup_vcpu(OracleKVM *k, const OracleCase *c)
{
    struct kvm_sregs sr;
    if (ioctl(k->vcpu, KVM_GET_SREGS, &sr) < 0)
        return false;
    sr.cs = seg(ORACLE_KERNEL_CS, 11, true, true);
    sr.ss = seg(ORACLE_KERNEL_DS, 3, false, true);
    struct kvm_segment null = { .unusable = 1 };
    sr.ds = sr.es = sr.fs = sr.gs = null;
    sr.tr = (struct kvm_segment){ .base = ORACLE_SYS_TSS, .limit = 0x67, .selector = ORACLE_TSS_SEL,
                                  .type = 11, .present = 1 };
    sr.ldt = (struct kvm_segment){ .unusable = 1, .type = 2, .present = 1 };
    sr.gdt = (struct kvm_dtable){ .base = ORACLE_SYS, .limit = ORACLE_GDT_LIMIT };
    sr.idt = (struct kvm_dtable){ .base = ORACLE_SYS_IDT, .limit = 32 * 16 - 1 };
    sr.cr0 = 0x80050033;   /* PG AM WP NE ET MP PE, as the translator's */
    sr.cr3 = ORACLE_PT;
    sr.cr4 = 0x620;        /* OSXMMEXCPT OSFXSR PAE */
    sr.efer = 0xd01;       /* NXE LMA LME SCE */
    sr.cr2 = 0;
    memset(sr.interrupt_bitmap, 0, sizeof(sr.interrupt_bitmap));
    if (ioctl(k->vcpu, KVM_SET_SREGS, &sr) < 0)
        return false;
    struct kvm_regs rg = { 0 };
    const OracleState *in = &c->in;
    rg.rax = in->gpr[0]; rg.rcx = in->gpr[1]; rg.rdx = in->gpr[2]; rg.rbx = in->gpr[3];
    rg.rsp = in->gpr[4]; rg.rbp = in->gpr[5]; rg.rsi = in->gpr[6]; rg.rdi = in->gpr[7];
    rg.r8 = in->gpr[8]; rg.r9 = in->gpr[9]; rg.r10 = in->gpr[10]; rg.r11 = in->gpr[11];
    rg.r12 = in->gpr[12]; rg.r13 = in->gpr[13]; rg.r14 = in->gpr[14]; rg.r15 = in->gpr[15];
    rg.rip = ORACLE_CODE;
    rg.rflags = in->rflags | 2;
    return ioctl(k->vcpu, KVM_SET_REGS, &rg) == 0;
}

static void get_state(OracleKVM *k, OracleState *st)
{
    struct kvm_regs rg;
    ioctl(k->vcpu, KVM_GET_REGS, &rg);
    const uint64_t v[16] = { rg.rax, rg.rcx, rg.rdx, rg.rbx, rg.rsp, rg.rbp, rg.rsi, rg.rdi,
                             rg.r8, rg.r9, rg.r10, rg.r11, rg.r12, rg.r13, rg.r14, rg.r15 };
    memcpy(st->gpr, v, sizeof(v));
    st->rip = rg.rip;
    st->rflags = rg.rflags;
}

/* Why KVM stopped: an emulation failure names the instruction bytes KVM
 * reports (the nested kvm_pvm emulates CPL 0 code and lacks e.g. LAR,
 * CMPXCHG16B and INT n outside real mode; QEMU 7.2 with -accel kvm stops on
 * the same instructions there). */
static void describe_exit(const struct kvm_run *run, char *why, size_t len)
{
    if (run->exit_reason != KVM_EXIT_INTERNAL_ERROR) {
        snprintf(why, len, "exit reason %u", run->exit_reason);
        return;
    }
    if (run->emulation_failure.suberror != KVM_INTERNAL_ERROR_EMULATION) {
        snprintf(why, len, "internal error, suberror %u", run->emulation_failure.suberror);
        return;
    }
    int n = snprintf(why, len, "internal error: its instruction emulator failed");
    if (run->emulation_failure.ndata >= 2 &&
        (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
        unsigned size = run->emulation_failure.insn_size;
        n += snprintf(why + n, len - (size_t)n, " on");
        for (unsigned i = 0; i < size && i < 4; i++)
            n += snprintf(why + n, len - (size_t)n, " %02x", run->emulation_failure.insn_bytes[i]);
    }
}

void oracle_kvm_run(OracleKVM *k, const OracleCase *c, OracleResult *r)
{
    memset(r, 0, sizeof(*r));
    uint8_t *ram = k->ram;
    memset(ram, 0, ORACLE_RAM_SIZE);
    memset(ram + (ORACLE_CODE - ORACLE_RAM_BASE), 0xcc, 4096);
    memcpy(ram + (ORACLE_CODE - ORACLE_RAM_BASE), c->code, c->len);
    ram[ORACLE_CODE - ORACLE_RAM_BASE + c->len] = 0xf4;
    memcpy(ram + (ORACLE_DATA - ORACLE_RAM_BASE), c->data, ORACLE_MEM_CMP);
    oracle_build_page_tables(ram);
    oracle_build_system_page(ram);
    r->end = ORACLE_END_CRASH;
    if (!setup_vcpu(k, c))
        return;
    for (int exits = 0; exits < 100; exits++) {
        if (ioctl(k->vcpu, KVM_RUN, 0) < 0 && errno != EINTR)
            return;
        struct kvm_run *run = k->run;
        if (run->exit_reason == KVM_EXIT_HLT) {
            get_state(k, &r->st);
            r->end = r->st.rip == ORACLE_CODE + c->len + 1 ? ORACLE_END_OK : ORACLE_END_CRASH;
            if (r->end == ORACLE_END_CRASH)
                break;
            r->st.rip = ORACLE_CODE + c->len;
            break;
        }
        if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
            run->io.port < 32) {
            int v = run->io.port;
            get_state(k, &r->st);
            /* INT3/INTO push no error code; the exceptions below 32 that
             * have one do */
            oracle_read_event_frame(ram, v, oracle_pushes_error_code(v), r);
            struct kvm_sregs sr;
            ioctl(k->vcpu, KVM_GET_SREGS, &sr);
            r->cr2 = sr.cr2;
            /* the frame is not part of the comparison (the translator leaves
             * the exception pending instead of delivering it) */
            memset(ram + (ORACLE_SYS_IST - 64 - ORACLE_RAM_BASE), 0, 64);
            break;
        }
        if (run->exit_reason != KVM_EXIT_INTR) {
            get_state(k, &r->st);
            r->vector = -(int)run->exit_reason;
            describe_exit(run, r->why, sizeof(r->why));
            return;
        }
    }
    memcpy(r->data, ram + (ORACLE_DATA - ORACLE_RAM_BASE), ORACLE_MEM_CMP);
    memcpy(r->stack, ram + (ORACLE_RSP - ORACLE_MEM_CMP / 2 - ORACLE_RAM_BASE), ORACLE_MEM_CMP);
}
