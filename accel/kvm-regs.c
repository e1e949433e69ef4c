/* CPU state between CPUX86State and KVM: general registers, segment and
 * control registers (with the cached descriptors), the system MSRs and the
 * x87/SSE state. */
#include "accel/kvm-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "cpu/x86/helpers.h"
#include "system/log.h"

#define LOG_KVM_ONCE(what) \
    LOG_ONCE(LOG_UNIMP, 0, "kvm: %s refused: %s\n", what, strerror(errno))

/* Partial builds may lack cpu/x86: fall back on the raw fields. */
#pragma weak x86_get_eflags
#pragma weak x86_set_eflags
#pragma weak x86_update_hflags

uint32_t kvm_env_get_eflags(CPUX86State *env)
{
    return x86_get_eflags ? x86_get_eflags(env) : (uint32_t)env->eflags;
}

void kvm_env_set_eflags(CPUX86State *env, uint32_t value)
{
    if (x86_set_eflags)
        x86_set_eflags(env, value, ~0u);
    else
        env->eflags = value;
}

void kvm_env_update_hflags(CPUX86State *env)
{
    if (x86_update_hflags)
        x86_update_hflags(env);
}

#define MSR_IA32_TSC          0x10u
#define MSR_IA32_SYSENTER_CS  0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u
#define MSR_IA32_PAT          0x277u
#define MSR_STAR              0xc0000081u
#define MSR_LSTAR             0xc0000082u
#define MSR_CSTAR             0xc0000083u
#define MSR_FMASK             0xc0000084u
#define MSR_KERNEL_GS_BASE    0xc0000102u
#define MSR_TSC_AUX           0xc0000103u

/* The MSRs kept in CPUX86State fields, as a table. */
static const struct { uint32_t index; size_t offset; } msr_fields[] = {
    { MSR_IA32_SYSENTER_CS, offsetof(CPUX86State, sysenter_cs) },
    { MSR_IA32_SYSENTER_ESP, offsetof(CPUX86State, sysenter_esp) },
    { MSR_IA32_SYSENTER_EIP, offsetof(CPUX86State, sysenter_eip) },
    { MSR_IA32_PAT, offsetof(CPUX86State, pat) },
    { MSR_STAR, offsetof(CPUX86State, star) },
    { MSR_LSTAR, offsetof(CPUX86State, lstar) },
    { MSR_CSTAR, offsetof(CPUX86State, cstar) },
    { MSR_FMASK, offsetof(CPUX86State, fmask) },
    { MSR_KERNEL_GS_BASE, offsetof(CPUX86State, kernel_gs_base) },
    { MSR_TSC_AUX, offsetof(CPUX86State, tsc_aux) },
};
#define NR_MSRS ARRAY_SIZE(msr_fields)

static uint64_t *msr_field(CPUX86State *env, unsigned i)
{
    return (uint64_t *)((char *)env + msr_fields[i].offset);
}

static void seg_to_kvm(const SegmentCache *s, struct kvm_segment *k)
{
    uint32_t f = s->flags;
    *k = (struct kvm_segment){
        .base = s->base, .limit = s->limit, .selector = s->selector,
        .type = (f >> DESC_TYPE_SHIFT) & 15, .s = !!(f & DESC_S_MASK),
        .dpl = (f >> DESC_DPL_SHIFT) & 3, .present = !!(f & DESC_P_MASK),
        .avl = (f >> 20) & 1, .l = !!(f & DESC_L_MASK), .db = !!(f & DESC_B_MASK),
        .g = !!(f & DESC_G_MASK), .unusable = !(f & DESC_P_MASK),
    };
}

/* Virtual-8086 segments are what real-mode addressing makes of the selector. */
static void v86_seg_to_kvm(const SegmentCache *s, struct kvm_segment *k)
{
    *k = (struct kvm_segment){
        .base = (uint64_t)s->selector << 4, .limit = 0xffff, .selector = s->selector,
        .type = 3, .s = 1, .dpl = 3, .present = 1,
    };
}

static void seg_from_kvm(const struct kvm_segment *k, SegmentCache *s)
{
    s->selector = k->selector;
    s->base = k->base;
    s->limit = k->limit;
    s->flags = k->unusable ? 0 :
        ((uint32_t)k->type << DESC_TYPE_SHIFT) | (k->s ? DESC_S_MASK : 0) |
        ((uint32_t)k->dpl << DESC_DPL_SHIFT) | (k->present ? DESC_P_MASK : 0) |
        ((uint32_t)k->avl << 20) | (k->l ? DESC_L_MASK : 0) | (k->db ? DESC_B_MASK : 0) |
        (k->g ? DESC_G_MASK : 0);
}

static void regs_to_kvm(CPUX86State *env, struct kvm_regs *r)
{
    __u64 *g[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
                        &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15 };
    for (int i = 0; i < 16; i++)
        *g[i] = env->regs[i];
    r->rip = env->rip;
    r->rflags = kvm_env_get_eflags(env) | 2;
}

