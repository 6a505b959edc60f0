/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* fsutil.h - directories and atomic file replacement (temp + rename; + fsyncs when durable). */
#ifndef SL_AGENT_FSUTIL_H
#define SL_AGENT_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p; existing directories are fine. 0 or -errno (logged, naming the path). */
int sl_mkdir_p(const char *path, mode_t mode);
/* Replace path with data atomically: a reader sees the old or the new file, never a mix, also
 * after the writer is killed. The temp file is ".<name>.tmp" in the same directory (no
 * .conf/.conflist/.json suffix, so watchers of the directory ignore it). With
 * SL_WRITE_DURABLE the data and the rename are also synced to disk (they survive a power
 * loss); without, a power loss may leave the old, the new or an empty file. 0 or -errno
 * (logged). */
#define SL_WRITE_DURABLE 1u
int sl_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 unsigned flags);
/* The time this machine booted (seconds since the epoch, /proc/stat btime), or -1. */
long long sl_boot_time(void);
/* Read a whole file (at most max bytes) into a malloc'd NUL-terminated buffer; NULL + errno. */
char *sl_read_file(const char *path, size_t max, size_t *len);

#endif
