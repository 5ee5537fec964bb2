/* The received record (see received.h). Untrusted input: the file itself
 * may be damaged; it is parsed strictly and bounded, and a damaged file is
 * reported, never silently replaced. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"
#include "smimp/timestamp.h"

#include "fsutil.h"
#include "received.h"

#define RECEIVED_FORMAT "smimp-received"
#define RECEIVED_MAX_FILE (64u * 1024u * 1024u)

/* Drops the oldest entries of obj (by "seen_at") beyond max. */
static void prune(json_t *obj, size_t max)
{
	while (json_object_size(obj) > max) {
		const char *oldest = NULL, *k;
		const char *oldest_ts = NULL;
		json_t *v;

		json_object_foreach(obj, k, v) {
			const char *ts = json_string_value(
				json_object_get(v, "seen_at"));

			if (ts == NULL)
				ts = "";
			if (oldest == NULL || strcmp(ts, oldest_ts) < 0) {
				oldest = k;
				oldest_ts = ts;
			}
		}
		if (oldest == NULL || json_object_del(obj, oldest) != 0)
			return;
	}
}

static int load(const char *path, json_t **out, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	char *text = NULL;
	size_t len;
	bool missing = false;
	json_t *doc;
	const char *fmt;

	*out = NULL;
	if (smc_file_read(path, RECEIVED_MAX_FILE, false, &text, &len,
			  &missing, e) != 0) {
		if (!missing)
			return -1;
		doc = json_pack("{s:s, s:i, s:{}, s:{}}", "format",
				RECEIVED_FORMAT, "version", 1, "messages",
				"ephemeral_keys");
		if (doc == NULL)
			return smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		*out = doc;
		return 0;
	}
	doc = smimp_json_parse(text, len, RECEIVED_MAX_FILE, true, &le);
	free(text);
	fmt = json_string_value(json_object_get(doc, "format"));
	if (doc == NULL || fmt == NULL || strcmp(fmt, RECEIVED_FORMAT) != 0 ||
	    json_integer_value(json_object_get(doc, "version")) != 1 ||
	    !json_is_object(json_object_get(doc, "messages")) ||
	    !json_is_object(json_object_get(doc, "ephemeral_keys"))) {
		json_decref(doc);
		return smc_fail(e, SMC_EXIT_CONFIG,
				"%s is damaged; move it away to start a new "
				"record (replay warnings start over)", path);
	}
	*out = doc;
	return 0;
}

int smc_received_note(const struct smc_home *h, const char *address,
		      const struct smimp_signed_hash *message_hash,
		      const char *message_id,
		      const struct smimp_box_pk *ephemeral_key,
		      struct smc_received_verdict *v, struct smc_err *e)
{
	char dir[PATH_MAX], path[PATH_MAX], lock[PATH_MAX];
	char hhex[65], khex[65], now[SMIMP_TIMESTAMP_LEN + 1];
	struct smimp_hash hh;
	json_t *doc = NULL, *msgs, *keys, *ent;
	char *text = NULL;
	int fd = -1, changed = 0, rc = -1;

	memset(v, 0, sizeof *v);
	if (smc_home_account_dir(h, address, 0, dir, sizeof dir, e) != 0)
		return -1;
	if ((size_t)snprintf(path, sizeof path, "%s/received", dir) >=
		    sizeof path ||
	    (size_t)snprintf(lock, sizeof lock, "%s/received.lock", dir) >=
		    sizeof lock)
		return smc_fail(e, SMC_EXIT_CONFIG, "path too long");
	/* The envelope hash H("smimp/0.1/envelope", ...) that the signed hash
	 * embeds (verified by the reader) identifies the envelope. */
	smimp_signed_hash_embedded(&hh, message_hash);
	smimp_hex_encode(hhex, sizeof hhex, hh.b, sizeof hh.b);
	smimp_timestamp_format(now, smimp_timestamp_now());
	if (smc_lock_acquire(lock, &fd, e) != 0)
		return -1;
	if (load(path, &doc, e) != 0)
		goto out;
	msgs = json_object_get(doc, "messages");
	keys = json_object_get(doc, "ephemeral_keys");
	ent = json_object_get(msgs, hhex);
	if (ent != NULL) {
		const char *id = json_string_value(json_object_get(ent,
								   "message_id"));
		const char *ts = json_string_value(json_object_get(ent,
								   "seen_at"));

		if (id == NULL || strcmp(id, message_id) != 0) {
			v->replay = 1;
			snprintf(v->replay_of, sizeof v->replay_of, "%.64s",
				 id != NULL ? id : "?");
			snprintf(v->replay_seen_at, sizeof v->replay_seen_at,
				 "%.19s", ts != NULL ? ts : "?");
		}
	} else {
		if (json_object_set_new(msgs, hhex,
					json_pack("{s:s, s:s}", "message_id",
						  message_id, "seen_at",
						  now)) != 0)
			goto oom;
		changed = 1;
	}
	if (ephemeral_key != NULL) {
		smimp_hex_encode(khex, sizeof khex, ephemeral_key->b,
				 sizeof ephemeral_key->b);
		ent = json_object_get(keys, khex);
		if (ent != NULL) {
			const char *eh = json_string_value(
				json_object_get(ent, "hash"));
			const char *id = json_string_value(
				json_object_get(ent, "message_id"));

			if (eh == NULL || strcmp(eh, hhex) != 0) {
				v->key_reused = 1;
				snprintf(v->key_reused_by,
					 sizeof v->key_reused_by, "%.64s",
					 id != NULL ? id : "?");
			}
		} else {
			if (json_object_set_new(keys, khex,
						json_pack("{s:s, s:s, s:s}",
							  "hash", hhex,
							  "message_id",
							  message_id, "seen_at",
							  now)) != 0)
				goto oom;
			changed = 1;
		}
	}
	if (changed) {
		prune(msgs, SMC_RECEIVED_MAX_ENTRIES);
		prune(keys, SMC_RECEIVED_MAX_ENTRIES);
		text = json_dumps(doc, JSON_COMPACT);
		if (text == NULL)
			goto oom;
		if (smc_file_write_atomic(path, text, strlen(text), e) != 0)
			goto out;
	}
	rc = 0;
	goto out;
oom:
	smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
out:
	free(text);
	json_decref(doc);
	smc_lock_release(fd);
	return rc;
}
