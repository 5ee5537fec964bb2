/* smimp avatar set FILE | get ADDRESS [-o FILE] | delete (spec 10, 11.7).
 * An avatar is a PNG or JPEG (by magic bytes) signed over
 * H("smimp/0.1/avatar", address, image) by the owner's master key. `get`
 * verifies that signature with the address's PINNED key before a byte is
 * saved, and fetches the image only from the address's own server.
 * Untrusted input: user_avatar answers, the image bytes, server_information. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smimp/hash.h"
#include "smimp/hex.h"
#include "smimp/json.h"
#include "smimp/key.h"

#include "account.h"
#include "cli.h"
#include "fsutil.h"
#include "render.h"
#include "resolve.h"

#define AVATAR_DEFAULT_MAX (256 * 1024)
#define AVATAR_HARD_MAX (16 * 1024 * 1024)

/* "png", "jpeg" by magic bytes, NULL otherwise. */
static const char *image_kind(const uint8_t *p, size_t n)
{
	static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
				       '\n'};
	static const uint8_t jpeg[3] = {0xff, 0xd8, 0xff};

	if (n >= sizeof png && memcmp(p, png, sizeof png) == 0)
		return "png";
	if (n >= sizeof jpeg && memcmp(p, jpeg, sizeof jpeg) == 0)
		return "jpeg";
	return NULL;
}

/* max_avatar_bytes from the server's server_information (default when it
 * does not say), bounded. */
static size_t avatar_limit(struct smc_ctx *c, const struct smc_server *srv)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct smc_err ignored;
	json_t *ans = NULL;
	long long v = AVATAR_DEFAULT_MAX;

	if (smc_api_call(c->t, srv, NULL, SMC_GET, "server_information", NULL,
			 256 * 1024, &ans, &ignored) == 0 && ans != NULL &&
	    smimp_json_get_int(json_object_get(ans, "limits"),
			       "max_avatar_bytes", 0, 1, AVATAR_HARD_MAX, &v,
			       &le) != SMIMP_OK)
		v = AVATAR_DEFAULT_MAX;
	json_decref(ans);
	return (size_t)v;
}

static void avatar_hash(struct smimp_hash *h, const char *address,
			const uint8_t *img, size_t n)
{
	struct smimp_field f[2] = {smimp_text(address), smimp_bytes(img, n)};

	smimp_hash_fields(h, SMIMP_LABEL_AVATAR, f, 2);
}

static int do_set(struct smc_ctx *c, const char *file, struct smc_err *e)
{
	struct smc_account a;
	struct smimp_hash h;
	struct smimp_signed_hash sh;
	char *img = NULL;
	const char *kind;
	size_t n, limit;
	json_t *body = NULL;
	int rc = -1;

	if (smc_account_open(c, &a, e) != 0)
		return -1;
	if (smc_account_login(c, &a, e) != 0)
		goto out;
	limit = avatar_limit(c, &a.server);
	if (smc_file_read(file, limit, false, &img, &n, NULL, e) != 0) {
		smc_fail_prefix(e, "avatar (the server takes at most %zu "
				"bytes)", limit);
		goto out;
	}
	kind = image_kind((const uint8_t *)img, n);
	if (kind == NULL) {
		smc_fail(e, SMC_EXIT_DATAERR, "%s is neither a PNG nor a JPEG "
			 "image", file);
		goto out;
	}
	avatar_hash(&h, a.ks->address, (const uint8_t *)img, n);
	smimp_signed_hash_make(&sh, &h, &a.ks->master.kp.sk);
	body = json_object();
	if (body == NULL ||
	    smimp_json_set_b64(body, "image", (const uint8_t *)img, n) ||
	    smimp_json_set_hex(body, "signed_hash", sh.b, sizeof sh.b)) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	if (smc_api_call(c->t, &a.server, &a.session, SMC_POST, "user_avatar",
			 body, 64 * 1024, NULL, e) != 0) {
		smc_fail_prefix(e, "POST user_avatar");
		goto out;
	}
	printf("avatar of %s set: %zu bytes of %s, signed with the master "
	       "key\n", a.ks->address, n, kind);
	rc = 0;
out:
	json_decref(body);
	free(img);
	smc_account_close(c, &a);
	return rc;
}

