/* smimp whois ADDRESS: resolve an identity (discovery, version, whole
 * history), validate it, pin it or check it against its pin, and show it.
 * Everything shown came from a server: free text is escaped (render.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/timestamp.h"

#include "cli.h"
#include "render.h"
#include "resolve.h"

static const char *change_name(enum smc_pin_change ch)
{
	return ch == SMC_PIN_NEW ? "new" : ch == SMC_PIN_SAME ? "unchanged"
							    : "advanced";
}

static void show_text(const char *label, const char *s, size_t len)
{
	printf("  %-12s ", label);
	smc_render_safe(stdout, s, len);
	putchar('\n');
}

static void print_human(const struct smc_identity *id)
{
	const struct smimp_history *h = &id->history;
	const struct smimp_record *last = smimp_history_latest(h);
	char hex[193], ts[SMIMP_TIMESTAMP_LEN + 1];
	json_t *p;
	size_t i;

	printf("%s\n", id->address);
	printf("  %-12s %s (protocol %s)\n", "server", id->server.base_url,
	       id->server.version);
	smimp_hex_encode(hex, sizeof hex, last->public_key.b, 32);
	printf("  %-12s %s\n", "public key", hex);
	if (last->name != NULL)
		show_text("name", last->name, last->name_len);
	if (last->website != NULL)
		show_text("website", last->website, last->website_len);
	json_array_foreach(last->profiles, i, p)
		show_text("profile", json_string_value(p),
			  json_string_length(p));
	if (last->additional != NULL && json_object_size(last->additional) > 0) {
		char *a = smimp_json_dump(last->additional);

		if (a != NULL)
			show_text("additional", a, strlen(a));
		free(a);
	}
	printf("  %-12s %zu record%s\n", "history", h->count,
	       h->count == 1 ? "" : "s");
	for (i = 0; i < h->count; i++) {
		const struct smimp_record *r = &h->records[i];
		const char *what = "created";

		if (i > 0)
			what = smimp_sign_pk_equal(&r->public_key,
						   &h->records[i - 1].public_key)
				       ? "profile update"
				       : "master key changed";
		smimp_timestamp_format(ts, r->changed_at);
		smimp_hex_encode(hex, sizeof hex, r->public_key.b, 32);
		printf("    seq %-4lld %s  key %.16s...  %s\n",
		       (long long)r->seq, ts, hex, what);
	}
	smimp_timestamp_format(ts, id->entry.first_seen);
	switch (id->change) {
	case SMC_PIN_NEW:
		printf("  %-12s new: pinned now (first contact; compare the "
		       "public key with\n               %s through another "
		       "channel to be sure)\n", "pin", id->address);
		break;
	case SMC_PIN_SAME:
		printf("  %-12s unchanged, pinned since %s UTC\n", "pin", ts);
		break;
	case SMC_PIN_ADVANCED:
		printf("  %-12s advanced from seq %lld to seq %lld (valid "
		       "extension), pinned since %s UTC\n", "pin",
		       (long long)id->before.pin.latest_seq,
		       (long long)id->entry.pin.latest_seq, ts);
		break;
	}
}

static json_t *identity_json(const struct smc_identity *id)
{
	const struct smimp_history *h = &id->history;
	const struct smimp_record *last = smimp_history_latest(h);
	json_t *o = json_object(), *hist = json_array(), *srv = json_object();
	json_t *pin = smc_pin_entry_to_json(&id->entry);

	if (o == NULL || hist == NULL || srv == NULL || pin == NULL)
		goto fail;
	json_object_set_new(o, "address", json_string(id->address));
	json_object_set_new(srv, "base_url", json_string(id->server.base_url));
	json_object_set_new(srv, "version", json_string(id->server.version));
	json_object_set_new(o, "server", srv);
	srv = NULL;
	smimp_json_set_hex(o, "public_key", last->public_key.b, 32);
	json_object_set_new(o, "name", last->name != NULL
				? json_stringn(last->name, last->name_len)
				: json_null());
	json_object_set_new(o, "website", last->website != NULL
				? json_stringn(last->website, last->website_len)
				: json_null());
	json_object_set(o, "profiles", last->profiles != NULL
			? last->profiles : json_array());
	json_object_set(o, "additional", last->additional != NULL
			? last->additional : json_null());
	for (size_t i = 0; i < h->count; i++) {
		const struct smimp_record *r = &h->records[i];
		char ts[SMIMP_TIMESTAMP_LEN + 1];
		json_t *e = json_object();

		if (e == NULL)
			goto fail;
		smimp_timestamp_format(ts, r->changed_at);
		json_object_set_new(e, "seq", json_integer(r->seq));
		json_object_set_new(e, "changed_at", json_string(ts));
		smimp_json_set_hex(e, "public_key", r->public_key.b, 32);
		smimp_json_set_hex(e, "signed_hash", r->signed_hash.b, 96);
		json_object_set_new(e, "data", json_stringn(r->data,
							    r->data_len));
		json_array_append_new(hist, e);
	}
	json_object_set_new(o, "history", hist);
	hist = NULL;
	json_object_set_new(pin, "change",
			    json_string(change_name(id->change)));
	json_object_set_new(o, "pin", pin);
	return o;
fail:
	json_decref(o);
	json_decref(hist);
	json_decref(srv);
	json_decref(pin);
	return NULL;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	struct smc_resolver r;
	struct smc_identity id;
	struct smc_args sa;
	int rc;

	rc = smc_args_parse(c, argc, argv, NULL, 1, &sa, e);
	if (rc != 0)
		return rc;
	if (sa.npos == 0)
		return smc_fail(e, SMC_EXIT_USAGE, "ADDRESS is missing");
	if (smc_ctx_resolver(c, &r, e) != 0)
		return -1;
	if (smc_resolve_identity(&r, sa.pos[0], SMC_RESOLVE_FULL, &id, e) != 0)
		return -1;
	if (c->json) {
		json_t *o = identity_json(&id);

		rc = o != NULL ? smc_print_json(o, e)
			       : smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		json_decref(o);
	} else {
		print_human(&id);
		rc = 0;
	}
	smc_identity_free(&id);
	return rc;
}

const struct smc_command smc_cmd_whois = {
	"whois", "[--json] ADDRESS",
	"Resolve, verify and pin an identity; show it and its history.",
	"\nFinds the server of ADDRESS (https://DOMAIN/.well-known/smimp.txt),\n"
	"picks the protocol version, fetches the whole signed history and\n"
	"validates every record. On first contact the identity is pinned;\n"
	"later the history must extend the pin. A history that was truncated,\n"
	"forked or replaced is refused (exit 10) and the pin is kept.\n\n"
	"Shown: the server, the current master public key, the latest profile\n"
	"(name, website, profiles, additional; escaped for the terminal), every\n"
	"record with its key, and what happened to the pin (new, unchanged or\n"
	"advanced).\n\n"
	"  --json   the same as one JSON object (history records with their\n"
	"           exact signed data)\n",
	run,
};
