/* The translator accelerator: the execution loop of a vCPU (interrupts,
 * exceptions, HLT, finding and running translated blocks, chaining them),
 * precise unwinding for exceptions raised inside translated code, and the
 * self-modifying-code and DMA invalidation paths. */
#include <stdlib.h>
#include "accel/tcg-cpu.h"
#include "cpu/x86/cc.h"
#include "cpu/x86/exec.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/translate.h"
#include "cpu/x86/translate-helpers.h"
#include "system/cpus.h"
#include "system/gdbstub.h"
#include "system/log.h"
#include "system/machine.h"
#include "system/mainloop.h"
#include "system/opts.h"
#include "system/util.h"

bool tcg_use_interp;
static void tcg_memory_changed(Machine *m);
static uint64_t memory_code_digest(AddressSpace *as);
static void tcg_layout_changed(AddressSpace *as, void *opaque);
static void (*prev_layout_changed)(AddressSpace *as, void *opaque);
static void *prev_layout_opaque;
static uint64_t last_code_digest;
__thread TCGCPU *tcg_current_cpu;
static const TCGBackend *tcg_backend;

/* ---- unwinding --------------------------------------------------------------- */
static void restore_from_insn(CPUX86State *env, TranslationBlock *tb, int i)
{
    if (i < 0 || (unsigned)i >= tb->icount)
        return;
    /* a PC-relative block holds offsets from the page it was entered on */
    env->rip = tb->insn_pc[i] + (tb->pcrel ? env->tb_pc_base : 0);
    if (tb->insn_cc_op[i] != CC_OP_DYNAMIC)
        env->cc_op = tb->insn_cc_op[i];
}

/* Which TB and instruction is executing at host address ra (0: none known). */
static TranslationBlock *find_running(TCGCPU *t, uintptr_t ra, int *insn)
{
    if (!ra)
        return NULL;
    if (t->in_interp) {
        *insn = t->interp_insn;
        return t->interp_tb;
    }
    TranslationBlock *tb = tb_from_host_ra(t, ra);
    if (!tb)
        return NULL;
    *insn = t->backend->insn_from_ra(tb, ra);
    return tb;
}

void cpu_restore_state(CPUX86State *env, uintptr_t retaddr)
{
    TCGCPU *t = tcg_cpu(env);
    int insn = -1;
    if (!t)
        return;
    TranslationBlock *tb = find_running(t, retaddr, &insn);
    if (tb)
        restore_from_insn(env, tb, insn);
}

_Noreturn void cpu_loop_exit(CPUX86State *env)
{
    TCGCPU *t = tcg_cpu(env);
    if (t)
        t->in_interp = false;
    longjmp(env->jmp_env, 1);
}

_Noreturn void cpu_loop_exit_restore(CPUX86State *env, uintptr_t retaddr)
{
    cpu_restore_state(env, retaddr);
    cpu_loop_exit(env);
}

_Noreturn void x86_raise_exception(CPUX86State *env, int vector, int error_code, uintptr_t retaddr)
{
    cpu_restore_state(env, retaddr);
    env->exception_index = vector;
    env->error_code = error_code;
    cpu_loop_exit(env);
}

_Noreturn void x86_raise_exception_noerr(CPUX86State *env, int vector, uintptr_t retaddr)
{
    x86_raise_exception(env, vector, 0, retaddr);
}

/* ---- self-modifying code ---------------------------------------------------------- */
/* The blocks holding a byte of the store [paddr, paddr + size) (which may
 * cross into the next page) are invalid now. */
static bool tb_invalidate_written(TCGCPU *t, uint64_t paddr, unsigned size)
{
    uint64_t last = paddr + size - 1;
    if ((last & TARGET_PAGE_MASK) == (paddr & TARGET_PAGE_MASK))
        return tb_invalidate_phys_range(t, paddr, size);
    bool first = tb_invalidate_phys_range(t, paddr, (unsigned)(TARGET_PAGE_SIZE - (paddr & ~TARGET_PAGE_MASK)));
    bool second = tb_invalidate_phys_range(t, last & TARGET_PAGE_MASK, (unsigned)((last & ~TARGET_PAGE_MASK) + 1));
    return first || second;
}

