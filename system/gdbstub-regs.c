/* The registers as gdb's i386:x86-64 target sees them: one table gives the
 * 'g' packet order, each register's size and where it lives in
 * CPUX86State; the target description sent to gdb is generated from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/x86/cpu.h"
#include "system/gdbstub-internal.h"
#include "system/util.h"

/* From cpu/x86 when linked in; the raw field otherwise. */
uint32_t x86_get_eflags(CPUX86State *env) __attribute__((weak));
void x86_set_eflags(CPUX86State *env, uint32_t value, uint32_t update_mask)
    __attribute__((weak));

typedef enum RegKind {
    REG_FIELD,      /* env field of env_size bytes, zero-extended to gdb size */
    REG_EFLAGS,
    REG_ST,         /* x87 ST(index) */
    REG_FSTAT,      /* status word with TOP */
    REG_FTAG,       /* full tag word from the abridged one */
} RegKind;

typedef struct GdbReg {
    const char *name;
    unsigned bits;          /* size in the packet */
    const char *type;       /* target description type */
    const char *feature;    /* "core", "sse", "segments" */
    RegKind kind;
    size_t offset;          /* REG_FIELD */
    unsigned env_size;      /* REG_FIELD */
    int index;              /* REG_ST */
} GdbReg;

#define F(field) offsetof(CPUX86State, field), sizeof(((CPUX86State *)0)->field)
#define GPR(n, i, t) { n, 64, t, "core", REG_FIELD, F(regs[i]), 0 }
#define SEGSEL(n, i) { n, 32, "int32", "core", REG_FIELD, F(segs[i].selector), 0 }
#define ST(i) { "st" #i, 80, "i387_ext", "core", REG_ST, 0, 0, i }
#define XMM(i) { "xmm" #i, 128, "vec128", "sse", REG_FIELD, F(xmm[i]), 0 }

static const GdbReg gdb_regs[] = {
    GPR("rax", R_EAX, "int64"), GPR("rbx", R_EBX, "int64"), GPR("rcx", R_ECX, "int64"),
    GPR("rdx", R_EDX, "int64"), GPR("rsi", R_ESI, "int64"), GPR("rdi", R_EDI, "int64"),
    GPR("rbp", R_EBP, "data_ptr"), GPR("rsp", R_ESP, "data_ptr"),
    GPR("r8", R_R8, "int64"), GPR("r9", R_R9, "int64"), GPR("r10", R_R10, "int64"),
    GPR("r11", R_R11, "int64"), GPR("r12", R_R12, "int64"), GPR("r13", R_R13, "int64"),
    GPR("r14", R_R14, "int64"), GPR("r15", R_R15, "int64"),
    { "rip", 64, "code_ptr", "core", REG_FIELD, F(rip), 0 },
    { "eflags", 32, "int32", "core", REG_EFLAGS, 0, 0, 0 },
    SEGSEL("cs", R_CS), SEGSEL("ss", R_SS), SEGSEL("ds", R_DS), SEGSEL("es", R_ES),
    SEGSEL("fs", R_FS), SEGSEL("gs", R_GS),
    ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7),
    { "fctrl", 32, "int", "core", REG_FIELD, F(fpuc), 0 },
    { "fstat", 32, "int", "core", REG_FSTAT, 0, 0, 0 },
    { "ftag", 32, "int", "core", REG_FTAG, 0, 0, 0 },
    { "fiseg", 32, "int", "core", REG_FIELD, F(fpcs), 0 },
    { "fioff", 32, "int", "core", REG_FIELD, F(fpip), 0 },
    { "foseg", 32, "int", "core", REG_FIELD, F(fpds), 0 },
    { "fooff", 32, "int", "core", REG_FIELD, F(fpdp), 0 },
    { "fop", 32, "int", "core", REG_FIELD, F(fpop), 0 },
    XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
    XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15),
    { "mxcsr", 32, "int", "sse", REG_FIELD, F(mxcsr), 0 },
    { "fs_base", 64, "int", "segments", REG_FIELD, F(segs[R_FS].base), 0 },
    { "gs_base", 64, "int", "segments", REG_FIELD, F(segs[R_GS].base), 0 },
};

int gdb_reg_count(void)
{
    return (int)ARRAY_SIZE(gdb_regs);
}

size_t gdb_reg_size(int n)
{
    return n >= 0 && n < gdb_reg_count() ? gdb_regs[n].bits / 8 : 0;
}

