/* A faster jansson load for texts with long plain strings.
 *
 * jansson lexes a string one byte at a time, copying each byte into its
 * buffer with a call of its own (about 40 ns a byte here): parsing the JSON
 * of a 4 KiB message took longer than verifying its signature. The long
 * values of our texts are base64 or hex, made only of characters that JSON
 * takes as they are (no escape, no UTF-8 sequence). Such a string value is
 * lifted out of the text before jansson runs, replaced by a short marker,
 * and put back into the parsed tree afterwards with one copy.
 *
 * Why this is safe: a lifted value's bytes are exactly what jansson would
 * have made of them (plain ASCII, no escapes), and the marker is itself a
 * plain string, so the text jansson reads has the same tokens in the same
 * places: it parses, or fails, exactly as the original would. Markers carry
 * a random tag drawn for each parse, so no string of the input can pass for
 * one; only values are lifted (a string followed by ':' is a key). The
 * fuzz_json target checks equality with a plain json_loadb on every input.
 *
 * Dumping has the same cost (jansson escapes each byte with a test of its
 * own), and the same cure in reverse: smimp_json_dump_lifted dumps a copy
 * of the tree whose long plain strings are markers, then writes each value
 * in place of its marker. A plain string dumps as itself between quotes, so
 * the text is byte for byte json_dumps' (checked by fuzz_json too). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "json_lift.h"

#define LIFT_MIN 256       /* shorter strings are not worth a marker */
#define TAG_BYTES 12       /* random bytes of a marker's tag */
#define MARK_PREFIX '!'    /* not in the plain alphabet: never lifted */
/* "!" + tag as hex + "." + index (at most 10 digits) */
#define MARK_MAX (1 + 2 * TAG_BYTES + 1 + 10)

struct lifted {
	size_t start, len;  /* content bytes between the quotes */
};

/* The characters of base64 and hex: JSON takes them as they are. A table,
 * since the scan below tests every byte of a message with it. */
static const bool plain_byte[256] = {
	['A'] = true, ['B'] = true, ['C'] = true, ['D'] = true, ['E'] = true, ['F'] = true,
	['G'] = true, ['H'] = true, ['I'] = true, ['J'] = true, ['K'] = true, ['L'] = true,
	['M'] = true, ['N'] = true, ['O'] = true, ['P'] = true, ['Q'] = true, ['R'] = true,
	['S'] = true, ['T'] = true, ['U'] = true, ['V'] = true, ['W'] = true, ['X'] = true,
	['Y'] = true, ['Z'] = true, ['a'] = true, ['b'] = true, ['c'] = true, ['d'] = true,
	['e'] = true, ['f'] = true, ['g'] = true, ['h'] = true, ['i'] = true, ['j'] = true,
	['k'] = true, ['l'] = true, ['m'] = true, ['n'] = true, ['o'] = true, ['p'] = true,
	['q'] = true, ['r'] = true, ['s'] = true, ['t'] = true, ['u'] = true, ['v'] = true,
	['w'] = true, ['x'] = true, ['y'] = true, ['z'] = true, ['0'] = true, ['1'] = true,
	['2'] = true, ['3'] = true, ['4'] = true, ['5'] = true, ['6'] = true, ['7'] = true,
	['8'] = true, ['9'] = true, ['+'] = true, ['/'] = true, ['='] = true,
};

static bool plain(unsigned char c)
{
	return plain_byte[c];
}

static bool space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Finds the plain string values of at least LIFT_MIN bytes, in text order.
 * Returns their count; *out is malloc'ed (NULL when none or out of memory:
 * then nothing is lifted, which is only slower). */
static size_t find_lifts(const char *buf, size_t len, struct lifted **out)
{
	struct lifted *l = NULL;
	size_t n = 0, cap = 0, i = 0;

	*out = NULL;
	while (i < len) {
		size_t start, j;
		bool all_plain = true;
		const char *q = memchr(buf + i, '"', len - i);

		if (q == NULL)
			break;
		i = (size_t)(q - buf);
		start = ++i;
		for (j = start; j < len && buf[j] != '"'; j++) {
			while (j < len && plain((unsigned char)buf[j]))
				j++;   /* the long runs: one table test a byte */
			if (j >= len || buf[j] == '"')
				break;
			all_plain = false;
			if (buf[j] == '\\')  /* an escape: skip what it escapes */
				j++;
		}
		if (j >= len)  /* unterminated: jansson will say so */
			break;
		i = j + 1;
		while (i < len && space((unsigned char)buf[i]))
			i++;
		if (!all_plain || j - start < LIFT_MIN || (i < len && buf[i] == ':'))
			continue;
		if (n == cap) {
			struct lifted *p;

			cap = cap == 0 ? 4 : cap * 2;
			p = realloc(l, cap * sizeof *l);
			if (p == NULL) {
				free(l);
				return 0;
			}
			l = p;
		}
		l[n++] = (struct lifted){start, j - start};
	}
	*out = l;
	return n;
}