void tcg_code_write(CPUX86State *env, uint64_t paddr, unsigned size, uintptr_t ra)
{
    TCGCPU *t = tcg_cpu(env);
    uint64_t page = paddr & TARGET_PAGE_MASK;
    int insn = -1;
    /* other vCPUs holding code there check the write against their own */
    bool local = tb_page_has_code(t, page);
    if (code_page_users(t, page) > (local ? 1u : 0u))
        tcg_request_others(t, paddr, INVAL_WRITE, size);
    if (!local)
        return;
    TranslationBlock *cur = find_running(t, ra, &insn);
    bool cur_valid = cur && !cur->invalid;
    /* data next to code leaves the code valid (for a while: see
     * tb_note_data_write) */
    if (!tb_write_hits_code(t, paddr, size) || !tb_invalidate_written(t, paddr, size))
        tb_note_data_write(t, page);
    if (cur_valid && cur->invalid && !(cur->cflags & CF_SINGLE_INSN)) {
        /* The running block may have changed itself: redo this instruction
         * alone, then continue with freshly translated code. */
        restore_from_insn(env, cur, insn);
        t->single_insn_next = true;
        cpu_loop_exit(env);
    }
}

void tcg_request(TCGCPU *t, uint64_t paddr, unsigned kind, unsigned size)
{
    pthread_mutex_lock(&t->inval_lock);
    if (t->nr_inval >= (int)ARRAY_SIZE(t->inval)) {
        t->inval_overflow = true;
    } else {
        t->inval[t->nr_inval].paddr = paddr;
        t->inval[t->nr_inval].kind = (uint8_t)kind;
        t->inval[t->nr_inval].size = (uint8_t)size;
        t->nr_inval++;
    }
    pthread_mutex_unlock(&t->inval_lock);
    atomic_store(&t->exit_flag, 1);
}

void tcg_request_others(TCGCPU *self, uint64_t paddr, unsigned kind, unsigned size)
{
    Machine *m = current_machine;
    if (!m)
        return;
    for (int i = 0; i < m->ncpus; i++) {
        VCPU *cpu = m->cpus[i];
        if (!cpu || !cpu->env || !cpu->env->accel || cpu->env->accel == self)
            continue;
        tcg_request(tcg_cpu(cpu->env), paddr, kind, size);
    }
}

static void process_dma_invalidations(TCGCPU *t)
{
    if (!t->nr_inval && !t->inval_overflow && !t->tlb_flush_pending)
        return;
    pthread_mutex_lock(&t->inval_lock);
    if (t->tlb_flush_pending) {
        tlb_flush(t->env);
        t->tlb_flush_pending = false;
    }
    if (t->inval_overflow) {
        tb_flush(t);
    } else {
        for (int i = 0; i < t->nr_inval; i++) {
            uint64_t pa = t->inval[i].paddr, page = pa & TARGET_PAGE_MASK;
            switch (t->inval[i].kind) {
            case INVAL_PAGE:
                tb_invalidate_phys_page(t, page);
                break;
            case INVAL_WRITE:
                if (tb_write_hits_code(t, pa, t->inval[i].size))
                    tb_invalidate_written(t, pa, t->inval[i].size);
                break;
            default:   /* another vCPU translated code there: catch our stores */
                tlb_protect_code(t, page);
                break;
            }
        }
    }
    t->nr_inval = 0;
    t->inval_overflow = false;
    pthread_mutex_unlock(&t->inval_lock);
}

/* RAM written by a device (DMA) or the loaders: queue the pages for every vCPU. */
static void tcg_ram_write_notify(uint64_t addr, uint64_t len)
{
    Machine *m = current_machine;
    if (!m || !len)
        return;
    uint64_t first = addr & TARGET_PAGE_MASK, last = (addr + len - 1) & TARGET_PAGE_MASK;
    for (int i = 0; i < m->ncpus; i++) {
        VCPU *cpu = m->cpus[i];
        if (!cpu || !cpu->env || !cpu->env->accel)
            continue;
        TCGCPU *t = tcg_cpu(cpu->env);
        for (uint64_t p = first; p <= last; p += TARGET_PAGE_SIZE) {
            if (!code_page_in_use(t, p))
                continue;
            tcg_request(t, p, INVAL_PAGE, 0);
        }
    }
}

/* ---- the loop ---------------------------------------------------------------------- */
static void log_cpu_state(CPUX86State *env)
{
    if (log_enabled(LOG_CPU))
        x86_cpu_dump_state(env, (struct _IO_FILE *)log_file());
}

