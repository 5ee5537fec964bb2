/* Passphrases and passwords (see passphrase.h). The terminal's echo is
 * turned off while typing and restored on every exit path, SIGINT
 * included. Nothing read here is ever printed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>

#include "fsutil.h"
#include "passphrase.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Reads one line from the terminal with echo off into a secret buffer. */
static int prompt_tty(const char *prompt, char **out, struct smc_err *e)
{
	struct termios old, quiet;
	struct sigaction sa, old_int, old_term;
	char *buf;
	size_t len = 0;
	int fd, rc = -1;

	*out = NULL;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return smc_fail(e, SMC_EXIT_USAGE,
				"%s: no terminal to ask on; give it in a file "
				"(see smimp --help)", prompt);
	buf = smc_secret_alloc(SMC_PASSPHRASE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	}
	if (tcgetattr(fd, &old) != 0) {
		smc_fail(e, SMC_EXIT_USAGE, "%s: cannot use the terminal",
			 prompt);
		goto out_noreset;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		smc_fail(e, SMC_EXIT_USAGE, "%s: cannot turn echo off", prompt);
		goto out;
	}
	if (write(fd, prompt, strlen(prompt)) < 0 || write(fd, ": ", 2) < 0) {
		smc_fail(e, SMC_EXIT_IOERR, "cannot write to the terminal");
		goto out;
	}
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR && !interrupted)
			continue;
		if (n < 0 || interrupted) {
			smc_fail(e, SMC_EXIT_USAGE, "interrupted");
			goto out;
		}
		if (n == 0 || c == '\n')
			break;
		if (len == SMC_PASSPHRASE_MAX) {
			smc_fail(e, SMC_EXIT_DATAERR,
				 "longer than %d bytes", SMC_PASSPHRASE_MAX);
			goto out;
		}
		buf[len++] = c;
	}
	while (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* nothing more to do */
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out_noreset:
	smc_secret_free(buf);
	close(fd);
	if (interrupted)
		raise(SIGINT);
	return rc;
}

/* The first line of a file, in secret memory. */
static int from_file(const char *file, char **out, struct smc_err *e)
{
	char *buf;
	size_t len;

	if (smc_file_read(file, SMC_PASSPHRASE_MAX + 2, true, &buf, &len, NULL,
			  e) != 0)
		return -1;
	len = strcspn(buf, "\n");
	while (len > 0 && buf[len - 1] == '\r')
		len--;
	sodium_memzero(buf + len, strlen(buf + len));
	if (len > SMC_PASSPHRASE_MAX) {
		smc_secret_free(buf);
		return smc_fail(e, SMC_EXIT_DATAERR, "%s: first line longer "
				"than %d bytes", file, SMC_PASSPHRASE_MAX);
	}
	*out = buf;
	return 0;
}

static int from_env(char **out, struct smc_err *e)
{
	const char *v = getenv("SMIMP_PASSPHRASE");
	size_t len = strlen(v);

	if (len > SMC_PASSPHRASE_MAX)
		return smc_fail(e, SMC_EXIT_DATAERR,
				"SMIMP_PASSPHRASE is longer than %d bytes",
				SMC_PASSPHRASE_MAX);
	*out = smc_secret_alloc(len + 1);
	if (*out == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	memcpy(*out, v, len);
	return 0;
}

int smc_secret_get(const char *file, const char *prompt, char **out,
		   struct smc_err *e)
{
	*out = NULL;
	return file != NULL ? from_file(file, out, e)
			    : prompt_tty(prompt, out, e);
}

int smc_passphrase_get(const char *file, const char *what, int confirm,
		       char **out, struct smc_err *e)
{
	char prompt[400];
	char *again = NULL;
	int rc;

	*out = NULL;
	if (file != NULL) {
		rc = from_file(file, out, e);
	} else if (getenv("SMIMP_PASSPHRASE") != NULL) {
		rc = from_env(out, e);
	} else {
		snprintf(prompt, sizeof prompt, "%s passphrase for %s",
			 confirm ? "New keystore" : "Keystore", what);
		rc = prompt_tty(prompt, out, e);
		if (rc == 0 && confirm) {
			snprintf(prompt, sizeof prompt,
				 "Repeat the passphrase for %s", what);
			rc = prompt_tty(prompt, &again, e);
			if (rc == 0 && strcmp(*out, again) != 0)
				rc = smc_fail(e, SMC_EXIT_USAGE,
					      "the passphrases differ");
			smc_secret_free(again);
		}
	}
	if (rc == 0 && confirm && (*out)[0] == '\0')
		rc = smc_fail(e, SMC_EXIT_USAGE,
			      "an empty keystore passphrase is not allowed");
	if (rc != 0) {
		smc_secret_free(*out);
		*out = NULL;
	}
	return rc;
}