/* The text with each lifted value replaced by its marker (NUL-terminated,
 * malloc'ed, length in *out_len); NULL when out of memory. */
static char *with_markers(const char *buf, size_t len, const struct lifted *l,
			  size_t n, const char *tag, size_t *out_len)
{
	size_t removed = 0, o = 0, from = 0;
	char *t;

	for (size_t k = 0; k < n; k++)
		removed += l[k].len;
	t = malloc(len - removed + n * MARK_MAX + 1);
	if (t == NULL)
		return NULL;
	for (size_t k = 0; k < n; k++) {
		memcpy(t + o, buf + from, l[k].start - from);
		o += l[k].start - from;
		o += (size_t)sprintf(t + o, "%c%s.%zu", MARK_PREFIX, tag, k);
		from = l[k].start + l[k].len;
	}
	memcpy(t + o, buf + from, len - from);
	o += len - from;
	t[o] = '\0';
	*out_len = o;
	return t;
}

struct restore {
	const char *buf, *tag;
	size_t tag_len;
	const struct lifted *l;
	size_t n, done;
	bool ok;
};

/* Puts the lifted value back into a string that is a marker. */
static void restore_string(json_t *v, struct restore *r)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v), k = 0;
	const char *p;

	if (len < 2 + r->tag_len || s[0] != MARK_PREFIX ||
	    memcmp(s + 1, r->tag, r->tag_len) != 0 || s[1 + r->tag_len] != '.')
		return;
	for (p = s + 2 + r->tag_len; *p >= '0' && *p <= '9'; p++)
		k = k * 10 + (size_t)(*p - '0');
	if (*p != '\0' || k >= r->n ||
	    json_string_setn_nocheck(v, r->buf + r->l[k].start, r->l[k].len) != 0) {
		r->ok = false;
		return;
	}
	r->done++;
}

/* Recursion as deep as jansson nests (it stops at 2048 levels). */
static void restore_tree(json_t *v, struct restore *r)
{
	const char *key;
	json_t *child;
	size_t i;

	if (json_is_string(v)) {
		restore_string(v, r);
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, child)
			restore_tree(child, r);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			restore_tree(child, r);
	}
}

/* Every marker of the tree replaced by its value, each exactly once. */
static bool restore_all(json_t *v, const char *buf, const char *tag,
			const struct lifted *l, size_t n)
{
	struct restore r = {buf, tag, strlen(tag), l, n, 0, true};

	restore_tree(v, &r);
	return r.ok && r.done == n;
}

json_t *smimp_json_load_lifted(const char *buf, size_t len, size_t flags,
			       json_error_t *jerr)
{
	uint8_t raw[TAG_BYTES];
	char tag[2 * TAG_BYTES + 1];
	struct lifted *l;
	size_t n, tlen;
	char *text;
	json_t *v;

	n = find_lifts(buf, len, &l);
	if (n == 0)
		return json_loadb(buf, len, flags, jerr);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(tag, sizeof tag, raw, sizeof raw);
	text = with_markers(buf, len, l, n, tag, &tlen);
	if (text == NULL) {
		free(l);
		return json_loadb(buf, len, flags, jerr);
	}
	v = json_loadb(text, tlen, flags, jerr);
	sodium_memzero(text, tlen);  /* decrypted payloads hold secret keys */
	free(text);
	if (v == NULL) {
		/* Again on the text as sent, for an error position in it. */
		free(l);
		return json_loadb(buf, len, flags, jerr);
	}
	if (!restore_all(v, buf, tag, l, n)) {
		/* Cannot happen for a text jansson accepted; fail closed. */
		json_decref(v);
		v = NULL;
		snprintf(jerr->text, sizeof jerr->text,
			 "internal error restoring long strings");
		jerr->position = 0;
	}
	free(l);
	return v;
}

/* ---- dumping ---- */

struct dump_lifts {
	const json_t **value;  /* the lifted strings, by marker index */
	size_t n, cap;
	const char *tag;
	bool failed;           /* out of memory: dump the plain way */
};

static bool liftable(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (len < LIFT_MIN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!plain((unsigned char)s[i]))
			return false;
	return true;
}

/* Deeper trees (or cyclic ones, which jansson refuses to dump) are dumped
 * by jansson alone. */
#define DUMP_DEPTH_MAX 2048

/* Whether v has a string long enough to lift (whose bytes are looked at
 * only when the copy is made: one scan of each long string, not two), or
 * nests too deep to tell. */
static bool has_long_string(const json_t *v, unsigned depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (depth > DUMP_DEPTH_MAX)
		return true;   /* with_dump_markers gives up, jansson decides */
	if (json_is_string(v))
		return json_string_length(v) >= LIFT_MIN;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child)
			if (has_long_string(child, depth + 1))
				return true;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			if (has_long_string(child, depth + 1))
				return true;
	}
	return false;
}