static void regs_from_kvm(CPUX86State *env, const struct kvm_regs *r)
{
    const __u64 *g[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
                              &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15 };
    for (int i = 0; i < 16; i++)
        env->regs[i] = *g[i];
    env->rip = r->rip;
    kvm_env_set_eflags(env, (uint32_t)r->rflags);
}

static void sregs_to_kvm(CPUX86State *env, const KVMVCPU *v, struct kvm_sregs *s)
{
    memset(s, 0, sizeof(*s));
    bool v86 = kvm_env_get_eflags(env) & VM_MASK;
    struct kvm_segment *segs[6] = { &s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs };
    for (int i = 0; i < 6; i++) {
        if (v86)
            v86_seg_to_kvm(&env->segs[i], segs[i]);
        else
            seg_to_kvm(&env->segs[i], segs[i]);
    }
    seg_to_kvm(&env->tr, &s->tr);
    seg_to_kvm(&env->ldt, &s->ldt);
    s->gdt.base = env->gdt.base;
    s->gdt.limit = env->gdt.limit;
    s->idt.base = env->idt.base;
    s->idt.limit = env->idt.limit;
    s->cr0 = env->cr[0];
    s->cr2 = env->cr[2];
    s->cr3 = env->cr[3];
    s->cr4 = env->cr[4];
    s->cr8 = env->cr8;
    s->efer = env->efer;
    s->apic_base = env->apic_base;
    memcpy(s->interrupt_bitmap, v->pending_irq_bitmap, sizeof(s->interrupt_bitmap));
}

static void sregs_from_kvm(CPUX86State *env, KVMVCPU *v, const struct kvm_sregs *s)
{
    const struct kvm_segment *segs[6] = { &s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs };
    for (int i = 0; i < 6; i++)
        seg_from_kvm(segs[i], &env->segs[i]);
    seg_from_kvm(&s->tr, &env->tr);
    seg_from_kvm(&s->ldt, &env->ldt);
    env->gdt.base = s->gdt.base;
    env->gdt.limit = s->gdt.limit;
    env->idt.base = s->idt.base;
    env->idt.limit = s->idt.limit;
    env->cr[0] = s->cr0;
    env->cr[2] = s->cr2;
    env->cr[3] = s->cr3;
    env->cr[4] = s->cr4;
    env->cr8 = s->cr8;
    env->efer = s->efer;
    env->apic_base = s->apic_base;
    memcpy(v->pending_irq_bitmap, s->interrupt_bitmap, sizeof(v->pending_irq_bitmap));
}

/* FXSAVE layout: ST(i) in stack order, the abridged tag word by physical
 * register with 1 = valid (env->fptags has 1 = empty). */
static void fpu_to_kvm(CPUX86State *env, struct kvm_fpu *f)
{
    memset(f, 0, sizeof(*f));
    f->fcw = env->fpuc;
    f->fsw = (env->fpus & ~0x3800) | ((env->fpstt & 7) << 11);
    f->ftwx = ~env->fptags & 0xff;
    f->last_opcode = env->fpop;
    f->last_ip = env->fpip;
    f->last_dp = env->fpdp;
    for (int i = 0; i < 8; i++) {
        const Float80 *r = &env->fpregs[(env->fpstt + i) & 7];
        memcpy(f->fpr[i], &r->mant, 8);
        memcpy(f->fpr[i] + 8, &r->sexp, 2);
    }
    memcpy(f->xmm, env->xmm, sizeof(f->xmm));
    f->mxcsr = env->mxcsr;
}

static void fpu_from_kvm(CPUX86State *env, const struct kvm_fpu *f)
{
    env->fpuc = f->fcw;
    env->fpstt = (f->fsw >> 11) & 7;
    env->fpus = f->fsw & ~0x3800;
    env->fptags = ~f->ftwx & 0xff;
    env->fpop = f->last_opcode;
    env->fpip = f->last_ip;
    env->fpdp = f->last_dp;
    for (int i = 0; i < 8; i++) {
        Float80 *r = &env->fpregs[(env->fpstt + i) & 7];
        memcpy(&r->mant, f->fpr[i], 8);
        memcpy(&r->sexp, f->fpr[i] + 8, 2);
    }
    memcpy(env->xmm, f->xmm, sizeof(f->xmm));
    env->mxcsr = f->mxcsr;
}

/* The table's MSRs, then the TSC (converted: env keeps it as an offset
 * from the virtual clock, which stands still while the VM is paused). */
typedef struct MsrList {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[NR_MSRS + 1];
} MsrList;
#define TSC_SLOT NR_MSRS

static int fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "kvm: %s: %s", what, strerror(errno));
    return -1;
}

static void debugregs_to_kvm(CPUX86State *env, struct kvm_debugregs *d)
{
    memset(d, 0, sizeof(*d));
    for (int i = 0; i < 4; i++)
        d->db[i] = env->dr[i];
    d->dr6 = env->dr[6];
    d->dr7 = env->dr[7];
}

static void debugregs_from_kvm(CPUX86State *env, const struct kvm_debugregs *d)
{
    for (int i = 0; i < 4; i++)
        env->dr[i] = d->db[i];
    env->dr[6] = d->dr6;
    env->dr[7] = d->dr7;
}

