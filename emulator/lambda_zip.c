/*
 * lambda_zip.c - Lambda deployment packages: validating an uploaded zip and
 * extracting each code blob once (libzip) under <state>/lambda/code/<hex>.
 *
 * Extraction writes into a fresh temporary directory and renames it into
 * place, so a half-extracted tree is never used and two sandboxes starting
 * at once do the work at most twice, never corrupting it. Entry names that
 * are absolute or contain a ".." component are refused; symlinks are
 * skipped. Unix permission bits are kept (a provided runtime's bootstrap
 * must be executable; it is made so if the zip forgot). New code is
 * extracted in the background as soon as it is uploaded
 * (lambda_zip_prefetch), so the first invocation finds it ready.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

#include "emu.h"
#include "lambda_internal.h"

int lambda_zip_valid(const void *data, size_t len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    if (src == NULL) {
        zip_error_fini(&ze);
        return 0;
    }
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    zip_error_fini(&ze);
    if (za == NULL) {
        zip_source_free(src);
        return 0;
    }
    zip_discard(za);
    return 1;
}

/* mkdir -p for the directories of path (relative to nothing: absolute). */
static int zip_mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                *p = '/';
                return -1;
            }
            *p = '/';
        }
    }
    return 0;
}

/* 1 when an entry name is safe to create under the root. */
static int zip_name_safe(const char *name)
{
    if (name[0] == 0 || name[0] == '/' || strchr(name, '\\') != NULL) {
        return 0;
    }
    const char *p = name;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            return 0;
        }
        if (slash == NULL) {
            break;
        }
        p = slash + 1;
    }
    return 1;
}

static int zip_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0) {
        emu_warn("lambda: could not remove %s", path);
    }
    return 0;
}

/* Removes a directory tree (best effort). */
static void zip_rmtree(const char *dir)
{
    nftw(dir, zip_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Extracts every entry of za into root. Returns 0, -1 with err. */
static int zip_extract_all(zip_t *za, const char *root, char *err, size_t errlen)
{
    zip_int64_t n = zip_get_num_entries(za, 0);
    char buf[65536];
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
        if (name == NULL) {
            continue;
        }
        if (!zip_name_safe(name)) {
            snprintf(err, errlen, "unsafe entry name in zip: %s", name);
            return -1;
        }
        zip_uint8_t opsys = 0;
        zip_uint32_t attr = 0;
        mode_t mode = 0644;
        if (zip_file_get_external_attributes(za, (zip_uint64_t)i, 0, &opsys, &attr) == 0 &&
            opsys == ZIP_OPSYS_UNIX && (attr >> 16) != 0) {
            mode_t m = (mode_t)(attr >> 16);
            if (S_ISLNK(m)) {
                continue;
            }
            mode = m & 0777;
        }
        char path[1400];
        int w = snprintf(path, sizeof(path), "%s/%s", root, name);
        if (w < 0 || (size_t)w >= sizeof(path)) {
            snprintf(err, errlen, "entry name too long");
            return -1;
        }
        if (zip_mkdirs(path) != 0) {
            snprintf(err, errlen, "mkdir failed: %s", strerror(errno));
            return -1;
        }
        size_t plen = strlen(path);
        if (plen > 0 && path[plen - 1] == '/') {
            if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "mkdir failed: %s", strerror(errno));
                return -1;
            }
            continue;
        }
        const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
        if (strcmp(base, "bootstrap") == 0) {
            mode |= 0755;
        }
        mode |= 0400;
        zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)i, 0);
        if (zf == NULL) {
            snprintf(err, errlen, "cannot read zip entry %s", name);
            return -1;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0) {
            zip_fclose(zf);
            snprintf(err, errlen, "cannot create %s: %s", name, strerror(errno));
            return -1;
        }
        zip_int64_t r;
        int rc = 0;
        while ((r = zip_fread(zf, buf, sizeof(buf))) > 0) {
            if (write(fd, buf, (size_t)r) != r) {
                rc = -1;
                break;
            }
        }
        if (r < 0) {
            rc = -1;
        }
        zip_fclose(zf);
        fchmod(fd, mode);
        close(fd);
        if (rc != 0) {
            snprintf(err, errlen, "cannot extract %s", name);
            return -1;
        }
    }
    return 0;
}

int lambda_zip_extract(const char *code_hex, char *out, size_t len, char *err, size_t errlen)
{
    char base[800];
    snprintf(base, sizeof(base), "%s/lambda/code", emu_state_dir());
    snprintf(out, len, "%s/%s", base, code_hex);
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        return 0;
    }
    char tmp[900];
    snprintf(tmp, sizeof(tmp), "%s/x", base);
    if (zip_mkdirs(tmp) != 0) {
        snprintf(err, errlen, "cannot create %s", base);
        return -1;
    }
    char rnd[17];
    emu_random_hex(rnd, 16);
    rnd[16] = 0;
    snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", base, rnd);
    if (mkdir(tmp, 0755) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    char zpath[900];
    snprintf(zpath, sizeof(zpath), "%s/lambda-%s.zip", emu_objects_dir(), code_hex);
    int zerr = 0;
    zip_t *za = zip_open(zpath, ZIP_RDONLY, &zerr);
    if (za == NULL) {
        snprintf(err, errlen, "cannot open code zip %s (libzip error %d)", zpath, zerr);
        zip_rmtree(tmp);
        return -1;
    }
    int rc = zip_extract_all(za, tmp, err, errlen);
    zip_discard(za);
    if (rc != 0) {
        zip_rmtree(tmp);
        return -1;
    }
    if (rename(tmp, out) != 0) {
        /* Someone else finished first: theirs is as good as ours. */
        zip_rmtree(tmp);
        if (stat(out, &st) != 0) {
            snprintf(err, errlen, "cannot place code directory: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

static void *zip_prefetch_thread(void *arg)
{
    char *hex = arg;
    char dir[1000], err[512];
    if (lambda_zip_extract(hex, dir, sizeof(dir), err, sizeof(err)) != 0) {
        emu_warn("lambda: extracting code %s: %s", hex, err);
    }
    free(hex);
    return NULL;
}

void lambda_zip_prefetch(const char *code_hex)
{
    char *hex = strdup(code_hex);
    pthread_t th;
    pthread_attr_t attr;
    if (hex == NULL) {
        return;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, zip_prefetch_thread, hex) != 0) {
        free(hex);
    }
    pthread_attr_destroy(&attr);
}