static json_t *marker_for(const json_t *v, struct dump_lifts *d)
{
	char mark[MARK_MAX + 1];

	if (d->n == d->cap) {
		size_t cap = d->cap == 0 ? 4 : d->cap * 2;
		const json_t **p = realloc(d->value, cap * sizeof *p);

		if (p == NULL) {
			d->failed = true;
			return NULL;
		}
		d->value = p;
		d->cap = cap;
	}
	snprintf(mark, sizeof mark, "%c%s.%zu", MARK_PREFIX, d->tag, d->n);
	d->value[d->n++] = v;
	return json_string_nocheck(mark);
}

/* v with its long plain strings as markers: new containers around the
 * same leaves (v itself is left alone), keys copied with their length (a
 * key may hold a NUL). NULL with d->failed past DUMP_DEPTH_MAX. */
static json_t *with_dump_markers(const json_t *v, struct dump_lifts *d,
				 unsigned depth)
{
	const char *key;
	json_t *child, *out;
	size_t i;

	if (depth > DUMP_DEPTH_MAX) {
		out = NULL;
	} else if (json_is_string(v) && liftable(v)) {
		out = marker_for(v, d);
	} else if (json_is_object(v)) {
		if ((out = json_object()) != NULL) {
			json_object_foreach((json_t *)v, key, child)
				if (json_object_setn_new_nocheck(
					    out, key,
					    json_object_iter_key_len(
						    json_object_key_to_iter(key)),
					    with_dump_markers(child, d, depth + 1)) != 0)
					d->failed = true;
		}
	} else if (json_is_array(v)) {
		if ((out = json_array()) != NULL) {
			json_array_foreach(v, i, child)
				if (json_array_append_new(
					    out, with_dump_markers(child, d, depth + 1)) != 0)
					d->failed = true;
		}
	} else {
		out = json_incref((json_t *)v);
	}
	if (out == NULL)
		d->failed = true;
	return out;
}

/* text with every "!tag.k" marker replaced by value k (malloc'ed); NULL
 * when a marker is missing or out of memory. */
static char *splice(const char *text, const struct dump_lifts *d)
{
	size_t tlen = strlen(text), total = tlen, tag_len = strlen(d->tag);
	size_t o = 0, found = 0;
	const char *from = text, *p;
	char *out;

	for (size_t k = 0; k < d->n; k++)
		total += json_string_length(d->value[k]);
	if ((out = malloc(total + 1)) == NULL)
		return NULL;
	while ((p = strchr(from, MARK_PREFIX)) != NULL) {
		size_t k = 0;
		const char *q = p + 1 + tag_len;

		if (p == text || p[-1] != '"' ||
		    strncmp(p + 1, d->tag, tag_len) != 0 || *q != '.') {
			memcpy(out + o, from, (size_t)(p + 1 - from));
			o += (size_t)(p + 1 - from);
			from = p + 1;
			continue;
		}
		for (q++; *q >= '0' && *q <= '9'; q++)
			k = k * 10 + (size_t)(*q - '0');
		if (*q != '"' || k >= d->n)
			break;
		memcpy(out + o, from, (size_t)(p - from));
		o += (size_t)(p - from);
		memcpy(out + o, json_string_value(d->value[k]),
		       json_string_length(d->value[k]));
		o += json_string_length(d->value[k]);
		from = q;
		found++;
	}
	if (found != d->n) {
		sodium_memzero(out, o);
		free(out);
		return NULL;
	}
	memcpy(out + o, from, strlen(from) + 1);
	return out;
}

char *smimp_json_dump_lifted(const json_t *v, size_t flags)
{
	uint8_t raw[TAG_BYTES];
	char tag[2 * TAG_BYTES + 1];
	struct dump_lifts d = {NULL, 0, 0, tag, false};
	json_t *marked;
	char *text, *out = NULL;

	/* Sorted keys or escaped slashes: not the text a marker gives. */
	if ((flags & (JSON_SORT_KEYS | JSON_ESCAPE_SLASH)) != 0 ||
	    !has_long_string(v, 0))
		return json_dumps(v, flags);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(tag, sizeof tag, raw, sizeof raw);
	marked = with_dump_markers(v, &d, 0);
	/* No long string was plain: the copy was for nothing. */
	text = d.failed || d.n == 0 ? NULL : json_dumps(marked, flags);
	json_decref(marked);
	if (text != NULL) {
		out = splice(text, &d);
		/* It holds every value but the lifted ones: payloads carry
		 * secret keys and plaintext. */
		sodium_memzero(text, strlen(text));
		free(text);
	}
	free(d.value);
	/* Nothing lifted, or out of memory on the way: the plain way. */
	return out != NULL ? out : json_dumps(v, flags);
}
