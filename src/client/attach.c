/* Saving attachments (see attach.h). Untrusted input: the file names and
 * contents a sender chose. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach.h"

#define MAX_TRIES 1000

/* Length of the valid UTF-8 sequence at s[0..len) with its code point, or
 * 0 when invalid. */
static size_t utf8_at(const unsigned char *s, size_t len, unsigned *cp)
{
	size_t n;
	unsigned c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int unsafe_cp(unsigned c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	       c == '/' || c == '\\' || c == 0x061c || c == 0x200e ||
	       c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029 ||
	       c == 0xfeff;
}

void smc_attach_safe_name(char out[SMC_ATTACH_NAME_MAX + 1], const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = strlen(in), i = 0, w = 0;

	while (i < len) {
		unsigned cp;
		size_t n = utf8_at(s + i, len - i, &cp);

		if (n == 0 || unsafe_cp(cp)) {
			if (w + 1 > SMC_ATTACH_NAME_MAX)
				break;
			out[w++] = '_';
			i += n == 0 ? 1 : n;
			continue;
		}
		if (w + n > SMC_ATTACH_NAME_MAX)
			break; /* cut on a character boundary */
		/* No leading dot (hidden files, "..") or dash (options). */
		if (w == 0 && (cp == '.' || cp == '-' || cp == ' ')) {
			i += n;
			continue;
		}
		memcpy(out + w, s + i, n);
		w += n;
		i += n;
	}
	while (w > 0 && (out[w - 1] == ' ' || out[w - 1] == '.'))
		w--;
	if (w == 0) {
		strcpy(out, "attachment");
		return;
	}
	out[w] = '\0';
}

int smc_attach_open_dir(const char *dir, int *fd_out, struct smc_err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return smc_fail(e, SMC_EXIT_CANTCREAT,
					"cannot create %.300s: %s", dir,
					strerror(errno));
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return smc_fail(e, SMC_EXIT_CANTCREAT,
				"cannot open the directory %.300s: %s", dir,
				strerror(errno));
	*fd_out = fd;
	return 0;
}

/* name with "-N" inserted before its extension (if any, and not the
 * whole name). */
static void candidate(char *out, size_t size, const char *name, int n)
{
	const char *dot = strrchr(name, '.');

	if (n == 0) {
		snprintf(out, size, "%s", name);
	} else if (dot != NULL && dot != name) {
		snprintf(out, size, "%.*s-%d%s", (int)(dot - name), name, n,
			 dot);
	} else {
		snprintf(out, size, "%s-%d", name, n);
	}
}

int smc_attach_save(int dirfd, const char *name, const uint8_t *data,
		    size_t len, char saved[SMC_ATTACH_NAME_MAX + 16],
		    struct smc_err *e)
{
	char safe[SMC_ATTACH_NAME_MAX + 1];
	int fd = -1;

	smc_attach_safe_name(safe, name);
	for (int n = 0; n < MAX_TRIES; n++) {
		candidate(saved, SMC_ATTACH_NAME_MAX + 16, safe, n);
		fd = openat(dirfd, saved, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return smc_fail(e, SMC_EXIT_CANTCREAT,
				"cannot create a file for attachment %s: %s",
				saved, strerror(errno));
	for (size_t off = 0; off < len;) {
		ssize_t k = write(fd, data + off, len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int err = errno;

			close(fd);
			unlinkat(dirfd, saved, 0);
			return smc_fail(e, SMC_EXIT_IOERR,
					"cannot write attachment %s: %s", saved,
					strerror(err));
		}
		off += (size_t)k;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlinkat(dirfd, saved, 0);
		return smc_fail(e, SMC_EXIT_IOERR,
				"cannot write attachment %s", saved);
	}
	return 0;
}
