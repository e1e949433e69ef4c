/* The differential oracle: one instruction snippet, one initial state, run
 * under the translator (both backends) and on a reference (the host CPU in a
 * child process for user-mode code; KVM for system code), and the final
 * states compared.
 *
 * The address layout is the same everywhere (identity-mapped, below 4 GiB so
 * that 32-bit snippets see it too):
 *   ORACLE_CODE   one page: the snippet, a HLT (ORACLE_END_BYTE), 0xcc to
 *                 the end of the page, the same bytes on both sides
 *   ORACLE_DATA   ORACLE_DATA_SIZE bytes of data the snippet may touch
 *   ORACLE_HOLE   the page after the data: never mapped (#PF)
 *   ORACLE_STACK  ORACLE_STACK_SIZE bytes of stack, RSP starts in the middle
 * The snippet runs at CPL 3 under both, so privileged instructions fault
 * alike.
 *
 * Modes: 64 (64-bit user code), 32 (compatibility mode, flat), 16 (16-bit
 * protected mode on LDT segments, 64 KiB limits: CS based at ORACLE_CODE, DS
 * and ES at ORACLE_DATA, SS at ORACLE_STACK; SP is the low 16 bits of
 * ORACLE_RSP, so the stack is at the same linear addresses in every mode).
 * RIP is always linear (ORACLE_CODE + IP in 16-bit mode). */
#ifndef TESTS_ORACLE_ORACLE_H
#define TESTS_ORACLE_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORACLE_CODE       0x10000000ULL
#define ORACLE_CODE_MAX   512            /* snippet bytes */
#define ORACLE_END_BYTE   0xf4           /* HLT: #GP(0) at CPL 3 ends the snippet */
#define ORACLE_DATA       0x10010000ULL
#define ORACLE_DATA_SIZE  0x2000ULL
#define ORACLE_HOLE       (ORACLE_DATA + ORACLE_DATA_SIZE)
#define ORACLE_STACK      0x10020000ULL
#define ORACLE_STACK_SIZE 0x2000ULL
#define ORACLE_RSP        (ORACLE_STACK + ORACLE_STACK_SIZE / 2)
/* System snippets (KVM as the reference) run at CPL 0 with this page
 * holding the GDT (Linux's layout), a 64-bit TSS, the IDT and one handler
 * per exception vector (OUT to port = vector, on IST1 at the page's end). */
#define ORACLE_SYS        0x10030000ULL
#define ORACLE_SYS_TSS    (ORACLE_SYS + 0x100)
#define ORACLE_SYS_IDT    (ORACLE_SYS + 0x200)
#define ORACLE_SYS_LDT    (ORACLE_SYS + 0x600)   /* the native child's LDT, copied */
#define ORACLE_SYS_STUBS  (ORACLE_SYS + 0x800)
#define ORACLE_SYS_IST    (ORACLE_SYS + 0x1000)
#define ORACLE_GDT_LIMIT  0x4f
#define ORACLE_KERNEL_CS  0x10
#define ORACLE_KERNEL_DS  0x18
#define ORACLE_TSS_SEL    0x40
/* Page tables (translator and KVM): physical = virtual. */
#define ORACLE_PT         0x10100000ULL
#define ORACLE_RAM_BASE   ORACLE_CODE
#define ORACLE_RAM_SIZE   0x200000ULL

/* The bytes of data and stack compared (the first part of each). */
#define ORACLE_MEM_CMP    1024
/* Random memory operands point into the first part of the data; the FXSAVE
 * image of x87/MMX snippets lives at ORACLE_FXAREA (compared with the rest). */
#define ORACLE_GEN_SPAN   512
#define ORACLE_FXAREA     (ORACLE_DATA + ORACLE_GEN_SPAN)

/* The 16-bit segments (LDT, RPL 3): byte granular, 64 KiB, DPL 3, accessed,
 * AVL clear (modify_ldt's old mode, func 1, drops "useable"); the
 * translator's LDT holds the same. */
#define ORACLE_SEL_CODE16  0x07
#define ORACLE_SEL_DATA16  0x0f
#define ORACLE_SEL_STACK16 0x17
#define ORACLE_STR_(x) #x
#define ORACLE_STR(x) ORACLE_STR_(x)
/* OracleResult.vector of an ORACLE_END_CRASH: 16-bit segments refused */
#define ORACLE_NO_LDT16   (-3)

/* Register numbers as in the ModRM encoding. */
enum { OR_RAX, OR_RCX, OR_RDX, OR_RBX, OR_RSP, OR_RBP, OR_RSI, OR_RDI };

typedef struct OracleState {
    uint64_t gpr[16];
    uint64_t rip;
    uint64_t rflags;
    uint64_t xmm[16][2];
    uint32_t mxcsr;
    uint32_t pad;
} OracleState;

