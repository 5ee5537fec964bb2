/* Mailbox plumbing (see mbox.h). Everything a server answers is checked
 * here before a command prints or reuses it. */
#include <stdio.h>
#include <string.h>

#include "smimp/hex.h"
#include "smimp/timestamp.h"

#include "mbox.h"

int smc_mbox_id(char out[SMC_MBOX_ID_LEN + 1], const char *s,
		struct smc_err *e)
{
	size_t n = strlen(s);

	if (n != SMC_MBOX_ID_LEN)
		return smc_fail(e, SMC_EXIT_USAGE,
				"a message id is 64 hex digits (as smimp list "
				"shows them)");
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return smc_fail(e, SMC_EXIT_USAGE,
					"a message id is 64 hex digits (as "
					"smimp list shows them)");
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

int smc_mbox_type(const char *s, const char *what, struct smc_err *e)
{
	if (!smimp_msgtype_is_valid(s, strlen(s)))
		return smc_fail(e, SMC_EXIT_USAGE,
				"%s: unknown message type %.80s (email, "
				"short-message, secret-ed25519, "
				"secret-curve25519, secret-xsalsa20 or "
				"x-custom-NAME)", what, s);
	return 0;
}

bool smc_mbox_folder_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SMIMP_FOLDER_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

int smc_mbox_folder(const char *s, const char *what, struct smc_err *e)
{
	if (!smc_mbox_folder_ok(s))
		return smc_fail(e, SMC_EXIT_USAGE,
				"%s: a folder name is 1 to 64 characters of "
				"a-z, 0-9, _ and -", what);
	return 0;
}

int smc_mbox_escape(char *out, size_t out_size, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t w = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			if (w + 2 > out_size)
				return -1;
			out[w++] = (char)c;
		} else {
			if (w + 4 > out_size)
				return -1;
			out[w++] = '%';
			out[w++] = hex[c >> 4];
			out[w++] = hex[c & 15];
		}
	}
	if (w + 1 > out_size)
		return -1;
	out[w] = '\0';
	return 0;
}

int smc_mbox_row_parse(const json_t *v, struct smc_mbox_row *r,
		       struct smc_err *e)
{
	const char *id = json_string_value(json_object_get(v, "message_id"));
	const char *ts = json_string_value(json_object_get(v, "received_at"));
	const char *from = json_string_value(json_object_get(v, "from"));
	json_t *rd = json_object_get(v, "read");
	json_t *sz = json_object_get(v, "size");

	memset(r, 0, sizeof *r);
	if (id == NULL || !smimp_hex_is_valid(id, strlen(id), 32) ||
	    ts == NULL || strlen(ts) >= sizeof r->received_at ||
	    smimp_timestamp_parse(&r->received, ts, strlen(ts)) != SMIMP_OK ||
	    from == NULL || !smimp_address_is_normal(from, strlen(from)) ||
	    !json_is_boolean(rd) || !json_is_integer(sz) ||
	    json_integer_value(sz) < 0)
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"the server's folder listing has a malformed "
				"entry");
	strcpy(r->id, id);
	strcpy(r->received_at, ts);
	strcpy(r->from, from);
	r->read = json_is_true(rd);
	r->size = (long long)json_integer_value(sz);
	return 0;
}

int smc_mbox_folder_parse(const json_t *v, struct smc_mbox_folder *f,
			  struct smc_err *e)
{
	const char *name = json_string_value(json_object_get(v, "name"));
	const char *type = json_string_value(json_object_get(v, "message_type"));
	json_t *parent = json_object_get(v, "parent");
	json_t *dn = json_object_get(v, "display_name");

	memset(f, 0, sizeof *f);
	if (name == NULL || !smc_mbox_folder_ok(name) || type == NULL ||
	    !smimp_msgtype_is_valid(type, strlen(type)) || !json_is_string(dn) ||
	    json_string_length(dn) > SMC_MBOX_DISPLAY_MAX ||
	    !(json_is_null(parent) ||
	      (json_is_string(parent) &&
	       smc_mbox_folder_ok(json_string_value(parent)))))
		return smc_fail(e, SMC_EXIT_PROTOCOL,
				"the server's folder list has a malformed "
				"entry");
	strcpy(f->name, name);
	strcpy(f->type, type);
	if (json_is_string(parent))
		strcpy(f->parent, json_string_value(parent));
	f->display_name = json_string_value(dn);
	f->display_len = json_string_length(dn);
	return 0;
}
