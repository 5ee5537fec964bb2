/* What the identity handlers (api_user.c, api_init.c, api_session.c,
 * api_keys.c, api_profile.c, api_avatar.c) share: their declarations and a
 * few helpers for the untrusted parts of a request (path addresses, JSON
 * bodies, message key lists). Defined in api_identity.c. */
#ifndef SMD_API_IDENTITY_H
#define SMD_API_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "routes.h"
#include "session.h"
#include "smimp/msgkey.h"
#include "smimp/record.h"
#include "store.h"

/* Decodes args->seg[i] as an address (400 when it is not one); *local says
 * whether this server hosts its domain. */
enum smimp_err smd_id_path_address(const struct smd_request *req,
				   const struct smd_args *args, size_t i,
				   char out[SMIMP_ADDRESS_MAX + 1], bool *local,
				   struct smimp_error *err);

/* Parses the body as a JSON object (400/413); a new reference or NULL. With
 * empty_ok an empty body gives an empty object. */
json_t *smd_id_body(const struct smd_request *req, bool empty_ok,
		    struct smimp_error *err);

/* Parses a wire record (400/413) and applies this server's own limits
 * (max_record_bytes: 413; max_history_records: 409, the history is full). */
enum smimp_err smd_id_record(const struct smd_request *req, const json_t *wire,
			     struct smimp_record *out, struct smimp_error *err);

/* Parses one message key object (400) and verifies it for address with
 * master (422 bad_key), of the given kind. */
enum smimp_err smd_id_msgkey(const json_t *v, const char *address,
			     const struct smimp_sign_pk *master,
			     enum smimp_msgkey_kind kind, struct smimp_msgkey *out,
			     struct smimp_error *err);

/* Same for an array of ephemeral keys (at most max_ephemeral_keys: 413);
 * *out is malloc'ed (free() it), NULL when n is 0. */
enum smimp_err smd_id_msgkeys(const struct smd_request *req, const json_t *arr,
			      const char *address, const struct smimp_sign_pk *master,
			      struct smimp_msgkey **out, size_t *n,
			      struct smimp_error *err);

/* The local account of a session and its current master key (the latest
 * record's); 404 when it is gone. */
enum smimp_err smd_id_account(const struct smd_request *req, const char *address,
			      struct smd_account *acct, struct smimp_sign_pk *key,
			      struct smimp_error *err);

/* smd_db_write with the answer as a protocol error. */
enum smimp_err smd_id_write(const struct smd_request *req, smd_store_write_fn fn,
			    void *arg, struct smimp_error *err);

/* Answers 204 with no body. */
void smd_id_no_content(struct smd_response *resp);

/* True when a create_session call names an address of another domain, so
 * that answering it may mean fetching that domain's identity (7.1). */
bool smd_api_create_session_is_remote(const struct smd_request *req,
				      const struct smd_args *args);

/* Handlers (their files say what each checks). */
enum smimp_err smd_api_get_user(const struct smd_request *, const struct smd_args *,
				struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_initialize_account(const struct smd_request *,
					  const struct smd_args *,
					  struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_create_session_get(const struct smd_request *,
					  const struct smd_args *,
					  struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_create_session_post(const struct smd_request *,
					   const struct smd_args *,
					   struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_destroy_session(const struct smd_request *,
				       const struct smd_args *,
				       struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_nonephemeral_get(const struct smd_request *,
					const struct smd_args *,
					struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_nonephemeral_post(const struct smd_request *,
					 const struct smd_args *,
					 struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_ephemeral_get(const struct smd_request *,
				     const struct smd_args *,
				     struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_ephemeral_post(const struct smd_request *,
				      const struct smd_args *,
				      struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_update_profile(const struct smd_request *,
				      const struct smd_args *,
				      struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_avatar_post(const struct smd_request *, const struct smd_args *,
				   struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_avatar_delete(const struct smd_request *,
				     const struct smd_args *,
				     struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_avatar_get(const struct smd_request *, const struct smd_args *,
				  struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_avatar_file(const struct smd_request *, const struct smd_args *,
				   struct smd_response *, struct smimp_error *);

#endif
