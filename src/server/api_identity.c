/* Identity and session calls (spec 7, 10, 11.1–11.4, 11.7): get_user,
 * create_session, destroy_session, initialize_account, nonephemeral_key,
 * ephemeral_keys, update_profile, user_avatar, avatar_file. */
#include "routes.h"

const struct smd_route_table smd_routes_identity = {NULL, 0};