/* After a block: the loop must run (the CPU halted, an exception is
 * pending, an event could be taken now). A pending INTR with IF=0 waits for
 * the STI/POPF/IRET, whose block ends by asking again. */
static bool loop_needed(CPUX86State *env)
{
    if (env->halted || env->exception_index >= 0)
        return true;
    unsigned req = atomic_load_explicit(&env->interrupt_request, memory_order_relaxed);
    return (req & ~CPU_INTERRUPT_HARD) ||
           ((req & CPU_INTERRUPT_HARD) && (env->eflags & IF_MASK) && !(env->hflags & HF_INHIBIT_IRQ_MASK));
}

/* A back edge (tcg/tb.h) was taken to head: a loop's trips leave to here
 * unchained until the back edges to its head were taken tcg_region_trips
 * times, then the head is translated again as a region (cold code stays in
 * plain blocks, cheaper to translate). Returns the block to run; *chain:
 * whether to chain the edge to it now. */
static TranslationBlock *back_edge_taken(TCGCPU *t, TranslationBlock *head, bool *chain)
{
    *chain = true;
    if (head->region || head->cflags)
        return head;
    t->stat_back_trips++;
    if (++head->loop_trips < tcg_region_trips) {
        *chain = false;
        return head;
    }
    unsigned gen = t->flush_count;
    head = tb_retranslate_region(t, head);
    *chain = gen == t->flush_count;   /* a flush took the edge's block with it */
    return head;
}

static void run_blocks(TCGCPU *t)
{
    CPUX86State *env = t->env;
    VCPU *cpu = t->cpu;
    TranslationBlock *last = NULL;
    int last_n = 0;
    while (!atomic_load_explicit(&t->exit_flag, memory_order_relaxed) &&
           !atomic_load_explicit(&cpu->exit_request, memory_order_relaxed)) {
        uint32_t cflags = 0;
        bool stepping = gdb_single_stepping(env);
        /* EFLAGS.RF (resume after a #DB fault) lasts one instruction */
        bool resume_flag = env->eflags & RF_MASK;
        if (t->single_insn_next || stepping || resume_flag) {
            t->single_insn_next = false;
            cflags = CF_SINGLE_INSN;
            last = NULL;
        }
        unsigned gen = t->flush_count;
        t->stat_loop_passes++;
        TranslationBlock *tb = tb_find(t, env->rip, x86_cs_base(env), tb_flags_of(env), cflags);
        if (gen != t->flush_count)
            last = NULL;   /* flushed while translating: the old block is gone */
        bool chain = true;
        if (last && (last->back_edge & (1u << last_n)) && !cflags)
            tb = back_edge_taken(t, tb, &chain);
        /* -d exec/cpu trace every block: no chaining then */
        if (last && chain && !(tb->cflags & CF_SINGLE_INSN) && !(last->cflags & CF_SINGLE_INSN) &&
            !log_enabled(LOG_EXEC | LOG_CPU))
            tb_set_jump(t, last, last_n, tb);
        last = NULL;
        if (log_enabled(LOG_EXEC))
            log_printf("Trace: [%p] %04x:%016" PRIx64 "\n", (void *)tb,
                       env->segs[R_CS].selector, env->rip);
        log_cpu_state(env);
        uintptr_t ret = t->backend->exec(env, tb);
        t->in_interp = false;
        if (resume_flag && env->exception_index < 0)
            env->eflags &= ~(uint64_t)RF_MASK;
        if (stepping) {
            gdb_vcpu_stopped(env, GDB_SIGTRAP);
            return;
        }
        if (TB_EXIT_IS_CHAIN(ret)) {
            last = TB_EXIT_TB(ret);
            last_n = TB_EXIT_N(ret);
            if (last->invalid)
                last = NULL;
        }
        if (loop_needed(env))
            return;
    }
}

uint64_t helper_end_block_needs_loop(CPUX86State *env, uint64_t from_code64)
{
    /* IRET may set RF, which the loop honours for one instruction */
    if (loop_needed(env) || (env->eflags & RF_MASK))
        return 1;
    /* A 64-bit block probes the jump cache inline, matching hflags alone:
     * right only while the new code's TB flags are hflags (64-bit code, or
     * flat segments) and its CS base is zero (always in 64-bit code), so
     * other mode changes go through the loop. */
    return from_code64 && !(env->hflags & HF_CS64_MASK) &&
           (x86_seg_tb_flags(env) != 0 || env->segs[R_CS].base != 0);
}

