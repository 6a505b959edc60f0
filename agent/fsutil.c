// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* fsutil.c - directories and atomic file replacement: see fsutil.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"

int sl_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(buf, mode) && errno != EEXIST) {
				int err = -errno;

				pr_err("%s: mkdir: %s", buf, strerror(errno));
				return err;
			}
			*p = saved;
			if (!saved)
				break;
		}
	}
	return 0;
}

int sl_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 unsigned flags)
{
	char tmp[PATH_MAX], dir[PATH_MAX], base[PATH_MAX], *d;
	const char *p = data;
	size_t off = 0;
	int fd, dfd, err = 0;
	ssize_t n;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) ||
	    snprintf(base, sizeof(base), "%s", path) >= (int)sizeof(base))
		return -ENAMETOOLONG;
	d = dirname(dir);
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", d, basename(base)) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		err = -errno;
		pr_err("%s: create: %s", tmp, strerror(errno));
		return err;
	}
	if (fchmod(fd, mode)) { /* umask does not decide our modes */
		err = -errno;
		pr_err("%s: chmod: %s", tmp, strerror(errno));
		goto fail;
	}
	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			pr_err("%s: write: %s", tmp, strerror(errno));
			goto fail;
		}
		off += (size_t)n;
	}
	if ((flags & SL_WRITE_DURABLE) && fsync(fd)) {
		err = -errno;
		pr_err("%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path)) {
		err = -errno;
		pr_err("%s: rename to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	dfd = flags & SL_WRITE_DURABLE ? open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (dfd >= 0) {
		fsync(dfd); /* the rename itself survives a crash */
		close(dfd);
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return err;
}

char *sl_read_file(const char *path, size_t max, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf = NULL, *nb;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (!buf || len + 1 >= cap) {
			if (buf)
				cap *= 2;
			if (cap > max + 1)
				cap = max + 1;
			if (buf && len + 1 >= cap) {
				err = EFBIG;
				goto fail;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				err = ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
fail:
	free(buf);
	close(fd);
	errno = err;
	return NULL;
}

long long sl_boot_time(void)
{
	char line[256];
	long long t = -1;
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &t) == 1)
			break;
	fclose(f);
	return t;
}