/* What ended a run. */
typedef enum OracleEnd {
    ORACLE_END_OK,        /* reached the end of the snippet */
    ORACLE_END_EXCEPTION, /* a fault: vector, error code, cr2 for #PF */
    ORACLE_END_TIMEOUT,   /* did not finish (the harness's bound) */
    ORACLE_END_CRASH,     /* the reference could not run it (harness problem) */
} OracleEnd;

typedef struct OracleResult {
    OracleEnd end;
    int vector;
    uint32_t error_code;
    uint64_t cr2;
    OracleState st;       /* at the end, or at the faulting instruction */
    uint8_t data[ORACLE_MEM_CMP];
    uint8_t stack[ORACLE_MEM_CMP];   /* from ORACLE_RSP - ORACLE_MEM_CMP / 2 */
    char why[96];         /* ORACLE_END_CRASH: what stopped the reference */
} OracleResult;

/* What to compare beyond the general registers, RIP and memory. */
#define ORACLE_CMP_XMM 1u

typedef struct OracleCase {
    int mode;                    /* 64, 32 or 16 */
    bool system;                 /* CPL 0 with the system tables (KVM reference) */
    unsigned len;
    uint8_t code[ORACLE_CODE_MAX];
    uint32_t flag_mask;          /* RFLAGS bits compared at the end */
    uint32_t flag_mask_fault;    /* ... and at a fault (undefined at some point) */
    uint32_t cmp;                /* ORACLE_CMP_* */
    char name[192];              /* the instructions, for reports */
    OracleState in;
    uint8_t data[ORACLE_MEM_CMP];  /* initial data (the rest of the page is 0) */
} OracleCase;

/* RFLAGS bits a snippet may change and the harness compares by default:
 * CF PF AF ZF SF DF OF (and TF/IF/... are fixed by the harness). */
#define ORACLE_FLAGS_ARITH 0x8d5u
#define ORACLE_FLAGS_ALL   (ORACLE_FLAGS_ARITH | 0x400u)

/* ---- native.c: the host CPU as reference (x86-64 hosts) ---- */
/* Runs n cases in a child process; results[i] for cases[i]. False (with a
 * reason) when native execution is impossible here. */
bool oracle_native_run(const OracleCase *cases, OracleResult *results, size_t n,
                       char *why, size_t whylen);

/* ---- tcg-run.c: the translator ---- */
typedef struct OracleTCG OracleTCG;
OracleTCG *oracle_tcg_new(bool interp);
void oracle_tcg_free(OracleTCG *o);
void oracle_tcg_run(OracleTCG *o, const OracleCase *c, OracleResult *r);
/* The translator's guest RAM (ORACLE_RAM_BASE, ORACLE_RAM_SIZE bytes) and
 * machine, for tests that run their own vCPUs on it. */
uint8_t *oracle_tcg_ram(void);

/* ---- kvm-run.c: KVM as reference for system snippets ---- */
typedef struct OracleKVM OracleKVM;
/* NULL with the reason when KVM cannot be used. */
OracleKVM *oracle_kvm_new(char *why, size_t whylen);
void oracle_kvm_free(OracleKVM *k);
void oracle_kvm_run(OracleKVM *k, const OracleCase *c, OracleResult *r);

/* ---- sys-tables.c: what both the translator and KVM see ---- */
/* ram is the oracle's RAM (ORACLE_RAM_BASE..+ORACLE_RAM_SIZE): page tables
 * mapping code, data, stack (user) and the system page (supervisor). */
void oracle_build_page_tables(uint8_t *ram);
void oracle_build_system_page(uint8_t *ram);
/* Vectors whose exceptions push an error code. */
bool oracle_pushes_error_code(int vector);
/* The vector whose handler stub holds rip, or -1. */
int oracle_stub_vector(uint64_t rip);
/* After an event entered its handler stub (on IST1): the state it
 * interrupted, from the frame (RIP as the oracle's linear RIP), into r. */
void oracle_read_event_frame(const uint8_t *ram, int vector, bool error_code, OracleResult *r);
/* The system cases (system-cases.c): few, small, 64-bit. */
size_t oracle_system_cases(OracleCase *out, size_t max);

/* ---- compare.c ---- */
/* 0 when the results agree for this case; else writes a report. */
int oracle_compare(const OracleCase *c, const OracleResult *ref, const OracleResult *got,
                   char *report, size_t len);
void oracle_describe_result(const OracleResult *r, int mode, char *out, size_t len);

/* ---- gen.c: random cases ---- */
typedef struct OracleGen {
    uint64_t rng;
    int mode;
    unsigned max_insns;      /* per snippet */
} OracleGen;
void oracle_gen_init(OracleGen *g, uint64_t seed, int mode);
void oracle_gen_case(OracleGen *g, OracleCase *c);
uint64_t oracle_rand(OracleGen *g);
/* The number of instruction forms in the table (for reports). */
unsigned oracle_gen_forms(int mode);

/* ---- case-io.c: regression files ---- */
bool oracle_case_write(const char *path, const OracleCase *c, const char *comment);
/* False with a reason on a malformed file. */
bool oracle_case_read(const char *path, OracleCase *c, char *why, size_t whylen);

#endif
