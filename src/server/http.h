/* The HTTPS listener (libmicrohttpd with GnuTLS): serves requests through
 * the router until SIGTERM or SIGINT, reloads the certificate on SIGHUP. */
#ifndef SMD_HTTP_H
#define SMD_HTTP_H

#include "request.h"

/* Exit codes of smd_http_serve besides 0 (see smimpd(8)). */
#define SMD_EXIT_CONFIG 78   /* certificate or key unusable */
#define SMD_EXIT_OSERR 71    /* cannot listen or start threads */

/* Serves until SIGTERM/SIGINT, then stops accepting, lets the requests in
 * flight finish and returns 0; returns an exit code when it cannot start.
 * Call from the main thread before any other thread exists: it blocks
 * SIGTERM, SIGINT and SIGHUP in every thread and waits for them itself. */
int smd_http_serve(const struct smd_server *srv);

#endif
