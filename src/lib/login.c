/* Login (spec 7): the signed hash a client sends to POST create_session and
 * the login token hash. The server verifies a signed hash received from the
 * network against the token it issued, its own base URL and the address's
 * master key; nothing here trusts the peer's idea of those values. */
#include "smimp/hash.h"
#include "smimp/key.h"
#include "smimp/login.h"

void smimp_login_hash(struct smimp_hash *out, const char *base_url,
		      const char *address, const struct smimp_token *token)
{
	struct smimp_field f[3];

	f[0] = smimp_text(base_url);
	f[1] = smimp_text(address);
	f[2] = smimp_bytes(token->b, sizeof token->b);
	smimp_hash_fields(out, SMIMP_LABEL_LOGIN, f, 3);
}

void smimp_login_sign(struct smimp_signed_hash *out, const char *base_url,
		      const char *address, const struct smimp_token *token,
		      const struct smimp_sign_sk *master_sk)
{
	struct smimp_hash h;

	smimp_login_hash(&h, base_url, address, token);
	smimp_signed_hash_make(out, &h, master_sk);
}

enum smimp_err smimp_login_verify(const struct smimp_signed_hash *sh,
				  const char *base_url, const char *address,
				  const struct smimp_token *token,
				  const struct smimp_sign_pk *master_pk)
{
	struct smimp_hash h;

	smimp_login_hash(&h, base_url, address, token);
	if (smimp_signed_hash_verify(sh, &h, master_pk) != SMIMP_OK)
		return SMIMP_ERR_BAD_SIGNATURE;
	return SMIMP_OK;
}

void smimp_login_token_hash(struct smimp_hash *out,
			    const struct smimp_token *token)
{
	struct smimp_field f = smimp_bytes(token->b, sizeof token->b);

	smimp_hash_fields(out, SMIMP_LABEL_LOGIN_TOKEN, &f, 1);
}
