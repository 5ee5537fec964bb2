/* smimp init ADDRESS: create an account's keys and keystore, and publish
 * record 0 and the message keys with initialize_account (spec 11.1). The
 * keystore is written before the call, so a crash or a lost answer never
 * loses keys the server may have accepted: running init again resumes with
 * the same keys. Afterwards the published history is fetched, checked to
 * be ours, and pinned. Untrusted input: the server's answers. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/msgkey.h"
#include "smimp/record.h"
#include "smimp/timestamp.h"

#include "cli.h"
#include "fsutil.h"
#include "keystore.h"
#include "passphrase.h"

#define DEFAULT_EPHEMERAL 50
#define MAX_EPHEMERAL 10000

enum { OPT_PASSWORD_FILE, OPT_EPHEMERAL, OPT_NAME };
static const struct smc_opt opts[] = {
	{"password-file", 1}, {"ephemeral", 1}, {"name", 1}, {NULL, 0},
};

struct init_args {
	const char *address;
	const char *password_file;
	const char *name;
	long ephemeral;
};

static int parse_args(struct smc_ctx *c, int argc, char **argv,
		      struct init_args *a, struct smc_err *e)
{
	struct smc_optstate st = {argc, argv, 0, 0};
	const char *arg;
	int k;

	a->ephemeral = DEFAULT_EPHEMERAL;
	while ((k = smc_opt_next(c, &st, opts, &arg, e)) != SMC_OPT_END) {
		switch (k) {
		case SMC_OPT_HELP:
			return SMC_OPT_HELP;
		case SMC_OPT_ERR:
			return -1;
		case SMC_OPT_POS:
			if (a->address != NULL)
				return smc_opt_unexpected(arg, e);
			a->address = arg;
			break;
		case OPT_PASSWORD_FILE:
			a->password_file = arg;
			break;
		case OPT_NAME:
			a->name = arg;
			break;
		case OPT_EPHEMERAL:
			if (smc_parse_long(arg, 0, MAX_EPHEMERAL,
					   &a->ephemeral) != 0)
				return smc_fail(e, SMC_EXIT_USAGE,
						"--ephemeral wants 0 to %d",
						MAX_EPHEMERAL);
			break;
		}
	}
	if (a->address == NULL)
		return smc_fail(e, SMC_EXIT_USAGE, "ADDRESS is missing");
	return 0;
}

/* Record 0, built the same way on every attempt: changed_at is the
 * keystore's creation time and Ed25519 signatures are deterministic, so a
 * retry sends the very bytes a lost first attempt sent. */
static int build_record0(const struct smc_keystore *ks, const char *name,
			 struct smimp_record *rec, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct smimp_record_values v;

	memset(&v, 0, sizeof v);
	v.address = ks->address;
	v.public_key = &ks->master.kp.pk;
	v.seq = 0;
	v.changed_at = ks->created_at;
	v.name = name;
	if (smimp_record_build(rec, &v, &ks->master.kp.sk, &le) != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_DATAERR, "record 0: %s",
				le.message);
	return 0;
}

static json_t *signed_key(const struct smc_keystore *ks,
			  const struct smc_ks_key *k,
			  enum smimp_msgkey_kind kind)
{
	struct smimp_msgkey mk;

	smimp_msgkey_sign(&mk, ks->address, kind, &k->kp.pk,
			  &ks->master.kp.sk);
	return smimp_msgkey_to_json(&mk);
}

/* The initialize_account body (11.1). */
static json_t *init_body(const struct smc_keystore *ks,
			 const struct smimp_record *rec, const char *password)
{
	struct smimp_field f[2] = {smimp_text(ks->address),
				   smimp_text(password)};
	const struct smc_ks_key *ne = smc_keystore_current_nonephemeral(ks);
	struct smimp_hash ph;
	json_t *o = json_object(), *eph = NULL;
	size_t live = 0;

	if (o == NULL || ne == NULL)
		goto fail;
	smimp_hash_fields(&ph, SMIMP_LABEL_INIT_PASSWORD, f, 2);
	if (smimp_json_set_hex(o, "password_hash", ph.b, sizeof ph.b) != 0 ||
	    json_object_set_new(o, "record", smimp_record_to_json(rec)) != 0 ||
	    json_object_set_new(o, "nonephemeral_key",
				signed_key(ks, ne, SMIMP_MSGKEY_NONEPHEMERAL)))
		goto fail;
	eph = json_array();
	for (size_t i = 0; eph != NULL && i < ks->n_ephemeral; i++) {
		if (ks->ephemeral[i].discarded_at != 0)
			continue;
		if (json_array_append_new(eph, signed_key(ks, &ks->ephemeral[i],
							  SMIMP_MSGKEY_EPHEMERAL)))
			goto fail;
		live++;
	}
	if (eph == NULL)
		goto fail;
	if (live == 0) {
		json_decref(eph);
		eph = json_null();
	}
	if (json_object_set_new(o, "ephemeral_keys", eph) != 0) {
		eph = NULL;
		goto fail;
	}
	memset(ph.b, 0, sizeof ph.b);
	return o;
fail:
	json_decref(eph);
	json_decref(o);
	return NULL;
}

