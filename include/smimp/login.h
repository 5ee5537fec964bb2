/* Login (spec 7): the client signs H("smimp/0.1/login", base_url, address,
 * token) with its master key; the login token hash
 * H("smimp/0.1/login-token", token) binds proofs of work and envelopes to
 * the session. */
#ifndef SMIMP_LOGIN_H
#define SMIMP_LOGIN_H

#include "smimp/error.h"
#include "smimp/types.h"

void smimp_login_hash(struct smimp_hash *out, const char *base_url,
		      const char *address, const struct smimp_token *token);

void smimp_login_sign(struct smimp_signed_hash *out, const char *base_url,
		      const char *address, const struct smimp_token *token,
		      const struct smimp_sign_sk *master_sk);

/* SMIMP_ERR_BAD_SIGNATURE unless sh is master_pk's signature of the login
 * hash over exactly these values. */
enum smimp_err smimp_login_verify(const struct smimp_signed_hash *sh,
				  const char *base_url, const char *address,
				  const struct smimp_token *token,
				  const struct smimp_sign_pk *master_pk);

void smimp_login_token_hash(struct smimp_hash *out,
			    const struct smimp_token *token);

#endif