/* Interrupt acknowledge talks to the interrupt controllers: with the
 * machine lock, as every device access. */
static int locked_intack(CPUX86State *env)
{
    TCGCPU *t = tcg_cpu(env);
    bool lock = !machine_lock_held();
    if (lock)
        machine_lock();
    int v = t->board_intack ? t->board_intack(env) : -1;
    if (lock)
        machine_unlock();
    return v;
}

static void tcg_vcpu_run(VCPU *cpu)
{
    CPUX86State *env = cpu->env;
    TCGCPU *t = tcg_cpu(env);
    if (env->intack && env->intack != locked_intack) {
        t->board_intack = env->intack;
        env->intack = locked_intack;
    }
    tcg_ctx = t->ctx;
    tcg_current_cpu = t;

    setjmp(env->jmp_env);
    t->in_interp = false;
    x86_atomic_fallback_abandon();
    if (machine_lock_held())
        machine_unlock();   /* an exception raised while a device was being accessed */
    for (;;) {
        if (vcpu_should_stop(cpu))
            return;
        atomic_store(&t->exit_flag, 0);
        process_dma_invalidations(t);
        if (env->exception_index >= 0) {
            LOG(LOG_INT, "exception %d err=0x%x at %04x:%016" PRIx64 "\n", env->exception_index,
                env->error_code, env->segs[R_CS].selector, env->rip);
            x86_deliver_pending_exception(env);
            continue;
        }
        if (atomic_load(&env->interrupt_request) && !gdb_single_stepping(env)) {
            if (atomic_load(&env->interrupt_request) & CPU_INTERRUPT_EXIT)
                x86_cpu_reset_interrupt(env, CPU_INTERRUPT_EXIT);
            if (x86_cpu_exec_interrupt(env)) {
                LOG(LOG_INT, "interrupt taken, now at %04x:%016" PRIx64 "\n",
                    env->segs[R_CS].selector, env->rip);
                continue;
            }
        }
        if (env->halted) {
            if (x86_cpu_has_work(env)) {
                env->halted = false;
                continue;
            }
            vcpu_wait_for_event(cpu, -1);
            continue;
        }
        atomic_store(&cpu->exit_request, 0);
        run_blocks(t);
    }
}

/* Every vCPU drops its translations at its next loop turn (breakpoints changed). */
static void tcg_flush_all_cpus(void)
{
    Machine *m = current_machine;
    if (m)
        tcg_memory_changed(m);
}

/* -accel tcg,xfer-stats=on: the lookups by kind of transfer. */
static void dump_xfer_stats(FILE *f, int i, const TCGCPU *t)
{
    uint64_t all = 0, probed = 0;
    for (int k = 0; k < XFER_KINDS; k++) {
        all += t->stat_xfer[k];
        probed += t->stat_xfer_probe[k];
    }
    fprintf(f, "CPU #%d: lookups %" PRIu64 ", %" PRIu64 " past their site:", i, all, probed);
    for (int k = 0; k < XFER_KINDS; k++)
        fprintf(f, " %s %" PRIu64 "/%" PRIu64 "%s", tcg_xfer_kind_name(k), t->stat_xfer[k], t->stat_xfer_probe[k],
                k + 1 < XFER_KINDS ? "," : "\n");
}

