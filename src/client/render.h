/* Safe output of untrusted text (names, websites, server messages) to a
 * terminal: control characters (C0, DEL, C1) and bidirectional overrides
 * are shown escaped, never sent to the terminal as they are. */
#ifndef SMC_RENDER_H
#define SMC_RENDER_H

#include <stddef.h>
#include <stdio.h>

/* Writes s[0..len) to f, escaping as described; invalid UTF-8 bytes are
 * written \xNN. */
void smc_render_safe(FILE *f, const char *s, size_t len);

/* Writes an escaped copy of s, cut to at most max_in input bytes, into
 * out[0..out_size) (always NUL-terminated). */
void smc_render_safe_buf(char *out, size_t out_size, const char *s,
			 size_t len, size_t max_in);

#endif
