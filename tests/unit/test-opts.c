/* Option strings: implied keys, escapes, flags, unknown keys, sizes. */
#include "system/opts.h"
#include "system/util.h"
#include "tests/unit/harness.h"

TEST(implied_and_pairs)
{
    char err[128];
    Opts *o = opts_parse("disk.img,if=virtio,format=qcow2", "file", err, sizeof(err));
    REQUIRE(o);
    CHECK(!strcmp(opts_get(o, "file"), "disk.img"));
    CHECK(!strcmp(opts_get(o, "if"), "virtio"));
    CHECK(opts_first_unused(o) && !strcmp(opts_first_unused(o), "format"));
    opts_get(o, "format");
    CHECK(opts_first_unused(o) == NULL);
    opts_free(o);
}

TEST(comma_escape_and_flags)
{
    char err[128];
    Opts *o = opts_parse("file=a,,b.img,server,nowait", NULL, err, sizeof(err));
    REQUIRE(o);
    CHECK(!strcmp(opts_get(o, "file"), "a,b.img"));
    bool ok = true;
    CHECK(opts_get_bool(o, "server", false, &ok));
    CHECK(opts_get_bool(o, "nowait", false, &ok));
    CHECK(!opts_get_bool(o, "missing", false, &ok));
    CHECK(ok);
    opts_free(o);
}

TEST(bad_bool_and_empty_key)
{
    char err[128];
    Opts *o = opts_parse("snapshot=maybe", NULL, err, sizeof(err));
    REQUIRE(o);
    bool ok = true;
    opts_get_bool(o, "snapshot", false, &ok);
    CHECK(!ok);
    opts_free(o);
    CHECK(opts_parse("=x", NULL, err, sizeof(err)) == NULL);
}

TEST(sizes)
{
    uint64_t v;
    CHECK(parse_size("512", MiB, &v) && v == 512 * MiB);
    CHECK(parse_size("2G", MiB, &v) && v == 2 * GiB);
    CHECK(parse_size("64k", 1, &v) && v == 64 * KiB);
    CHECK(parse_size("1M", 1, &v) && v == MiB);
    CHECK(parse_size("10MiB", 1, &v) && v == 10 * MiB);
    CHECK(!parse_size("abc", 1, &v));
    CHECK(!parse_size("-1", 1, &v));
    CHECK(!parse_size("1X", 1, &v));
    CHECK(!parse_size("99999999999999999999", 1, &v));
    CHECK(!parse_size("17179869184T", 1, &v));
    CHECK(parse_u64("0x10", &v) && v == 16);
    CHECK(!parse_u64("0x", &v));
}