void tcg_dump_jit_info(FILE *f)
{
    Machine *m = current_machine;
    fprintf(f, "Translator: backend %s\n", tcg_backend ? tcg_backend->name : "none");
    for (int i = 0; m && i < m->ncpus; i++) {
        VCPU *cpu = m->cpus[i];
        if (!cpu || !cpu->env || !cpu->env->accel)
            continue;
        TCGCPU *t = tcg_cpu(cpu->env);
        fprintf(f, "CPU #%d: %u blocks cached, %" PRIu64 " translated (%" PRIu64 " guest bytes -> %" PRIu64
                " host bytes), %" PRIu64 " shared at another PC, %" PRIu64 " invalidated, %u full flushes, %" PRIu64
                " indirect jumps looked up in C\n",
                i, tb_cache_count(t), t->stat_translated, t->stat_guest_bytes, t->stat_code_bytes,
                t->stat_shared, t->stat_invalidated, t->flush_count, t->stat_lookup_slow);
        fprintf(f, "CPU #%d: %" PRIu64 " translations where an invalidated block started (same physical PC, PC, flags), %"
                PRIu64 " of the same guest bytes\n", i, t->stat_retrans, t->stat_retrans_same);
        uint64_t xl = t->stat_xlate_ns[0] + t->stat_xlate_ns[1] + t->stat_xlate_ns[2];
        fprintf(f, "CPU #%d: translating took %.1f ms (front end %.1f, optimiser and liveness %.1f, back end %.1f; regions %.1f), %" PRIu64
                " ns per translation\n", i, xl / 1e6, t->stat_xlate_ns[0] / 1e6, t->stat_xlate_ns[1] / 1e6,
                t->stat_xlate_ns[2] / 1e6, t->stat_xlate_region_ns / 1e6, t->stat_translated ? xl / t->stat_translated : 0);
        fprintf(f, "CPU #%d: %" PRIu64 " IR ops and %" PRIu64 " temps per translation\n", i,
                t->stat_translated ? t->stat_ir_ops / t->stat_translated : 0,
                t->stat_translated ? t->stat_ir_temps / t->stat_translated : 0);
        fprintf(f, "CPU #%d: %" PRIu64 " hot loop heads translated again as regions after %" PRIu64
                " back-edge trips through the loop\n", i, t->stat_regions, t->stat_back_trips);
        fprintf(f, "CPU #%d: %" PRIu64 " page walks, %" PRIu64 " TLB fills, %" PRIu64 " victim TLB hits; TLB flushes: %" PRIu64 " full, %" PRIu64
                " non-global (CR3), %" PRIu64 " single page; jump cache: %" PRIu64 " revalidated, %" PRIu64 " stale\n",
                i, cpu->env->stat_walks, t->stat_tlb_fills, t->stat_tlb_victim_hits, t->stat_tlb_flushes, t->stat_tlb_flushes_nonglobal,
                t->stat_tlb_flushes_page, t->stat_jc_revalidations, t->stat_jc_stale);
        fprintf(f, "CPU #%d: jump cache: %" PRIu64 " misses looked up by physical PC; PCID: %"
                PRIu64 " switches, %" PRIu64 " found their entries\n", i, t->stat_hash_lookups,
                t->stat_pcid_switches, t->stat_pcid_restored);
        fprintf(f, "CPU #%d: %" PRIu64 " looping blocks with loop-invariant TLB probes (%" PRIu64
                " loop heads inside a block with pre-header probes), %" PRIu64
                " regions with a static cc_op at loop heads, %" PRIu64 " compares left out (an ALU op's flags served), %"
                PRIu64 " run-time cc_op stores left out (dead)\n",
                i, t->ctx->stat_loop_probes, t->ctx->stat_preheader_probes, t->ctx->stat_static_loop_cc,
                t->ctx->stat_flags_reused, t->ctx->stat_dead_cc_op_stores);
        fprintf(f, "CPU #%d: transfer sites: %" PRIu64 " misses, %" PRIu64 " links (%" PRIu64 " patching code), %" PRIu64 " given up; generations %u, %u global\n", i,
                t->stat_xlink_misses, t->stat_xlink_links, t->stat_xlink_patches, t->stat_xlink_mega, t->xlink_gen[0], t->xlink_gen[1]);
        if (tcg_xfer_stats)
            dump_xfer_stats(f, i, t);
        fprintf(f, "CPU #%d: %" PRIu64 " blocks run from the loop; %" PRIu64
                " jumps of PC-relative blocks that may not chain sent to the jump cache\n",
                i, t->stat_loop_passes, t->stat_jump_lookups);
        fprintf(f, "CPU #%d: translations went on through %" PRIu64 " direct JMPs, %" PRIu64 " direct CALLs and %" PRIu64
                " conditional branches\n", i, t->ctx->stat_follow_jmp, t->ctx->stat_follow_call, t->ctx->stat_follow_jcc);
        fprintf(f, "CPU #%d: %" PRIu64 " SETcc straight into byte registers\n", i, t->ctx->stat_setcc_into_byte);
        if (log_enabled(LOG_JIT_COUNT))
            fprintf(f, "CPU #%d: %" PRIu64 " block entries; %" PRIu64 " whole jump-cache probes (%" PRIu64
                    " found in way 0, %" PRIu64 " in way 1); %" PRIu64 " RETs through the return stack\n", i,
                    t->stat_entries, t->stat_jc_runtime, t->stat_jc_runtime_hit[0], t->stat_jc_runtime_hit[1],
                    t->stat_ras_hits);
        if (log_enabled(LOG_JIT_COUNT))
            fprintf(f, "CPU #%d: %" PRIu64 " victim TLB probes by slow paths, hits by MMU index %" PRIu64 " %" PRIu64
                    " %" PRIu64 " %" PRIu64 "\n", i, t->stat_victim_probes, t->stat_victim_probe_hits[0],
                    t->stat_victim_probe_hits[1], t->stat_victim_probe_hits[2], t->stat_victim_probe_hits[3]);
        fprintf(f, "CPU #%d: %" PRIu64 " loop accesses translated with a page cache\n", i, t->ctx->stat_access_caches);
        if (log_enabled(LOG_JIT_COUNT))
            fprintf(f, "CPU #%d: %" PRIu64 " accesses through page caches, %" PRIu64 " of them refilled it\n", i,
                    t->stat_cache_uses, t->stat_cache_refills);
        if (log_enabled(LOG_JIT_COUNT))
            fprintf(f, "CPU #%d: %" PRIu64 " loop-invariant TLB probes run, %" PRIu64
                    " of them failed (their loop's accesses then checked the TLB each), %" PRIu64
                    " of those with a window across pages, %" PRIu64 " checked for writes\n", i, t->stat_probe_runs,
                    t->stat_probe_misses, t->stat_probe_crossing, t->stat_probe_write_misses);
        fprintf(f, "CPU #%d: slow-path guest accesses: %" PRIu64 " loads, %" PRIu64 " stores, %" PRIu64
                " crossing a page; %" PRIu64 " stores to pages with code; %" PRIu64 " the TLB entry allowed\n",
                i, t->stat_slow_ld, t->stat_slow_st, t->stat_slow_cross, t->stat_slow_code, t->stat_slow_tlb_hit);
    }
    if (tcg_xfer_stats)
        xlink_dump_sites(f, 40);
}

