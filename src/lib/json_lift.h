/* json_loadb with long plain string values lifted past jansson's slow
 * string lexer (json_lift.c says how and why it is exact). Internal to
 * libsmimp: smimp_json_parse is the way in. */
#ifndef SMIMP_JSON_LIFT_H
#define SMIMP_JSON_LIFT_H

#include <jansson.h>
#include <stddef.h>

/* The same result as json_loadb(buf, len, flags, jerr), error position
 * included, faster when buf has long base64 or hex values. */
json_t *smimp_json_load_lifted(const char *buf, size_t len, size_t flags,
			       json_error_t *jerr);

#endif
