/* SQLite implementation of the mail area (store_mail.h). Input is trusted
 * (checked by the handlers); every value is bound, never pasted. */
#include "sqlite_conn.h"
#include "store_mail.h"

const struct smd_mail_store smd_sqlite_mail_ops = {
	.area = "mail",
};
