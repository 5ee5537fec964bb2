/* The pin store (see pins.h). The file is the client's own, but it is still
 * read strictly (smimp_pin_from_json): a damaged pin store stops the client
 * instead of silently trusting anew. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/json.h"
#include "smimp/timestamp.h"

#include "fsutil.h"
#include "pins.h"

#define PINS_FILE "pins.json"
#define PINS_FORMAT "smimp-pins"
#define PINS_MAX_BYTES (64u * 1024u * 1024u)

void smc_pins_free(struct smc_pins *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct smc_pin_entry *)a)->pin.address,
		      ((const struct smc_pin_entry *)b)->pin.address);
}

const struct smc_pin_entry *smc_pins_find(const struct smc_pins *p,
					  const char *address)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].pin.address, address) == 0)
			return &p->v[i];
	return NULL;
}

static int get_time(const json_t *o, const char *name, int64_t *out)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s != NULL && smimp_timestamp_parse(out, s, strlen(s)) == SMIMP_OK
		       ? 0 : -1;
}

static int parse_store(const char *path, const char *text, size_t len,
		       struct smc_pins *p, struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	json_t *root = smimp_json_parse(text, len, PINS_MAX_BYTES, true, &le);
	json_t *pins, *v;
	const char *key;
	int rc = -1;

	if (root == NULL)
		return smc_fail(e, SMC_EXIT_CONFIG, "%s: %s", path, le.message);
	pins = json_object_get(root, "pins");
	if (json_integer_value(json_object_get(root, "version")) != 1 ||
	    strcmp(json_string_value(json_object_get(root, "format")) != NULL
			   ? json_string_value(json_object_get(root, "format"))
			   : "", PINS_FORMAT) != 0 ||
	    !json_is_object(pins)) {
		smc_fail(e, SMC_EXIT_CONFIG,
			 "%s is not a version 1 smimp pin store", path);
		goto out;
	}
	p->v = calloc(json_object_size(pins) + 1, sizeof *p->v);
	if (p->v == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	json_object_foreach(pins, key, v) {
		struct smc_pin_entry *pe = &p->v[p->n];

		if (smimp_pin_from_json(&pe->pin, json_object_get(v, "pin"),
					&le) != SMIMP_OK ||
		    strcmp(pe->pin.address, key) != 0 ||
		    get_time(v, "first_seen", &pe->first_seen) != 0 ||
		    get_time(v, "updated_at", &pe->updated_at) != 0) {
			smc_fail(e, SMC_EXIT_CONFIG,
				 "%s: the pin of %.300s is damaged (%s); "
				 "restore the file from a backup",
				 path, key, le.message[0] ? le.message
							  : "bad entry");
			goto out;
		}
		p->n++;
	}
	qsort(p->v, p->n, sizeof *p->v, cmp_entry);
	rc = 0;
out:
	json_decref(root);
	if (rc != 0)
		smc_pins_free(p);
	return rc;
}

int smc_pins_load(const struct smc_home *h, struct smc_pins *p,
		  struct smc_err *e)
{
	char path[PATH_MAX];
	char *text;
	size_t len;
	bool missing;
	int rc;

	p->n = 0;
	p->v = NULL;
	if (smc_home_path(h, PINS_FILE, path, sizeof path, e) != 0)
		return -1;
	if (smc_file_read(path, PINS_MAX_BYTES, false, &text, &len, &missing,
			  e) != 0)
		return missing ? 0 : -1;
	rc = parse_store(path, text, len, p, e);
	free(text);
	return rc;
}

json_t *smc_pin_entry_to_json(const struct smc_pin_entry *pe)
{
	char ts[SMIMP_TIMESTAMP_LEN + 1];
	json_t *o = smimp_pin_to_json(&pe->pin);

	if (o == NULL)
		return NULL;
	smimp_timestamp_format(ts, pe->first_seen);
	json_object_set_new(o, "first_seen", json_string(ts));
	smimp_timestamp_format(ts, pe->updated_at);
	json_object_set_new(o, "updated_at", json_string(ts));
	return o;
}

static int save_store(const struct smc_home *h, const struct smc_pins *p,
		      struct smc_err *e)
{
	char path[PATH_MAX], ts[SMIMP_TIMESTAMP_LEN + 1];
	json_t *root = json_object(), *pins = json_object();
	char *text = NULL;
	int rc = -1;

	if (smc_home_path(h, PINS_FILE, path, sizeof path, e) != 0)
		goto out;
	if (root == NULL || pins == NULL)
		goto oom;
	json_object_set_new(root, "format", json_string(PINS_FORMAT));
	json_object_set_new(root, "version", json_integer(1));
	for (size_t i = 0; i < p->n; i++) {
		json_t *ent = json_object(), *pin = smimp_pin_to_json(&p->v[i].pin);

		if (ent == NULL || pin == NULL) {
			json_decref(ent);
			json_decref(pin);
			goto oom;
		}
		json_object_set_new(ent, "pin", pin);
		smimp_timestamp_format(ts, p->v[i].first_seen);
		json_object_set_new(ent, "first_seen", json_string(ts));
		smimp_timestamp_format(ts, p->v[i].updated_at);
		json_object_set_new(ent, "updated_at", json_string(ts));
		if (json_object_set_new(pins, p->v[i].pin.address, ent) != 0)
			goto oom;
	}
	json_object_set(root, "pins", pins);
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (text == NULL)
		goto oom;
	{
		size_t n = strlen(text);
		char *nl = realloc(text, n + 2);

		if (nl == NULL)
			goto oom;
		text = nl;
		memcpy(text + n, "\n", 2);
	}
	rc = smc_file_write_atomic(path, text, strlen(text), e);
	goto out;
oom:
	smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
out:
	free(text);
	json_decref(pins);
	json_decref(root);
	return rc;
}

static int lock_home(const struct smc_home *h, int *fd, struct smc_err *e)
{
	char path[PATH_MAX];

	if (smc_home_path(h, "lock", path, sizeof path, e) != 0)
		return -1;
	return smc_lock_acquire(path, fd, e);
}

int smc_pins_commit(const struct smc_home *h, const struct smimp_history *hist,
		    enum smc_pin_change *change, struct smc_pin_entry *before,
		    struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct smc_pins p = {0, NULL};
	struct smc_pin_entry *pe = NULL;
	int64_t now = smimp_timestamp_now();
	int fd, rc = -1;

	if (lock_home(h, &fd, e) != 0)
		return -1;
	if (smc_pins_load(h, &p, e) != 0)
		goto out;
	for (size_t i = 0; i < p.n; i++)
		if (strcmp(p.v[i].pin.address, hist->address) == 0)
			pe = &p.v[i];
	if (pe != NULL) {
		struct smimp_pin moved = pe->pin;

		if (before != NULL)
			*before = *pe;
		if (smimp_pin_advance(&moved, hist, &le) != SMIMP_OK) {
			smc_fail_lib(e, SMC_EXIT_PIN, &le, NULL);
			goto out;
		}
		if (moved.latest_seq == pe->pin.latest_seq) {
			*change = SMC_PIN_SAME;
			rc = 0;
			goto out;
		}
		pe->pin = moved;
		pe->updated_at = now;
		*change = SMC_PIN_ADVANCED;
	} else {
		struct smc_pin_entry *nv = realloc(p.v, (p.n + 1) * sizeof *nv);

		if (nv == NULL) {
			smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
			goto out;
		}
		p.v = nv;
		pe = &p.v[p.n++];
		smimp_pin_from_history(&pe->pin, hist);
		pe->first_seen = now;
		pe->updated_at = now;
		*change = SMC_PIN_NEW;
		qsort(p.v, p.n, sizeof *p.v, cmp_entry);
	}
	rc = save_store(h, &p, e);
out:
	smc_pins_free(&p);
	smc_lock_release(fd);
	return rc;
}

int smc_pins_forget(const struct smc_home *h, const char *address,
		    struct smc_err *e)
{
	struct smc_pins p = {0, NULL};
	size_t i;
	int fd, rc = -1;

	if (lock_home(h, &fd, e) != 0)
		return -1;
	if (smc_pins_load(h, &p, e) != 0)
		goto out;
	for (i = 0; i < p.n; i++)
		if (strcmp(p.v[i].pin.address, address) == 0)
			break;
	if (i == p.n) {
		smc_fail(e, SMC_EXIT_NOINPUT, "no pin for %s", address);
		goto out;
	}
	memmove(&p.v[i], &p.v[i + 1], (p.n - i - 1) * sizeof *p.v);
	p.n--;
	rc = save_store(h, &p, e);
out:
	smc_pins_free(&p);
	smc_lock_release(fd);
	return rc;
}
