/* Mail calls (spec 8, 9, 11.5, 11.8, 11.9): get_message_key,
 * get_pow_params, send_message, folder, folders, message, message_read,
 * message_move, message_extensions, whitelist, blacklist, quota. */
#include "routes.h"

const struct smd_route_table smd_routes_mail = {NULL, 0};
