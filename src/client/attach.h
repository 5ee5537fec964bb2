/* Saving received attachments (`smimp read --save-attachments DIR`). The
 * file name comes from the sender: it is sanitized (no path separator, no
 * leading dot or dash, no control, bidirectional or invalid UTF-8
 * character, at most SMC_ATTACH_NAME_MAX bytes) and made unique in DIR:
 * files are created with O_EXCL|O_NOFOLLOW, mode 0600, so an existing file
 * or link is never overwritten or followed. */
#ifndef SMC_ATTACH_H
#define SMC_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SMC_ATTACH_NAME_MAX 200

/* The sanitized form of a sender's file name (never empty). */
void smc_attach_safe_name(char out[SMC_ATTACH_NAME_MAX + 1], const char *in);

/* Opens (creating it 0700 when missing) the directory dir; *fd_out. */
int smc_attach_open_dir(const char *dir, int *fd_out, struct smc_err *e);

/* Writes data into a new file in the directory dirfd named after name
 * (sanitized, then "-1", "-2"... before the extension until the name is
 * free); the name used goes to saved. */
int smc_attach_save(int dirfd, const char *name, const uint8_t *data,
		    size_t len, char saved[SMC_ATTACH_NAME_MAX + 16],
		    struct smc_err *e);

#endif
