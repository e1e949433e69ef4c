# Guest test programs: each tests/guest/NAME.c (or NAME.S) links with the tiny
# runtime in tests/guest/lib into $(B)/tests/guest/NAME.elf, a multiboot v1 image.
# No -lgcc: the system has no 32-bit libgcc; tests/guest/lib/libgcc.c stands in.
GUEST_CC ?= $(CC)
GUEST_CFLAGS := -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -nostdlib -nostdinc -isystem $(shell $(GUEST_CC) -print-file-name=include) \
	-mgeneral-regs-only -fno-delete-null-pointer-checks -Itests/guest/lib -O2 -Wall -Wextra -Wno-unused-parameter
GUEST_LDFLAGS := -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -Wl,-T,tests/guest/lib/link.ld
GUEST_LIB_SRCS := $(wildcard tests/guest/lib/*.c tests/guest/lib/*.S)
GUEST_LIB_OBJS := $(patsubst %,$(B)/%.o,$(GUEST_LIB_SRCS))
GUEST_SRCS := $(wildcard tests/guest/*.c tests/guest/*.S)
# alu.c's expected answers come from running x86 code on the build host.
ifeq ($(filter x86_64 i386 i486 i586 i686,$(shell uname -m)),)
GUEST_SRCS := $(filter-out tests/guest/alu.c,$(GUEST_SRCS))
endif
GUEST_ELFS := $(patsubst tests/guest/%,$(B)/tests/guest/%,$(basename $(GUEST_SRCS)))
GUEST_ELFS := $(GUEST_ELFS:%=%.elf)

$(B)/tests/guest/%.c.o: tests/guest/%.c $(wildcard tests/guest/lib/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<
$(B)/tests/guest/%.S.o: tests/guest/%.S $(wildcard tests/guest/lib/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c -o $@ $<
$(B)/tests/guest/%.elf: $(B)/tests/guest/%.c.o $(GUEST_LIB_OBJS) tests/guest/lib/link.ld
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIB_OBJS)
$(B)/tests/guest/%.elf: $(B)/tests/guest/%.S.o $(GUEST_LIB_OBJS) tests/guest/lib/link.ld
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIB_OBJS)

# The ALU test's expected answers: the same instructions run natively on the
# build host (tests/guest/host/gen-alu.c).
$(B)/tests/guest/host/gen-alu: tests/guest/host/gen-alu.c tests/guest/alu-ops.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O1 -mno-red-zone -o $@ $<
$(B)/tests/guest/alu-expected.h: $(B)/tests/guest/host/gen-alu
	$(Q)$< > $@.tmp && mv $@.tmp $@
$(B)/tests/guest/alu.c.o: $(B)/tests/guest/alu-expected.h tests/guest/alu-ops.h
$(B)/tests/guest/alu.c.o: GUEST_CFLAGS += -I$(B)/tests/guest

# Keep the objects (make would delete them as intermediate files).
.SECONDARY: $(GUEST_LIB_OBJS) $(patsubst %,$(B)/%.o,$(GUEST_SRCS))

guest-tests: $(GUEST_ELFS)
.PHONY: guest-tests
