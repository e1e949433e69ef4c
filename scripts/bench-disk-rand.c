/*
 * Random 4 KiB O_DIRECT reads or writes on a block device, for the disk
 * benchmark scripts/bench-disk.sh runs inside the Linux guest. Busybox has
 * no fio, and a loop of dd processes would measure fork+exec, not the disk.
 * Built statically on the host and shipped in an extra initramfs.
 *
 *   bench-disk-rand read|write DEVICE SPAN_MIB COUNT SEED
 *
 * Offsets are 4 KiB-aligned within the first SPAN_MIB MiB, drawn from the
 * MINSTD sequence started at SEED, so every run does the same I/O.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { BLOCK = 4096 };

static uint32_t minstd_next(uint32_t x)
{
    return (uint32_t)((uint64_t)x * 48271 % 2147483647);
}

int main(int argc, char **argv)
{
    if (argc != 6 || (strcmp(argv[1], "read") && strcmp(argv[1], "write"))) {
        fprintf(stderr, "usage: %s read|write DEVICE SPAN_MIB COUNT SEED\n", argv[0]);
        return 2;
    }
    int writing = !strcmp(argv[1], "write");
    uint64_t blocks = strtoull(argv[3], NULL, 0) * (1024 * 1024 / BLOCK);
    long count = strtol(argv[4], NULL, 0);
    uint32_t x = (uint32_t)strtoul(argv[5], NULL, 0) % 2147483647;
    if (blocks == 0 || count <= 0 || x == 0) {
        fprintf(stderr, "bench-disk-rand: bad span, count or seed\n");
        return 2;
    }

    int fd = open(argv[2], (writing ? O_WRONLY : O_RDONLY) | O_DIRECT);
    if (fd < 0) {
        perror(argv[2]);
        return 1;
    }
    void *buf;
    if (posix_memalign(&buf, BLOCK, BLOCK)) {   /* O_DIRECT wants aligned memory */
        fprintf(stderr, "bench-disk-rand: out of memory\n");
        return 1;
    }
    memset(buf, 0xa5, BLOCK);   /* not zeros, which a format might store specially */

    for (long i = 0; i < count; i++) {
        x = minstd_next(x);
        off_t off = (off_t)(x % blocks) * BLOCK;
        ssize_t n = writing ? pwrite(fd, buf, BLOCK, off) : pread(fd, buf, BLOCK, off);
        if (n != BLOCK) {
            fprintf(stderr, "bench-disk-rand: %s at %lld: %s\n", argv[1], (long long)off,
                    n < 0 ? strerror(errno) : "short transfer");
            return 1;
        }
    }
    if (writing && fsync(fd)) {
        perror("fsync");
        return 1;
    }
    close(fd);
    return 0;
}