/* ---- AccelOps ----------------------------------------------------------------------- */
/* An on/off -accel tcg option (off when absent) into *out; false with a
 * message in err when its value is neither. */
static bool accel_switch(Machine *m, const char *key, bool *out, char *err, size_t errlen)
{
    bool ok = true;
    *out = opts_get_bool(m->cfg->accel_opts, key, false, &ok);
    if (!ok)
        snprintf(err, errlen, "-accel tcg,%s=%s: use on or off", key, opts_get(m->cfg->accel_opts, key));
    return ok;
}

static int tcg_init(Machine *m, char *err, size_t errlen)
{
    const char *backend = m->cfg->accel_opts ? opts_get(m->cfg->accel_opts, "backend") : NULL;
#if defined(__x86_64__)
    const char *def = "x86_64";
#else
    const char *def = "interp";
#endif
    if (!backend)
        backend = def;
    if (strcmp(backend, "interp") == 0) {
        tcg_backend = &tcg_backend_interp;
    } else if (strcmp(backend, "x86_64") == 0) {
#if defined(__x86_64__)
        tcg_backend = &tcg_backend_x86_64;
#else
        snprintf(err, errlen, "-accel tcg,backend=x86_64: this host is not x86-64 (use backend=interp)");
        return -1;
#endif
    } else {
        snprintf(err, errlen, "-accel tcg: unknown backend '%s' (x86_64 or interp)", backend);
        return -1;
    }
    tcg_use_interp = tcg_backend == &tcg_backend_interp;
    const char *tb_size = m->cfg->accel_opts ? opts_get(m->cfg->accel_opts, "tb-size") : NULL;
    if (tb_size) {
        uint64_t mib;
        if (!parse_u64(tb_size, &mib) || mib < 1 || mib > 2048) {
            snprintf(err, errlen, "-accel tcg,tb-size=%s: give the code buffer size in MiB (1-2048)", tb_size);
            return -1;
        }
        tcg_code_buffer_size = (size_t)(mib * MiB);
    }
    if (!accel_switch(m, "return-stack", &tcg_return_stack, err, errlen) ||
        !accel_switch(m, "xfer-stats", &tcg_xfer_stats, err, errlen) ||
        !accel_switch(m, "xfer-sites", &tcg_xfer_sites, err, errlen))
        return -1;
    const char *trips = m->cfg->accel_opts ? opts_get(m->cfg->accel_opts, "region-trips") : NULL;
    if (trips) {
        uint64_t v;
        if (!parse_u64(trips, &v) || v > UINT16_MAX) {
            snprintf(err, errlen, "-accel tcg,region-trips=%s: give a count (0-65535; 0 plans every block)", trips);
            return -1;
        }
        tcg_region_trips = (unsigned)v;
    }
    const char *follow = m->cfg->accel_opts ? opts_get(m->cfg->accel_opts, "follow") : NULL;
    if (follow) {
        static const char *const names[] = { [FOLLOW_NONE] = "off", [FOLLOW_JMP] = "jmp", [FOLLOW_JMP_CALL] = "call", [FOLLOW_ALL] = "on" };
        unsigned i = 0;
        while (i < ARRAY_SIZE(names) && strcmp(follow, names[i]))
            i++;
        if (i == ARRAY_SIZE(names)) {
            snprintf(err, errlen, "-accel tcg,follow=%s: use on (JMPs, CALLs, Jccs), call (JMPs and CALLs), jmp or off", follow);
            return -1;
        }
        x86_translate_follow = i;
    }
    const char *thread = m->cfg->accel_opts ? opts_get(m->cfg->accel_opts, "thread") : NULL;
    if (thread && strcmp(thread, "multi") && strcmp(thread, "single")) {
        snprintf(err, errlen, "-accel tcg,thread=%s: use multi or single (each vCPU has its own thread)", thread);
        return -1;
    }
    if (tcg_backend->init && !tcg_backend->init(err, errlen))
        return -1;
    ram_write_notify = tcg_ram_write_notify;
    gdb_breakpoints_changed = tcg_flush_all_cpus;
    code_map_init(4 * GiB + m->ram_size);
    if (m->mem) {
        prev_layout_changed = m->mem->layout_changed;
        prev_layout_opaque = m->mem->layout_opaque;
        m->mem->layout_changed = tcg_layout_changed;
        m->mem->layout_opaque = m;
        last_code_digest = memory_code_digest(m->mem);
    }
    return 0;
}