static int do_delete(struct smc_ctx *c, struct smc_err *e)
{
	struct smc_account a;
	int rc = -1;

	if (smc_account_open(c, &a, e) != 0)
		return -1;
	if (smc_account_login(c, &a, e) == 0) {
		if (smc_api_call(c->t, &a.server, &a.session, SMC_DELETE,
				 "user_avatar", NULL, 64 * 1024, NULL, e) != 0)
			smc_fail_prefix(e, "DELETE user_avatar");
		else {
			printf("avatar of %s deleted\n", a.ks->address);
			rc = 0;
		}
	}
	smc_account_close(c, &a);
	return rc;
}

static int do_get(struct smc_ctx *c, const char *address, const char *out,
		  struct smc_err *e)
{
	struct smimp_error le = {SMIMP_OK, ""};
	struct smc_resolver r;
	struct smc_identity id;
	struct smc_response resp = {0, NULL, 0, -1};
	struct smimp_signed_hash sh;
	struct smimp_hash h;
	char path[SMIMP_ADDRESS_PATH_MAX + 1], endpoint[SMIMP_ADDRESS_PATH_MAX + 32];
	char origin[SMIMP_BASE_URL_MAX + 1], fname[SMIMP_ADDRESS_MAX + 8];
	const char *url, *kind;
	size_t url_len;
	json_t *ans = NULL;
	int rc = -1;

	if (smc_ctx_resolver(c, &r, e) != 0 ||
	    smc_resolve_identity(&r, address, SMC_RESOLVE_QUICK, &id, e) != 0)
		return -1;
	if (smimp_address_path_encode(path, id.address, &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_DATAERR, "%s", le.message);
		goto out;
	}
	snprintf(endpoint, sizeof endpoint, "user_avatar/%s", path);
	if (smc_api_call(c->t, &id.server, NULL, SMC_GET, endpoint, NULL,
			 64 * 1024, &ans, e) != 0) {
		smc_fail_prefix(e, "avatar of %s", id.address);
		goto out;
	}
	if (ans == NULL ||
	    smimp_json_get_string(ans, "url", 0, SMIMP_BASE_URL_MAX + 256, &url,
				  &url_len, &le) != SMIMP_OK ||
	    smimp_json_get_hex(ans, "signed_hash", 0, sh.b, sizeof sh.b, NULL,
			       &le) != SMIMP_OK) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "avatar of %s: bad answer from "
			 "%s: %s", id.address, id.server.origin,
			 ans == NULL ? "empty" : le.message);
		goto out;
	}
	/* Only from the address's own server, over HTTPS. */
	if (strlen(url) != url_len ||
	    smc_url_origin(origin, sizeof origin, url) != 0 ||
	    strcmp(origin, id.server.origin) != 0 ||
	    url[strlen(origin)] != '/') {
		char shown[200];

		smc_render_safe_buf(shown, sizeof shown, url, url_len, 120);
		smc_fail(e, SMC_EXIT_PROTOCOL, "avatar of %s: the server points "
			 "to %s, which is not on %s; refused", id.address,
			 shown, id.server.origin);
		goto out;
	}
	if (smc_transport_request(c->t, SMC_GET, url, NULL, NULL, 0,
				  avatar_limit(c, &id.server), &resp, e) != 0) {
		smc_fail_prefix(e, "avatar file of %s", id.address);
		goto out;
	}
	if (resp.status != 200) {
		smc_fail(e, resp.status >= 500 ? SMC_EXIT_TEMPFAIL
					       : SMC_EXIT_REFUSED,
			 "avatar file of %s: HTTP %ld", id.address,
			 resp.status);
		goto out;
	}
	/* Verified with the pinned key before anything is written. */
	avatar_hash(&h, id.address, (const uint8_t *)resp.body, resp.len);
	if (smimp_signed_hash_verify(&sh, &h,
				     &id.entry.pin.latest_public_key) !=
	    SMIMP_OK) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the avatar of %s does NOT "
			 "verify with its pinned key (altered on the server?); "
			 "nothing saved", id.address);
		goto out;
	}
	kind = image_kind((const uint8_t *)resp.body, resp.len);
	if (kind == NULL) {
		smc_fail(e, SMC_EXIT_PROTOCOL, "the avatar of %s is neither "
			 "PNG nor JPEG; nothing saved", id.address);
		goto out;
	}
	if (out == NULL) {
		/* local_at_domain.png: an address has no '/' or '#' left. */
		snprintf(fname, sizeof fname, "%s.%s", id.address,
			 strcmp(kind, "png") == 0 ? "png" : "jpg");
		*strchr(fname, '#') = '_';
		out = fname;
	}
	if (strcmp(out, "-") == 0) {
		if (fwrite(resp.body, 1, resp.len, stdout) != resp.len) {
			smc_fail(e, SMC_EXIT_IOERR, "cannot write the output");
			goto out;
		}
	} else {
		if (smc_file_write_atomic(out, resp.body, resp.len, e) != 0)
			goto out;
		printf("avatar of %s (%zu bytes, %s) verified with the pinned "
		       "key and saved to %s\n", id.address, resp.len, kind,
		       out);
	}
	rc = 0;
