/* The backend-independent wrapper of the mail store's grouped writer:
 * soft errors (busy, serialization failures) are retried with a growing
 * pause, as smd_db_write does. No SQL here, no untrusted input. */
#include <time.h>

#include "store_mail.h"

enum smd_store_rc smd_db_write_grouped(struct smd_db *db,
				       smd_store_write_fn fn, void *arg)
{
	long pause_ns = 1000 * 1000;
	enum smd_store_rc rc;

	if (db->ops->mail == NULL || db->ops->mail->write_grouped == NULL)
		return smd_db_write(db, fn, arg);
	for (int tries = 0;; tries++) {
		rc = db->ops->mail->write_grouped(db->st, fn, arg);
		if (rc != SMD_STORE_BUSY || tries == 8)
			return rc;
		nanosleep(&(struct timespec){0, pause_ns}, NULL);
		pause_ns *= 2;
	}
}
