/* Local files: bounded reads, crash-safe writes (temporary file in the same
 * directory, fsync, rename, fsync of the directory), private directories
 * and advisory locks. Everything the client keeps goes through here. */
#ifndef SMC_FSUTIL_H
#define SMC_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Reads the whole file at path into a malloc'ed, NUL-terminated buffer
 * (*out, *out_len without the NUL). More than max bytes is an error. With
 * secret true the buffer comes from sodium_malloc (release it with
 * smc_secret_free) and is never copied elsewhere. A missing file is
 * SMC_EXIT_NOINPUT; *missing (may be NULL) tells that case apart. */
int smc_file_read(const char *path, size_t max, bool secret, char **out,
		  size_t *out_len, bool *missing, struct smc_err *e);

/* Replaces path with data[0..len), mode 0600, atomically: after a crash the
 * file holds either the old or the new content, never a mix. */
int smc_file_write_atomic(const char *path, const void *data, size_t len,
			  struct smc_err *e);

/* Creates dir (and missing parents) with mode 0700. An existing dir must be
 * a directory that others cannot write to. */
int smc_dir_ensure(const char *dir, struct smc_err *e);

/* True when path exists (any type). */
bool smc_path_exists(const char *path);

/* An exclusive advisory lock (fcntl) on path (created 0600), held until
 * smc_lock_release or the end of the process: the kernel drops it when the
 * holder dies, so a killed command never leaves a stale lock behind. Waits
 * for other smimp processes: smc_lock_acquire as long as it takes, the
 * timed one at most timeout_s seconds (then SMC_EXIT_TEMPFAIL naming path).
 * fcntl locks belong to the process: take each lock once per process. */
int smc_lock_acquire(const char *path, int *fd_out, struct smc_err *e);
int smc_lock_acquire_timed(const char *path, int timeout_s, int *fd_out,
			   struct smc_err *e);
void smc_lock_release(int fd);

/* sodium_malloc'ed zeroed memory for secrets, and its release (wipes;
 * NULL allowed). NULL when out of memory. */
void *smc_secret_alloc(size_t len);
void smc_secret_free(void *p);

#endif
