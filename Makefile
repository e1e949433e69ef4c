# Kestrel: one non-recursive Makefile. Sources are found by directory, so adding a
# file to one of the directories below is enough to build it.
ifeq ($(wildcard config.mak),)
$(error run ./configure first)
endif
include config.mak

B := build
DESTDIR ?=
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

CORE_DIRS := system accel cpu/x86 tcg tcg/interp tcg/x86_64 hw block net ui
CORE_SRCS := $(foreach d,$(CORE_DIRS),$(wildcard $(d)/*.c))
CORE_SRCS := $(filter-out system/main.c,$(CORE_SRCS))
ifneq ($(CONFIG_SDL),yes)
CORE_SRCS := $(filter-out ui/sdl%.c,$(CORE_SRCS))
endif
ifneq ($(CONFIG_SLIRP),yes)
CORE_SRCS := $(filter-out net/slirp%.c,$(CORE_SRCS))
endif
CORE_OBJS := $(CORE_SRCS:%.c=$(B)/%.o)

CPPFLAGS += -I. -MMD -MP

UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(B)/%)
TEST_HELPER_SRCS := $(wildcard tests/unit/harness*.c)
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(B)/%.o)

all: kestrel $(if $(wildcard tools/kestrel-img.c),kestrel-img)

$(B)/%.o: %.c config.mak config.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libkestrel.a: $(CORE_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

# The whole library goes in: parts are found through weak references (an
# accelerator or a device model that is not built in is reported, not missing).
kestrel: $(B)/system/main.o $(B)/libkestrel.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(B)/system/main.o -Wl,--whole-archive $(B)/libkestrel.a -Wl,--no-whole-archive $(LIBS)

kestrel-img: $(B)/tools/kestrel-img.o $(B)/libkestrel.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/unit/test-%: $(B)/tests/unit/test-%.o $(TEST_HELPER_OBJS) $(B)/libkestrel.a
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# Bare-metal guest programs (tests/guest): multiboot ELF32 images built with the
# system's gcc; tests/guest/guest.mk has the rules.
include tests/guest/guest.mk

unit-tests: $(UNIT_BINS)

check: all unit-tests guest-tests
	@tests/run.sh

# make bench: the guest workload (scripts/bench.sh), then disk throughput (scripts/bench-disk.sh)
bench: all $(B)/tests/guest/hello.elf
	@scripts/bench.sh

fuzz-cpu: all
	@tests/oracle/fuzz-cpu.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 kestrel kestrel-img $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(B) kestrel kestrel-img

distclean: clean
	rm -f config.mak config.h

.PHONY: all check bench install clean distclean unit-tests fuzz-cpu
.SECONDARY:
-include $(shell find $(B) -name '*.d' 2>/dev/null)

# Boot the default guest: the project's Linux guest (Debian's kernel and a
# busybox initramfs, built from Debian packages) to an interactive shell.
# Leave the shell (or type poweroff) to end; Ctrl-A x quits at any time.
boot: all build/guest/bzImage
	./kestrel -nographic -m 512 -kernel build/guest/bzImage -initrd build/guest/initramfs.cpio.gz \
	  -append "console=ttyS0 quiet guest.mode=shell"

# The bare-metal demo guest (a multiboot program that greets and exits).
demo: all $(B)/tests/guest/hello.elf
	./kestrel -nographic -kernel $(B)/tests/guest/hello.elf -device isa-debug-exit,iobase=0xf4,iosize=4; \
	  s=$$?; [ $$s = 1 ] || { echo "demo guest exited with status $$s"; exit 1; }
.PHONY: boot demo

# The project's Linux guest (Debian's kernel + a busybox initramfs), built from
# Debian packages by scripts/build-linux-guest.sh into build/guest.
guest: build/guest/bzImage
build/guest/bzImage:
	scripts/build-linux-guest.sh build/guest
.PHONY: guest