/* Set up the translator state of one vCPU (also used by the unit tests). */
TCGCPU *tcg_cpu_create(CPUX86State *env, VCPU *cpu)
{
    TCGCPU *t = aligned_alloc(64, ALIGN_UP(sizeof(TCGCPU), 64));
    if (!t)
        fatal("out of memory");
    memset(t, 0, sizeof(*t));
    t->env = env;
    t->cpu = cpu;
    t->backend = tcg_backend ? tcg_backend : &tcg_backend_interp;
    t->ctx = tcg_context_new();
    t->cache = tb_cache_new(tcg_code_buffer_size);
    pthread_mutex_init(&t->inval_lock, NULL);
    tlb_init(t);
    tb_jmp_cache_init(t);
    env->accel = t;
    tcg_current_cpu = t;
    /* The globals live in each context; declare them here. */
    TCGContext *saved = tcg_ctx;
    tcg_ctx = t->ctx;
    x86_tcg_init_globals();
    tcg_ctx = saved;
    return t;
}

void tcg_cpu_destroy(CPUX86State *env)
{
    TCGCPU *t = tcg_cpu(env);
    if (!t)
        return;
    if (t->backend->free_state)
        t->backend->free_state(t);
    tb_release_pages(t);
    tb_cache_free(t->cache);
    tlb_pcid_free(t);
    tcg_context_free(t->ctx);
    free(t->interp_frame);
    pthread_mutex_destroy(&t->inval_lock);
    if (tcg_current_cpu == t)
        tcg_current_cpu = NULL;
    env->accel = NULL;
    free(t);
}

/* Select the backend without a Machine (unit tests). */
void tcg_select_backend(bool interp)
{
#if defined(__x86_64__)
    tcg_backend = interp ? &tcg_backend_interp : &tcg_backend_x86_64;
#else
    (void)interp;
    tcg_backend = &tcg_backend_interp;
#endif
    tcg_use_interp = tcg_backend == &tcg_backend_interp;
    if (tcg_backend->init) {
        char err[128];
        if (!tcg_backend->init(err, sizeof(err)))
            fatal("%s", err);
    }
}