/* XCR0 (XSETBV) travels with the other registers (a refusal, e.g. without
 * XSAVE in CPUID, is logged under -d unimp). */
static void put_xcr0(KVMVCPU *v, CPUX86State *env)
{
    struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs = { { .xcr = 0, .value = env->xcr0 } } };
    if (ioctl(v->fd, KVM_SET_XCRS, &xcrs) < 0)
        LOG_KVM_ONCE("KVM_SET_XCRS");
}

static void get_xcr0(KVMVCPU *v, CPUX86State *env)
{
    struct kvm_xcrs xcrs;
    if (ioctl(v->fd, KVM_GET_XCRS, &xcrs) < 0)
        return;
    for (uint32_t i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
        if (xcrs.xcrs[i].xcr == 0)
            env->xcr0 = xcrs.xcrs[i].value;
}

/* NMI masking and the STI/MOV SS shadow live in env too; the rest of the
 * events is KVM's business and only travels with it. */
static void put_events(KVMVCPU *v, CPUX86State *env)
{
    struct kvm_vcpu_events ev;
    if (v->events_valid) {
        ev = v->events;
    } else {
        memset(&ev, 0, sizeof(ev));
    }
    ev.nmi.masked = env->nmi_masked;
    ev.interrupt.shadow = (env->hflags & HF_INHIBIT_IRQ_MASK) ? KVM_X86_SHADOW_INT_STI : 0;
    ev.flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_NMI_PENDING;
    if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
        LOG_KVM_ONCE("KVM_SET_VCPU_EVENTS");
}

static void get_events(KVMVCPU *v, CPUX86State *env)
{
    v->events_valid = ioctl(v->fd, KVM_GET_VCPU_EVENTS, &v->events) == 0;
    if (!v->events_valid)
        return;
    env->nmi_masked = v->events.nmi.masked;
    if (v->events.interrupt.shadow)
        env->hflags |= HF_INHIBIT_IRQ_MASK;
    else
        env->hflags &= ~HF_INHIBIT_IRQ_MASK;
}

int kvm_put_state(KVMVCPU *v, CPUX86State *env, char *err, size_t errlen)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;
    struct kvm_debugregs dbg;
    MsrList msrs = { .hdr.nmsrs = NR_MSRS + 1 };

    regs_to_kvm(env, &regs);
    debugregs_to_kvm(env, &dbg);
    sregs_to_kvm(env, v, &sregs);
    fpu_to_kvm(env, &fpu);
    for (unsigned i = 0; i < NR_MSRS; i++)
        msrs.e[i] = (struct kvm_msr_entry){ .index = msr_fields[i].index, .data = *msr_field(env, i) };
    msrs.e[TSC_SLOT] = (struct kvm_msr_entry){ .index = MSR_IA32_TSC, .data = x86_get_tsc(env) };
    if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
        return fail(err, errlen, "KVM_SET_SREGS");
    if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
        return fail(err, errlen, "KVM_SET_REGS");
    /* A refused FPU or MSR value is not fatal: the guest may never use it. */
    if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
        LOG_KVM_ONCE("KVM_SET_FPU");
    if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != (int)NR_MSRS + 1)
        LOG_KVM_ONCE("KVM_SET_MSRS");
    if (ioctl(v->fd, KVM_SET_DEBUGREGS, &dbg) < 0)
        LOG_KVM_ONCE("KVM_SET_DEBUGREGS");
    if (env->xcr0)
        put_xcr0(v, env);
    put_events(v, env);
    /* HLT exits to userspace (no in-kernel irqchip): env->halted stays ours;
     * after a triple fault the vCPU must be made runnable again. */
    struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
    ioctl(v->fd, KVM_SET_MP_STATE, &mp);
    return 0;
}

int kvm_get_state(KVMVCPU *v, CPUX86State *env, char *err, size_t errlen)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;
    struct kvm_debugregs dbg;
    MsrList msrs = { .hdr.nmsrs = NR_MSRS + 1 };

    for (unsigned i = 0; i < NR_MSRS; i++)
        msrs.e[i].index = msr_fields[i].index;
    msrs.e[TSC_SLOT].index = MSR_IA32_TSC;
    if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
        return fail(err, errlen, "KVM_GET_REGS");
    if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
        return fail(err, errlen, "KVM_GET_SREGS");
    regs_from_kvm(env, &regs);
    sregs_from_kvm(env, v, &sregs);
    if (ioctl(v->fd, KVM_GET_FPU, &fpu) == 0)
        fpu_from_kvm(env, &fpu);
    int n = ioctl(v->fd, KVM_GET_MSRS, &msrs);
    for (int i = 0; i < n && i < (int)NR_MSRS; i++)
        *msr_field(env, i) = msrs.e[i].data;
    if (n == (int)NR_MSRS + 1)
        x86_set_tsc(env, msrs.e[TSC_SLOT].data);
    if (ioctl(v->fd, KVM_GET_DEBUGREGS, &dbg) == 0)
        debugregs_from_kvm(env, &dbg);
    get_xcr0(v, env);
    kvm_env_update_hflags(env);
    get_events(v, env);
    return 0;
}
