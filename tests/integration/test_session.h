/* test_session: an SMIMP account of the test and bench load generators
 * (smimp-crash-sender, bench_smimpd), driven over https_client: seeded
 * keys, initialize_account, log in, draw a message key, get PoW params.
 *
 * The functions report, they do not print: a request returns its HTTP
 * status (0 when there is none, see https_client_error) and leaves the
 * answer in the client for the caller's messages. Replies are hostile
 * input: a 200 whose body is not what it should be is refused. Test use
 * only: the keys are seeded, not secret. */
#ifndef SMIMP_TEST_SESSION_H
#define SMIMP_TEST_SESSION_H

#include "smimp/error.h"
#include "smimp/key.h"
#include "smimp/login.h"
#include "smimp/msgkey.h"

#include "https_client.h"

struct test_account {
	char address[128];
	char path_addr[160];        /* '#' as %23 */
	char password[128];         /* the one-time password ("-" once used) */
	struct smimp_sign_keypair kp;
};

/* A logged-in session and the token it was created with (the token's hash
 * goes in every envelope sent in it). */
struct test_login {
	char session[HTTPS_CLIENT_SESSION_MAX + 1];
	struct smimp_token token;
};

enum test_login_result {
	TEST_LOGIN_OK,
	TEST_LOGIN_GET_FAILED,    /* GET create_session: not 200 */
	TEST_LOGIN_POST_FAILED,   /* POST create_session: not 200 */
	TEST_LOGIN_BAD_REPLY,     /* a 200 without a usable token or session */
};

/* Reads the accounts file, "ADDRESS PASSWORD" lines, into a new array of
 * at most max accounts (*out, to free), the master key of the i-th seeded
 * by i and its address. The count, or -1 and *out NULL when the file
 * cannot be read (with a message) or an address has no '#'. */
int test_accounts_load(const char *file, unsigned max, struct test_account **out);

/* POST initialize_account with the one-time password: the account's
 * record, its non-ephemeral key and n_keys ephemeral keys. The HTTP status,
 * or -1 when the request could not be built (err says why). */
long test_session_initialize(struct https_client *c, const struct test_account *a,
			     long n_keys, struct smimp_error *err);

/* GET create_session, sign the challenge for base (the server's public_url),
 * POST it: on TEST_LOGIN_OK the session in *out. */
enum test_login_result test_session_login(struct https_client *c, const char *base,
					  const struct test_account *a,
					  struct test_login *out);

/* POST get_message_key for to in session: the HTTP status, and on 200 the
 * key in *mk, or -1 for a 200 without a valid key. */
long test_session_draw_key(struct https_client *c, const char *session,
			   const struct test_account *to, struct smimp_msgkey *mk);

/* GET get_pow_params of to's email folder in session: the HTTP status, and
 * on 200 the nonce and zero bits, or -1 for a 200 without usable ones. */
long test_session_pow_params(struct https_client *c, const char *session,
			     const struct test_account *to, struct smimp_token *nonce,
			     unsigned *zero_bits);

/* The monotonic clock in seconds, for timing. */
double test_now_s(void);

#endif
