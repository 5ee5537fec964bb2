/* What the client has received (spec 13): HOME/accounts/ADDRESS/received,
 * a record of the message hashes and ephemeral keys of every message that
 * was read and verified. An envelope seen again under another message id
 * (a replay) or a second message to one ephemeral key (a server reusing
 * keys, or a sender replaying) is reported so that `read` can warn. The
 * file is JSON, 0600, replaced atomically under its own lock; it holds no
 * content, only hashes, public keys and ids. */
#ifndef SMC_RECEIVED_H
#define SMC_RECEIVED_H

#include "smimp/types.h"

#include "err.h"
#include "home.h"

#define SMC_RECEIVED_MAX_ENTRIES 200000 /* oldest dropped beyond this */

struct smc_received_verdict {
	int replay;                  /* this envelope was seen before ... */
	char replay_of[65];          /* ... as this message id */
	char replay_seen_at[32];
	int key_reused;              /* the ephemeral key carried another ... */
	char key_reused_by[65];      /* ... message, with this message id */
};

/* Under the lock: looks up message_hash (the envelope's signed hash) and
 * ephemeral_key (NULL for a non-ephemeral key), fills *v, and records both
 * for message_id when new. */
int smc_received_note(const struct smc_home *h, const char *address,
		      const struct smimp_signed_hash *message_hash,
		      const char *message_id,
		      const struct smimp_box_pk *ephemeral_key,
		      struct smc_received_verdict *v, struct smc_err *e);

#endif
