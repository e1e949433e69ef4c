/* Is KVM worth using here? /dev/kvm must open and speak the API, and be
 * backed by hardware virtualisation: this project's machines have a nested
 * software KVM (the kvm_pvm module) that emulates much of the guest and is
 * slower than the translator for unmodified guests. */
#include "accel/kvm-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

static bool cpu_has_virt_flags(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        found = strstr(line, " vmx") || strstr(line, " svm");
    }
    fclose(f);
    return found;
}

bool kvm_pvm_loaded(void)
{
    if (access("/sys/module/kvm_pvm", F_OK) == 0)
        return true;
    FILE *f = fopen("/proc/modules", "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strncmp(line, "kvm_pvm ", 8) == 0;
    fclose(f);
    return found;
}

bool kvm_hardware_usable(char *why, size_t n)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, n, "/dev/kvm: %s", strerror(errno));
        return false;
    }
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
    if (version < 0) {
        snprintf(why, n, "/dev/kvm is not a KVM device");
        return false;
    }
    if (version != KVM_API_VERSION) {
        snprintf(why, n, "/dev/kvm has API version %d, expected %d", version, KVM_API_VERSION);
        return false;
    }
    if (kvm_pvm_loaded()) {
        snprintf(why, n, "software KVM (kvm_pvm), using the translator");
        return false;
    }
    if (!cpu_has_virt_flags()) {
        snprintf(why, n, "KVM without hardware virtualisation (no vmx/svm CPU flag), using the translator");
        return false;
    }
    return true;
}