/* Run translated code on env until it leaves (unit tests): returns when an
 * exception is pending, the CPU halts, or exit_flag is set. */
bool tcg_run_for(CPUX86State *env, unsigned max_turns)
{
    TCGCPU *t = tcg_cpu(env);
    tcg_ctx = t->ctx;
    tcg_current_cpu = t;
    static VCPU dummy;
    if (!t->cpu)
        t->cpu = &dummy;
    volatile unsigned turns = 0;
    /* a longjmp without an exception (self-modifying code) just goes on */
    setjmp(env->jmp_env);
    t->in_interp = false;
    x86_atomic_fallback_abandon();
    while (!env->halted && env->exception_index < 0) {
        if (max_turns && turns++ >= max_turns)
            return false;
        atomic_store(&t->exit_flag, 0);
        process_dma_invalidations(t);
        run_blocks(t);
    }
    return true;
}

void tcg_run_until_exit(CPUX86State *env)
{
    tcg_run_for(env, 0);
}

static int tcg_vcpu_init(VCPU *cpu, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    tcg_cpu_create(cpu->env, cpu);
    return 0;
}

static void tcg_vcpu_kick(VCPU *cpu)
{
    if (cpu->env && cpu->env->accel)
        atomic_store(&tcg_cpu(cpu->env)->exit_flag, 1);
}

/* Reset, loadvm, a debugger: registers and perhaps RAM changed behind our
 * back. The vCPU drops its TLB and translations at its next loop turn. */
static void tcg_vcpu_state_changed(VCPU *cpu)
{
    if (!cpu->env || !cpu->env->accel)
        return;
    TCGCPU *t = tcg_cpu(cpu->env);
    pthread_mutex_lock(&t->inval_lock);
    t->tlb_flush_pending = true;
    t->inval_overflow = true;
    pthread_mutex_unlock(&t->inval_lock);
    atomic_store(&t->exit_flag, 1);
}

/* Ask every vCPU to drop its TLB (host pointers of the old layout) and, when
 * RAM or ROM moved, its translations too, at its next loop turn. */
static void request_flush(Machine *m, bool translations)
{
    for (int i = 0; i < m->ncpus; i++) {
        VCPU *cpu = m->cpus[i];
        if (!cpu || !cpu->env || !cpu->env->accel)
            continue;
        TCGCPU *t = tcg_cpu(cpu->env);
        pthread_mutex_lock(&t->inval_lock);
        t->tlb_flush_pending = true;
        if (translations)
            t->inval_overflow = true;
        pthread_mutex_unlock(&t->inval_lock);
        atomic_store(&t->exit_flag, 1);
    }
}

static void tcg_memory_changed(Machine *m)
{
    request_flush(m, true);
}

/* A digest of where RAM and ROM sit: device (MMIO) regions come and go with
 * PCI BAR programming without affecting translated code. */
static uint64_t memory_code_digest(AddressSpace *as)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < as->nr_flat; i++) {
        const FlatRange *fr = &as->flat[i];
        if (fr->mr->kind == MR_IO)
            continue;
        uint64_t v[4] = { fr->start, fr->end, (uint64_t)(uintptr_t)fr->mr->host + (fr->start - fr->mr->base),
                          (uint64_t)fr->mr->kind };
        for (int k = 0; k < 4; k++)
            h = (h ^ v[k]) * 0x100000001b3ULL;
    }
    return h;
}

static void tcg_layout_changed(AddressSpace *as, void *opaque)
{
    Machine *m = opaque;
    if (prev_layout_changed)
        prev_layout_changed(as, prev_layout_opaque);
    uint64_t d = memory_code_digest(as);
    request_flush(m, d != last_code_digest);
    last_code_digest = d;
}

AccelOps accel_tcg_ops = {
    .name = "tcg",
    .init = tcg_init,
    .vcpu_init = tcg_vcpu_init,
    .vcpu_run = tcg_vcpu_run,
    .vcpu_kick = tcg_vcpu_kick,
    .vcpu_state_changed = tcg_vcpu_state_changed,
    .memory_changed = tcg_memory_changed,
    .dump_stats = tcg_dump_jit_info,
};
