/* What the mail handler files (api_send.c, api_mailbox.c, api_folders.c,
 * api_lists.c) share: their handlers for the route table in api_mail.c and
 * the checks of untrusted path segments, query values and small bodies. */
#ifndef SMD_API_MAIL_H
#define SMD_API_MAIL_H

#include <stdbool.h>

#include "routes.h"
#include "session.h"
#include "smimp/msgtype.h"
#include "smimp/types.h"
#include "store_mail.h"

/* Largest JSON body of the small mail calls (everything but send_message
 * and message_extensions). */
#define SMD_MAIL_SMALL_BODY (64 * 1024)

/* Checks the session (need) and marks resp no-store (4.4), also for the
 * error answers that follow. */
enum smimp_err smd_mail_session(const struct smd_request *req,
				struct smd_response *resp,
				enum smd_session_need need,
				struct smd_session *out, struct smimp_error *err);

/* Path segment checks; each answers SMIMP_ERR_BAD_REQUEST naming what. */
enum smimp_err smd_mail_seg_type(char out[SMIMP_MSGTYPE_MAX + 1],
				 const struct smd_args *a, size_t i,
				 struct smimp_error *err);
enum smimp_err smd_mail_seg_folder(char out[SMIMP_FOLDER_NAME_MAX + 1],
				   const struct smd_args *a, size_t i,
				   struct smimp_error *err);
/* A HEX32 segment (message ids, list hashes). */
enum smimp_err smd_mail_seg_hex32(uint8_t out[32], const struct smd_args *a,
				  size_t i, struct smimp_error *err);
/* True when s[0..len) is a folder name [a-z0-9_-]{1,64}. */
bool smd_mail_folder_name_ok(const char *s, size_t len);

/* Parses a JSON object body of at most max bytes (413 past it). */
json_t *smd_mail_body(const struct smd_request *req, size_t max,
		      struct smimp_error *err);

/* The local, initialized account at address with its master key, or
 * SMIMP_ERR_NOT_FOUND (also for a domain this server does not host). */
enum smimp_err smd_mail_recipient(const struct smd_request *req,
				  const char *address,
				  struct smd_mail_recipient *out,
				  struct smimp_error *err);

/* A list lookup for smimp_list_verdict; ctx is the struct smd_db. */
enum smimp_err smd_mail_list_lookup(void *ctx, const char *owner,
				    enum smimp_list_kind kind,
				    const struct smimp_hash *entry, bool *listed,
				    struct smimp_error *err);

/* Answers 200 {} / 204 with no body. */
void smd_mail_ok_empty(struct smd_response *resp);
void smd_mail_no_content(struct smd_response *resp);

/* Handlers. */
enum smimp_err smd_api_get_message_key(const struct smd_request *,
				       const struct smd_args *,
				       struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_get_pow_params(const struct smd_request *,
				      const struct smd_args *,
				      struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_send_message(const struct smd_request *,
				    const struct smd_args *,
				    struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_folder(const struct smd_request *, const struct smd_args *,
			      struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_message_get(const struct smd_request *,
				   const struct smd_args *,
				   struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_message_delete(const struct smd_request *,
				      const struct smd_args *,
				      struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_message_read_get(const struct smd_request *,
					const struct smd_args *,
					struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_message_read_set(const struct smd_request *,
					const struct smd_args *,
					struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_message_move(const struct smd_request *,
				    const struct smd_args *,
				    struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_message_extensions(const struct smd_request *,
					  const struct smd_args *,
					  struct smd_response *,
					  struct smimp_error *);
enum smimp_err smd_api_folders_get(const struct smd_request *,
				   const struct smd_args *,
				   struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_folders_create(const struct smd_request *,
				      const struct smd_args *,
				      struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_folders_update(const struct smd_request *,
				      const struct smd_args *,
				      struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_folders_delete(const struct smd_request *,
				      const struct smd_args *,
				      struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_whitelist_get(const struct smd_request *,
				     const struct smd_args *,
				     struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_whitelist_add(const struct smd_request *,
				     const struct smd_args *,
				     struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_whitelist_remove(const struct smd_request *,
					const struct smd_args *,
					struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_blacklist_get(const struct smd_request *,
				     const struct smd_args *,
				     struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_blacklist_add(const struct smd_request *,
				     const struct smd_args *,
				     struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_blacklist_remove(const struct smd_request *,
					const struct smd_args *,
					struct smd_response *, struct smimp_error *);
enum smimp_err smd_api_quota(const struct smd_request *, const struct smd_args *,
			     struct smd_response *, struct smimp_error *);

#endif