static void mark_uploaded(struct smc_keystore *ks)
{
	int64_t now = smimp_timestamp_now();

	for (size_t i = 0; i < ks->n_nonephemeral; i++)
		if (ks->nonephemeral[i].discarded_at == 0 &&
		    ks->nonephemeral[i].uploaded_at == 0)
			ks->nonephemeral[i].uploaded_at = now;
	for (size_t i = 0; i < ks->n_ephemeral; i++)
		if (ks->ephemeral[i].discarded_at == 0 &&
		    ks->ephemeral[i].uploaded_at == 0)
			ks->ephemeral[i].uploaded_at = now;
	ks->state = SMC_KS_READY;
}

/* Opens the pending keystore of an earlier attempt, or creates a new one
 * with fresh keys, and makes sure it is on disk. */
static int prepare_keystore(struct smc_ctx *c, const struct init_args *a,
			    const char *address, const char *path,
			    const struct smc_server *srv,
			    struct smc_keystore **ks, struct smc_err *e)
{
	char *pass = NULL;
	int rc = -1;

	if (smc_path_exists(path)) {
		if (smc_passphrase_get(c->passphrase_file, address, 0, &pass,
				       e) != 0)
			return -1;
		smc_say(c, "opening the existing keystore of %s", address);
		/* Locked until init ends, and its state read under the lock:
		 * a concurrent init of the same account finishes first. */
		if (smc_keystore_open(path, pass, ks, e) != 0 ||
		    smc_keystore_lock(*ks, e) != 0)
			goto out;
		if ((*ks)->state == SMC_KS_READY) {
			smc_fail(e, SMC_EXIT_CANTCREAT,
				 "%s is already initialized in this home",
				 address);
			goto out;
		}
		if (strcmp((*ks)->base_url, srv->base_url) != 0) {
			smc_fail(e, SMC_EXIT_PROTOCOL,
				 "the server of %s moved from %s to %s since "
				 "the keys were made; refusing to resume",
				 address, (*ks)->base_url, srv->base_url);
			goto out;
		}
		smc_say(c, "resuming: the keys made earlier are sent again");
		rc = 0;
		goto out;
	}
	if (smc_passphrase_get(c->passphrase_file, address, 1, &pass, e) != 0)
		return -1;
	smc_say(c, "making the master key, 1 non-ephemeral and %ld ephemeral "
		"message keys", a->ephemeral);
	if (smc_keystore_create(path, address, srv->base_url, pass, ks, e) != 0 ||
	    smc_keystore_add_ephemeral(*ks, (size_t)a->ephemeral, NULL, e) != 0 ||
	    smc_keystore_save(*ks, e) != 0)
		goto out;
	smc_say(c, "keystore written: %s", path);
	rc = 0;
out:
	smc_secret_free(pass);
	if (rc != 0) {
		smc_keystore_free(*ks);
		*ks = NULL;
	}
	return rc;
}

/* After initialize_account: the published history must start with our
 * record 0 and carry our key; it is pinned on the way. */
static int verify_published(struct smc_ctx *c, const struct smc_keystore *ks,
			    const struct smimp_record *rec,
			    struct smc_identity *id, struct smc_err *e)
{
	struct smc_resolver r;

