/* smimp profile [set ...]: the account's own identity (spec 5) as its
 * server publishes it, and new records with a changed name, website,
 * profiles or additional data (update_profile, 11.4) signed by the current
 * master key. Untrusted input: the own history (validated and pinned by
 * resolve.c; every text escaped before it reaches the terminal). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/timestamp.h"

#include "render.h"
#include "selfrec.h"

#define MAX_ADD_PROFILES 32

static void print_field(const char *label, const char *s, size_t len)
{
	printf("  %-12s ", label);
	if (s == NULL)
		fputs("(none)", stdout);
	else
		smc_render_safe(stdout, s, len);
	fputc('\n', stdout);
}

static int show(struct smc_ctx *c, const struct smimp_history *h,
		struct smc_err *e)
{
	const struct smimp_record *last = smimp_history_latest(h);
	char hex[65], ts[SMIMP_TIMESTAMP_LEN + 1];
	json_t *p;
	size_t i;

	if (c->json) {
		json_t *o = smimp_history_to_json(h);
		int rc;

		if (o == NULL || json_object_set_new(o, "latest",
				json_deep_copy(last->fields)) != 0) {
			json_decref(o);
			return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		}
		rc = smc_print_json(o, e);
		json_decref(o);
		return rc;
	}
	smimp_hex_encode(hex, sizeof hex, last->public_key.b, 32);
	smimp_timestamp_format(ts, last->changed_at);
	printf("%s\n", last->address);
	printf("  %-12s %s\n  %-12s %lld, changed %s UTC\n", "public key", hex,
	       "record", (long long)last->seq, ts);
	print_field("name", last->name, last->name_len);
	print_field("website", last->website, last->website_len);
	if (last->profiles == NULL || json_array_size(last->profiles) == 0)
		print_field("profiles", NULL, 0);
	json_array_foreach(last->profiles, i, p) {
		const char *s = json_string_value(p);

		print_field(i == 0 ? "profiles" : "", s, strlen(s));
	}
	if (last->additional != NULL) {
		char *t = smimp_json_dump(last->additional);

		print_field("additional", t, t != NULL ? strlen(t) : 0);
		free(t);
	} else {
		print_field("additional", NULL, 0);
	}
	printf("  history      %zu record(s):\n", h->count);
	for (i = 0; i < h->count; i++) {
		const struct smimp_record *r = &h->records[i];
		int key_change = i > 0 && !smimp_sign_pk_equal(
			&r->public_key, &h->records[i - 1].public_key);

		smimp_hex_encode(hex, sizeof hex, r->public_key.b, 32);
		smimp_timestamp_format(ts, r->changed_at);
		printf("    %4lld  %s  key %.16s...%s\n", (long long)r->seq, ts,
		       hex, key_change ? "  (new master key)" : "");
	}
	return 0;
}

struct set_args {
	struct smc_record_changes ch;
	const char *add[MAX_ADD_PROFILES];
	size_t n_add;
	int clear_profiles;
	json_t *additional;   /* owned */
};

enum { O_NAME, O_WEBSITE, O_PROFILE, O_CLEAR_PROFILES, O_ADDITIONAL };
static const struct smc_opt set_opts[] = {
	{"name", 1}, {"website", 1}, {"profile", 1}, {"clear-profiles", 0},
	{"additional", 1}, {NULL, 0},
};

static int parse_set(struct smc_ctx *c, struct smc_optstate *st,
		     struct set_args *s, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	const char *arg;
	int k, any = 0;

	while ((k = smc_opt_next(c, st, set_opts, &arg, e)) != SMC_OPT_END) {
		switch (k) {
		case SMC_OPT_HELP:
			return SMC_OPT_HELP;
		case SMC_OPT_ERR:
			return -1;
		case SMC_OPT_POS:
			return smc_opt_unexpected(arg, e);
		case O_NAME:
			s->ch.set_name = true;
			s->ch.name = arg[0] != '\0' ? arg : NULL;
			break;
		case O_WEBSITE:
			s->ch.set_website = true;
			s->ch.website = arg[0] != '\0' ? arg : NULL;
			break;
		case O_PROFILE:
			if (s->n_add == MAX_ADD_PROFILES)
				return smc_fail(e, SMC_EXIT_USAGE, "at most %d "
						"profiles", MAX_ADD_PROFILES);
			s->add[s->n_add++] = arg;
			break;
		case O_CLEAR_PROFILES:
			s->clear_profiles = 1;
			break;
		case O_ADDITIONAL:
			json_decref(s->additional);
			s->additional = NULL;
			s->ch.set_additional = true;
			if (strcmp(arg, "null") == 0 || arg[0] == '\0')
				break;
			s->additional = smimp_json_parse(arg, strlen(arg),
							 8192, true, &le);
			if (s->additional == NULL)
				return smc_fail(e, SMC_EXIT_USAGE, "--additional "
						"must be a JSON object or null: "
						"%s", le.message);
			break;
		}
		any = 1;
	}
	if (!any)
		return smc_fail(e, SMC_EXIT_USAGE, "profile set needs at least "
				"one of --name, --website, --profile, "
				"--clear-profiles, --additional");
	s->ch.additional = s->additional;
	return 0;
}

/* The profiles list of the new record: kept or cleared, then appended. */
static int build_profiles(const struct smimp_record *last,
			  struct set_args *s, const char ***out,
			  struct smc_err *e)
{
	size_t n = 0, old = 0, i;
	const char **v;
	json_t *p;

