/* smimp-hostile-helper: the hostile clients of hostile_server.sh that curl
 * cannot play. Test use only; keys are seeded, not secret.
 *
 *   slow ADDR PORT N SECONDS handshake|headers
 *       opens N connections to ADDR:PORT and keeps them busy for SECONDS,
 *       one byte per second each: "handshake" stalls inside the TLS
 *       handshake (a TLS record header, then its body byte by byte);
 *       "headers" completes the handshake (GnuTLS) and then sends an HTTP
 *       request whose headers never end. Prints "opened=N open=K" where K
 *       connections were still open at the end.
 *   chain ADDRESS SEED SEQ PREV COUNT DIR
 *       writes COUNT update_profile bodies {"record": ...} extending the
 *       chain after record SEQ-1 (signed hash PREV) with the same key,
 *       to DIR/1 ... DIR/COUNT; prints the last signed hash. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"

#define MAX_CONN 2000

static int usage(void)
{
	fprintf(stderr, "usage: smimp-hostile-helper slow ADDR PORT N SECONDS handshake|headers\n"
			"       smimp-hostile-helper chain ADDRESS SEED SEQ PREV COUNT DIR\n");
	return 2;
}

static int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int cmd_slow(int argc, char **argv)
{
	static int fd[MAX_CONN];
	static gnutls_session_t tls[MAX_CONN];
	static int alive[MAX_CONN];
	/* A TLS handshake record header announcing 512 bytes that never come. */
	static const unsigned char hs[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01};
	static const char req[] = "GET /version HTTP/1.1\r\nHost: a.test\r\nX-Slow: ";
	gnutls_certificate_credentials_t cred;
	const char *addr, *mode;
	int port, n, seconds, opened = 0, open_now = 0;
	bool headers;

	if (argc != 6)
		return usage();
	addr = argv[1];
	port = atoi(argv[2]);
	n = atoi(argv[3]);
	seconds = atoi(argv[4]);
	mode = argv[5];
	headers = strcmp(mode, "headers") == 0;
	if (n < 1 || n > MAX_CONN || seconds < 1 || (!headers && strcmp(mode, "handshake") != 0))
		return usage();
	signal(SIGPIPE, SIG_IGN);
	gnutls_global_init();
	gnutls_certificate_allocate_credentials(&cred);
	for (int i = 0; i < n; i++) {
		fd[i] = tcp_connect(addr, port);
		if (fd[i] < 0)
			continue;
		if (headers) {
			int rc;

			gnutls_init(&tls[i], GNUTLS_CLIENT);
			gnutls_set_default_priority(tls[i]);
			gnutls_credentials_set(tls[i], GNUTLS_CRD_CERTIFICATE, cred);
			gnutls_server_name_set(tls[i], GNUTLS_NAME_DNS, "a.test", 6);
			gnutls_transport_set_int(tls[i], fd[i]);
			gnutls_handshake_set_timeout(tls[i], 10000);
			do {
				rc = gnutls_handshake(tls[i]);
			} while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
			if (rc < 0) {
				gnutls_deinit(tls[i]);
				close(fd[i]);
				fd[i] = -1;
				continue;
			}
		}
		alive[i] = 1;
		opened++;
	}
	/* One byte per second on every connection. */
	for (int s = 0; s < seconds; s++) {
		for (int i = 0; i < n; i++) {
			ssize_t w;

			if (!alive[i])
				continue;
			if (headers) {
				char c = s < (int)sizeof req - 1 ? req[s] : 'a' + s % 26;

				w = gnutls_record_send(tls[i], &c, 1);
			} else {
				unsigned char c = s < (int)sizeof hs ? hs[s] : (unsigned char)s;

				w = send(fd[i], &c, 1, MSG_NOSIGNAL);
			}
			if (w != 1)
				alive[i] = 0;
		}
		sleep(1);
	}
	for (int i = 0; i < n; i++) {
		if (alive[i]) {
			/* Still open unless the peer closed it: a read must block. */
			struct timeval tv = {0, 1000};
			char c;

			setsockopt(fd[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			if (recv(fd[i], &c, 1, MSG_PEEK) < 0 &&
			    (errno == EAGAIN || errno == EWOULDBLOCK))
				open_now++;
		}
		if (fd[i] >= 0) {
			if (headers)
				gnutls_deinit(tls[i]);
			close(fd[i]);
		}
	}
	gnutls_certificate_free_credentials(cred);
	gnutls_global_deinit();
	printf("opened=%d open=%d\n", opened, open_now);
	return 0;
}

static int cmd_chain(int argc, char **argv)
{
	struct smimp_sign_keypair kp;
	struct smimp_signed_hash prev;
	uint8_t seed[SMIMP_SIGN_SEED_BYTES];
	long seq, count;
	char hex[2 * SMIMP_SIGNED_HASH_BYTES + 1], path[4096], name[64];

	if (argc != 7)
		return usage();
	memset(seed, atoi(argv[2]), sizeof seed);
	smimp_sign_keypair_from_seed(&kp, seed);
	seq = atol(argv[3]);
	count = atol(argv[5]);
	if (smimp_hex_decode_str(prev.b, sizeof prev.b, argv[4]) != SMIMP_OK)
		return usage();
	for (long i = 1; i <= count; i++, seq++) {
		struct smimp_record_values v;
		struct smimp_record r;
		struct smimp_error err;
		json_t *j;
		char *s;
		FILE *f;

		memset(&v, 0, sizeof v);
		snprintf(name, sizeof name, "name %ld", seq);
		v.address = argv[1];
		v.public_key = &kp.pk;
		v.previous = &prev;
		v.seq = seq;
		v.changed_at = smimp_timestamp_now();
		v.name = name;
		if (smimp_record_build(&r, &v, &kp.sk, &err) != SMIMP_OK) {
			fprintf(stderr, "chain: %s\n", err.message);
			return 1;
		}
		prev = r.signed_hash;
		j = json_pack("{s:o}", "record", smimp_record_to_json(&r));
		s = smimp_json_dump(j);
		json_decref(j);
		smimp_record_free(&r);
		snprintf(path, sizeof path, "%s/%ld", argv[6], i);
		f = fopen(path, "w");
		if (s == NULL || f == NULL || fputs(s, f) < 0 || fclose(f) != 0) {
			fprintf(stderr, "chain: cannot write %s\n", path);
			return 1;
		}
		free(s);
	}
	smimp_hex_encode(hex, sizeof hex, prev.b, sizeof prev.b);
	puts(hex);
	return 0;
}

int main(int argc, char **argv)
{
	if (smimp_init() != 0)
		return 1;
	if (argc >= 2 && strcmp(argv[1], "slow") == 0)
		return cmd_slow(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "chain") == 0)
		return cmd_chain(argc - 1, argv + 1);
	return usage();
}