static uint16_t full_tag_word(const CPUX86State *env)
{
    uint16_t tags = 0;
    for (int i = 0; i < 8; i++) {
        /* empty = 11; anything else reported as valid (00) */
        if (env->fptags & (1u << i))
            tags |= (uint16_t)(3u << (2 * i));
    }
    return tags;
}

void gdb_reg_read(CPUX86State *env, int n, uint8_t *out)
{
    const GdbReg *r = &gdb_regs[n];
    size_t size = r->bits / 8;
    memset(out, 0, size);
    switch (r->kind) {
    case REG_FIELD:
        memcpy(out, (const uint8_t *)env + r->offset, MIN(size, (size_t)r->env_size));
        break;
    case REG_EFLAGS:
        st32(out, x86_get_eflags ? x86_get_eflags(env) : (uint32_t)env->eflags);
        break;
    case REG_ST: {
        const Float80 *f = &env->fpregs[(env->fpstt + (unsigned)r->index) & 7];
        st64(out, f->mant);
        st16(out + 8, f->sexp);
        break;
    }
    case REG_FSTAT:
        st32(out, (env->fpus & ~0x3800u) | ((env->fpstt & 7) << 11));
        break;
    case REG_FTAG:
        st32(out, full_tag_word(env));
        break;
    }
}

void gdb_reg_write(CPUX86State *env, int n, const uint8_t *in)
{
    const GdbReg *r = &gdb_regs[n];
    size_t size = r->bits / 8;
    switch (r->kind) {
    case REG_FIELD: {
        uint8_t *field = (uint8_t *)env + r->offset;
        memset(field, 0, r->env_size);
        memcpy(field, in, MIN(size, (size_t)r->env_size));
        break;
    }
    case REG_EFLAGS:
        if (x86_set_eflags)
            x86_set_eflags(env, ld32(in), ~0u);
        else
            env->eflags = ld32(in);
        break;
    case REG_ST: {
        Float80 *f = &env->fpregs[(env->fpstt + (unsigned)r->index) & 7];
        f->mant = ld64(in);
        f->sexp = ld16(in + 8);
        break;
    }
    case REG_FSTAT:
        env->fpstt = (ld32(in) >> 11) & 7;
        env->fpus = (uint16_t)(ld32(in) & ~0x3800u);
        break;
    case REG_FTAG: {
        uint8_t tags = 0;
        for (int i = 0; i < 8; i++)
            if (((ld32(in) >> (2 * i)) & 3) == 3)
                tags |= (uint8_t)(1u << i);
        env->fptags = tags;
        break;
    }
    }
}

static const char xml_head[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "<architecture>i386:x86-64</architecture>\n";

/* Types the sse feature needs, as gdb's own 64bit-sse.xml defines them. */
static const char xml_sse_types[] =
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
    "<union id=\"vec128\">\n"
    "<field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>\n"
    "<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>\n"
    "<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>\n"
    "<field name=\"uint128\" type=\"uint128\"/>\n"
    "</union>\n";

static void xml_feature(FILE *f, const char *feature)
{
    fprintf(f, "<feature name=\"org.gnu.gdb.i386.%s\">\n", feature);
    if (strcmp(feature, "sse") == 0)
        fputs(xml_sse_types, f);
    for (int i = 0; i < gdb_reg_count(); i++) {
        const GdbReg *r = &gdb_regs[i];
        if (strcmp(r->feature, feature) != 0)
            continue;
        fprintf(f, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%d\"", r->name, r->bits,
                r->type, i);
        /* the x87 control registers are the core feature's only "int"s */
        if (strcmp(feature, "core") == 0 && strcmp(r->type, "int") == 0)
            fputs(" group=\"float\"", f);
        else if (strcmp(r->name, "mxcsr") == 0)
            fputs(" group=\"vector\"", f);
        fputs("/>\n", f);
    }
    fputs("</feature>\n", f);
}

const char *gdb_target_xml(void)
{
    static char *xml;
    if (!xml) {
        size_t size = 0;
        FILE *f = open_memstream(&xml, &size);
        fputs(xml_head, f);
        xml_feature(f, "core");
        xml_feature(f, "sse");
        xml_feature(f, "segments");
        fputs("</target>\n", f);
        fclose(f);
    }
    return xml;
}
