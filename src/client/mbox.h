/* Mailbox plumbing shared by list, read, mark, mv, rm and folders (spec
 * 11.5): checks of what the user typed (message ids, types, folder names)
 * before they go into a URL path, query-value escaping, and the checks of
 * the server's folder and listing answers. Untrusted input: the command
 * line and every answer of the account's own server. */
#ifndef SMC_MBOX_H
#define SMC_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "smimp/address.h"
#include "smimp/envelope.h"
#include "smimp/msgtype.h"

#include "err.h"

#define SMC_MBOX_ID_LEN 64           /* HEX32 */
#define SMC_MBOX_CURSOR_MAX 256      /* longest paging cursor accepted */
#define SMC_MBOX_DISPLAY_MAX 1024    /* longest folder display name */

/* A message id typed by the user: 64 hex digits, any case; written in
 * lower case to out. SMC_EXIT_USAGE otherwise. */
int smc_mbox_id(char out[SMC_MBOX_ID_LEN + 1], const char *s,
		struct smc_err *e);

/* A message type (12) and a folder name ([a-z0-9_-]{1,64}); what names the
 * value in the error ("--type", "FOLDER"). SMC_EXIT_USAGE otherwise. */
int smc_mbox_type(const char *s, const char *what, struct smc_err *e);
int smc_mbox_folder(const char *s, const char *what, struct smc_err *e);
bool smc_mbox_folder_ok(const char *s);

/* Percent-encodes s (every byte but A-Z a-z 0-9 - . _ ~) into out; -1 when
 * out is too small. */
int smc_mbox_escape(char *out, size_t out_size, const char *s);

/* One row of GET folder/..., checked. */
struct smc_mbox_row {
	char id[SMC_MBOX_ID_LEN + 1];
	char received_at[32];
	int64_t received;
	bool read;
	char from[SMIMP_ADDRESS_MAX + 1];
	long long size;
};

/* Checks one listing row from the server (message_id HEX32, received_at a
 * timestamp, read a boolean, from an address in normal form, size >= 0). */
int smc_mbox_row_parse(const json_t *v, struct smc_mbox_row *r,
		       struct smc_err *e);

/* One folder of GET folders, checked. */
struct smc_mbox_folder {
	char name[SMIMP_FOLDER_NAME_MAX + 1];
	char parent[SMIMP_FOLDER_NAME_MAX + 1];  /* "" at the root */
	char type[SMIMP_MSGTYPE_MAX + 1];
	const char *display_name;                /* borrowed from the JSON */
	size_t display_len;
};

int smc_mbox_folder_parse(const json_t *v, struct smc_mbox_folder *f,
			  struct smc_err *e);

#endif