	*out = NULL;
	if (!s->clear_profiles && s->n_add == 0)
		return 0;
	if (!s->clear_profiles && last->profiles != NULL)
		old = json_array_size(last->profiles);
	v = calloc(old + s->n_add + 1, sizeof *v);
	if (v == NULL)
		return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
	if (old > 0)
		json_array_foreach(last->profiles, i, p)
			v[n++] = json_string_value(p);
	for (i = 0; i < s->n_add; i++)
		v[n++] = s->add[i];
	s->ch.set_profiles = true;
	s->ch.profiles = v;
	s->ch.n_profiles = n;
	*out = v;
	return 0;
}

static int set(struct smc_ctx *c, struct smc_account *a,
	       struct smc_identity *id, struct set_args *s, struct smc_err *e)
{
	struct smimp_record rec;
	const struct smimp_record *last = smimp_history_latest(&id->history);
	const char **prof = NULL;
	json_t *body = NULL;
	int rc = -1;

	memset(&rec, 0, sizeof rec);
	if (!smimp_sign_pk_equal(&last->public_key, &a->ks->master.kp.pk))
		return smc_fail(e, SMC_EXIT_CONFIG, "the published key of %s "
				"is not this keystore's master key (an "
				"unfinished rotate-master-key? run it again)",
				a->ks->address);
	if (build_profiles(last, s, &prof, e) != 0 ||
	    smc_selfrec_build_next(&id->history, &s->ch, 0,
				   &a->ks->master.kp.sk, &rec, e) != 0)
		goto out;
	body = json_object();
	if (body == NULL ||
	    json_object_set_new(body, "record", smimp_record_to_json(&rec))) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (smc_account_login(c, a, e) != 0)
		goto out;
	smc_say(c, "publishing record %lld", (long long)rec.seq);
	if (smc_selfrec_post(c, a, body, &rec, e) != 0)
		goto out;
	/* Confirm: the published history ends with our record. */
	smc_identity_free(id);
	if (smc_selfrec_history(c, a, id, e) != 0)
		goto out;
	last = smimp_history_latest(&id->history);
	if (last->seq != rec.seq ||
	    !smimp_signed_hash_equal(&last->signed_hash, &rec.signed_hash)) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the server accepted record "
			 "%lld but does not publish it", (long long)rec.seq);
		goto out;
	}
	rc = show(c, &id->history, e);
out:
	free(prof);
	json_decref(body);
	smimp_record_free(&rec);
	return rc;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_optstate st = {argc, argv, 0, 0};
	struct set_args s;
	struct smc_account a;
	struct smc_identity id;
	const char *arg;
	int k, rc, is_set = 0;

	memset(&s, 0, sizeof s);
	k = smc_opt_next(c, &st, NULL, &arg, e);
	if (k == SMC_OPT_HELP)
		return SMC_OPT_HELP;
	if (k == SMC_OPT_ERR)
		return -1;
	if (k == SMC_OPT_POS) {
		if (strcmp(arg, "set") != 0 && strcmp(arg, "show") != 0)
			return smc_fail(e, SMC_EXIT_USAGE, "unknown profile "
					"subcommand %.100s (show, set)", arg);
		is_set = strcmp(arg, "set") == 0;
	}
	if (is_set) {
		rc = parse_set(c, &st, &s, e);
		if (rc != 0) {
			json_decref(s.additional);
			return rc;
		}
	} else if (k != SMC_OPT_END &&
		   smc_opt_next(c, &st, NULL, &arg, e) != SMC_OPT_END) {
		return smc_fail(e, SMC_EXIT_USAGE, "profile show takes no "
				"argument");
	}
	rc = -1;
	if (smc_account_open(c, &a, e) != 0) {
		json_decref(s.additional);
		return -1;
	}
	if (smc_selfrec_history(c, &a, &id, e) == 0) {
		rc = is_set ? set(c, &a, &id, &s, e) : show(c, &id.history, e);
		smc_identity_free(&id);
	}
	json_decref(s.additional);
	smc_account_close(c, &a);
	return rc;
}

const struct smc_command smc_cmd_profile = {
	"profile",
	"[show] | set [--name N] [--website URL] [--profile URL]... "
	"[--clear-profiles] [--additional JSON]",
	"Show or change the account's published identity.",
	"\nprofile, profile show\n"
	"    Fetches the account's own history from its server, validates it,\n"
	"    checks it against the pin and shows the latest record (public\n"
	"    key, name, website, profiles, additional data) and every record's\n"
	"    sequence number, date and key. --json prints the history and the\n"
	"    latest record's members.\n"
	"profile set OPTIONS\n"
	"    Publishes a new record (update_profile) that keeps everything of\n"
	"    the latest record except what the options change, signed by the\n"
	"    current master key, then fetches the history again and checks\n"
	"    that it ends with that record.\n\n"
	"  --name NAME        display name (\"\" removes it; at most 256 bytes)\n"
	"  --website URL      an https:// URL (\"\" removes it)\n"
	"  --profile URL      add a profile (repeatable; at most 32 in all)\n"
	"  --clear-profiles   drop the current profiles first\n"
	"  --additional JSON  replace the additional data with a JSON object\n"
	"                     (null or \"\" removes it)\n"
	"  --json             print the result as JSON\n",
	run,
};