	if (smc_ctx_resolver(c, &r, e) != 0 ||
	    smc_resolve_identity(&r, ks->address, SMC_RESOLVE_FULL, id, e) != 0)
		return smc_fail_prefix(e, "checking the published identity");
	(void)rec;
	/* Our key in record 0 and as the latest key: only we hold its
	 * secret, so the identity is ours (whichever attempt's record 0). */
	if (!smimp_sign_pk_equal(&id->history.records[0].public_key,
				 &ks->master.kp.pk) ||
	    !smimp_sign_pk_equal(smimp_history_latest_key(&id->history),
				 &ks->master.kp.pk)) {
		smc_identity_free(id);
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"the server publishes an identity for %s that "
				"is not the one just created", ks->address);
	}
	return 0;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct init_args a;
	struct smc_server srv;
	struct smc_resolver r;
	struct smc_identity id;
	struct smimp_record rec;
	struct smc_keystore *ks = NULL;
	char address[SMIMP_ADDRESS_MAX + 1], path[PATH_MAX], dir[PATH_MAX];
	char pathseg[SMIMP_ADDRESS_PATH_MAX + 1], endpoint[64 + sizeof pathseg];
	char *password = NULL, hex[65];
	json_t *body = NULL;
	int rc;

	memset(&a, 0, sizeof a);
	memset(&rec, 0, sizeof rec);
	rc = parse_args(c, argc, argv, &a, e);
	if (rc != 0)
		return rc;
	rc = -1;
	if (smimp_address_normalize_str(address, a.address, &le) != SMIMP_OK ||
	    smimp_address_path_encode(pathseg, address, &le) != SMIMP_OK)
		return smc_fail(e, SMC_EXIT_DATAERR, "%s", le.message);
	if (smc_ctx_resolver(c, &r, e) != 0 ||
	    smc_home_account_dir(&c->home, address, 1, dir, sizeof dir, e) != 0 ||
	    smc_home_keystore_path(&c->home, address, path, sizeof path, e) != 0)
		return -1;
	if (smc_secret_get(a.password_file, "One-time password from your "
			   "server's operator", &password, e) != 0)
		return -1;
	if (password[0] == '\0') {
		smc_fail(e, SMC_EXIT_USAGE, "the one-time password is empty");
		goto out;
	}
	if (smc_resolve_server(&r, smimp_address_domain(address), &srv, e) != 0)
		goto out;
	if (prepare_keystore(c, &a, address, path, &srv, &ks, e) != 0 ||
	    build_record0(ks, a.name, &rec, e) != 0)
		goto out;
	body = init_body(ks, &rec, password);
	if (body == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	snprintf(endpoint, sizeof endpoint, "initialize_account/%s", pathseg);
	smc_say(c, "publishing the identity of %s on %s", address,
		srv.base_url);
	if (smc_api_call(c->t, &srv, NULL, SMC_POST, endpoint, body,
			 64 * 1024, NULL, e) != 0) {
		if (e->http_status == 409) {
			/* Already initialized: by an earlier attempt of ours
			 * whose answer was lost, or by someone else. */
			smc_say(c, "the server says %s is initialized; "
				"checking that it is with these keys", address);
			if (verify_published(c, ks, &rec, &id, e) != 0) {
				smc_fail_prefix(e, "%s was initialized "
						"elsewhere", address);
				goto out;
			}
			smc_identity_free(&id);
		} else {
			smc_fail_prefix(e, "initialize_account");
			if (e->exit_code == SMC_EXIT_TEMPFAIL ||
			    e->exit_code == SMC_EXIT_NOPERM) {
				size_t n = strlen(e->message);

				snprintf(e->message + n, sizeof e->message - n,
					 ". The keys are kept in %s; run "
					 "smimp init %s again to retry with "
					 "them", path, address);
			}
			goto out;
		}
	}
	mark_uploaded(ks);
	if (smc_keystore_save(ks, e) != 0) {
		smc_fail_prefix(e, "the server accepted %s, but saving the "
				"keystore failed; run smimp init %s again",
				address, address);
		goto out;
	}
	if (verify_published(c, ks, &rec, &id, e) != 0)
		goto out;
	smimp_hex_encode(hex, sizeof hex, ks->master.kp.pk.b, 32);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "address", address,
				      "base_url", srv.base_url, "public_key",
				      hex, "ephemeral_keys",
				      (json_int_t)ks->n_ephemeral);

		rc = o != NULL ? smc_print_json(o, e)
			       : smc_fail(e, SMC_EXIT_SOFTWARE, "oom");
		json_decref(o);
	} else {
		printf("%s is ready.\n  server        %s\n  public key    %s\n"
		       "  keystore      %s\n  message keys  1 non-ephemeral, "
		       "%zu ephemeral\n", address, srv.base_url, hex, path,
		       ks->n_ephemeral);
		rc = 0;
	}
	smc_identity_free(&id);
out:
	json_decref(body);
	smimp_record_free(&rec);
	smc_keystore_free(ks);
	smc_secret_free(password);
	return rc;
}

const struct smc_command smc_cmd_init = {
	"init", "ADDRESS [--password-file FILE] [--ephemeral N] [--name NAME]",
	"Create the keys of a new account and publish its identity.",
	"\nMakes a master key (Ed25519), one non-ephemeral and N ephemeral\n"
	"message keys (Curve25519), writes them to a new encrypted keystore in\n"
	"HOME/accounts/ADDRESS/keystore (asking for a new passphrase unless\n"
	"--passphrase-file or SMIMP_PASSPHRASE gives one), then calls the\n"
	"server's initialize_account with record 0 of the identity, the signed\n"
	"message keys and the hash of the one-time password that the server's\n"
	"operator gave you. Finally the published history is fetched, checked\n"
	"against the new key and pinned.\n\n"
	"The keystore is written before the server is called. If the call\n"
	"fails (network, wrong password), run the same command again: it\n"
	"resumes with the same keys.\n\n"
	"  --password-file FILE  the one-time password from the first line of\n"
	"                        FILE (default: asked on the terminal)\n"
	"  --ephemeral N         ephemeral keys to make (default 50, 0-10000)\n"
	"  --name NAME           display name in record 0 (default none)\n"
	"  --json                print the result as JSON\n",
	run,
};