out:
	smc_response_free(&resp);
	json_decref(ans);
	smc_identity_free(&id);
	return rc;
}

static int run(struct smc_ctx *c, int argc, char **argv, struct smc_err *e)
{
	const char *pos[2] = {NULL, NULL}, *out = NULL;
	size_t npos = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return SMC_OPT_HELP;
		if (strcmp(a, "--json") == 0) {
			c->json = 1;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			if (i + 1 >= argc)
				return smc_fail(e, SMC_EXIT_USAGE,
						"%s needs a file name", a);
			out = argv[++i];
		} else if (strncmp(a, "--output=", 9) == 0) {
			out = a + 9;
		} else if (a[0] == '-' && a[1] != '\0') {
			return smc_fail(e, SMC_EXIT_USAGE, "unknown option "
					"%.100s", a);
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			return smc_opt_unexpected(a, e);
		}
	}
	if (npos == 2 && strcmp(pos[0], "set") == 0 && out == NULL)
		return do_set(c, pos[1], e);
	if (npos == 2 && strcmp(pos[0], "get") == 0)
		return do_get(c, pos[1], out, e);
	if (npos == 1 && strcmp(pos[0], "delete") == 0 && out == NULL)
		return do_delete(c, e);
	return smc_fail(e, SMC_EXIT_USAGE, "avatar set FILE | get ADDRESS "
			"[-o FILE] | delete");
}

const struct smc_command smc_cmd_avatar = {
	"avatar", "set FILE | get ADDRESS [-o FILE] | delete",
	"Publish, fetch (verified) or delete an avatar.",
	"\navatar set FILE\n"
	"    Publishes FILE (PNG or JPEG, recognized by its first bytes; at\n"
	"    most the server's max_avatar_bytes, 256 KiB by default) as the\n"
	"    account's avatar, signed with its master key.\n"
	"avatar get ADDRESS [-o FILE]\n"
	"    Resolves ADDRESS (pinning it on first contact), asks its server for\n"
	"    the avatar's URL and signed hash, fetches the image from that same\n"
	"    server only, and verifies the signature with the address's PINNED\n"
	"    key. Nothing is saved unless it verifies. Saved to FILE (\"-\" for\n"
	"    standard output), by default LOCAL_DOMAIN.png or .jpg in the\n"
	"    current directory, mode 0600.\n"
	"avatar delete\n"
	"    Removes the account's avatar.\n",
	run,
};
