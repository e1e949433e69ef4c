/* A small AML (ACPI Machine Language, ACPI spec chapter 20) encoder for the
 * DSDT: named objects, devices, packages, integers, EISA IDs and resource
 * templates, each appended to a growing byte buffer. Nested constructs
 * (Scope, Device, Package, Buffer) are opened and closed; closing writes the
 * package length in front of their contents. */
#ifndef HW_ACPI_AML_H
#define HW_ACPI_AML_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16

typedef struct Aml {
    uint8_t *buf;
    size_t len, cap;
    size_t open[AML_MAX_DEPTH];     /* where each open construct's contents start */
    int depth;
} Aml;

void aml_init(Aml *a);
void aml_free(Aml *a);
void aml_bytes(Aml *a, const void *p, size_t n);
void aml_byte(Aml *a, uint8_t b);

/* A name path: "\\_SB_.PCI0", "_PRT", "PCI0" (segments padded to 4 with '_'). */
void aml_name_string(Aml *a, const char *path);
/* The smallest integer encoding (Zero, One, Byte/Word/DWord/QWord prefix). */
void aml_integer(Aml *a, uint64_t v);
void aml_string(Aml *a, const char *s);
/* "PNP0A03" as a 32-bit compressed EISA ID integer. */
void aml_eisaid(Aml *a, const char *id);

/* Name (path, <object that follows>) */
void aml_name(Aml *a, const char *path);
void aml_scope_open(Aml *a, const char *path);
void aml_device_open(Aml *a, const char *path);
void aml_package_open(Aml *a, uint8_t nelems);
void aml_buffer_open(Aml *a);        /* the buffer-size integer is written at close */
void aml_close(Aml *a);

/* Resource descriptors (ACPI 6.4.2/6.4.3), inside a buffer. */
void aml_res_io(Aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
void aml_res_word_bus(Aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(Aml *a, uint16_t min, uint16_t max);
void aml_res_dword_mem(Aml *a, uint32_t min, uint32_t max, bool cacheable);
void aml_res_qword_mem(Aml *a, uint64_t min, uint64_t max);
void aml_res_end(Aml *a);

#endif
