/* json_loadb and json_dumps with long plain string values lifted past
 * jansson's slow string handling (json_lift.c says how and why it is
 * exact). Internal to libsmimp: smimp_json_parse and smimp_json_dump are
 * the ways in. */
#ifndef SMIMP_JSON_LIFT_H
#define SMIMP_JSON_LIFT_H

#include <jansson.h>
#include <stddef.h>

/* The same result as json_loadb(buf, len, flags, jerr), error position
 * included, faster when buf has long base64 or hex values. */
json_t *smimp_json_load_lifted(const char *buf, size_t len, size_t flags,
			       json_error_t *jerr);

/* The same text as json_dumps(v, flags), faster when v has long base64 or
 * hex strings; v is not changed. */
char *smimp_json_dump_lifted(const json_t *v, size_t flags);

#endif
