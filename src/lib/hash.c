/* H (2.1): BLAKE2b-256 over LE64(n+1) || LE64(len(label)) || label ||
 * LE64(len(f1)) || f1 || ... The field count includes the label. */
#include <sodium.h>

#include "smimp/hash.h"

static void update_le64(crypto_generichash_state *st, uint64_t v)
{
	uint8_t le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	crypto_generichash_update(st, le, sizeof le);
}

static void update_field(crypto_generichash_state *st, const void *p, size_t len)
{
	update_le64(st, (uint64_t)len);
	if (len > 0)
		crypto_generichash_update(st, p, len);
}

void smimp_hash_fields(struct smimp_hash *out, const char *label,
		       const struct smimp_field *fields, size_t n)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof out->b);
	update_le64(&st, (uint64_t)n + 1);
	update_field(&st, label, strlen(label));
	for (size_t i = 0; i < n; i++)
		update_field(&st, fields[i].ptr, fields[i].len);
	crypto_generichash_final(&st, out->b, sizeof out->b);
}

void smimp_hash_plain(struct smimp_hash *out, const void *in, size_t len)
{
	crypto_generichash(out->b, sizeof out->b, in, len, NULL, 0);
}

int smimp_hash_equal(const struct smimp_hash *a, const struct smimp_hash *b)
{
	return sodium_memcmp(a->b, b->b, sizeof a->b) == 0;
}
