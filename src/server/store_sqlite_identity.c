/* SQLite implementation of the identity area (store_identity.h). Input is
 * trusted (checked by the handlers); every value is bound, never pasted. */
#include "sqlite_conn.h"
#include "store_identity.h"

const struct smd_identity_store smd_sqlite_identity_ops = {
	.area = "identity",
};
