/* Proof-of-work difficulty policy (8, 11.8). Rate limits: see
 * policy_rate.c. Untrusted input: none here (the verdict and names are
 * checked by the caller). */
#include "policy.h"

unsigned smd_policy_pow_bits(const struct smd_config *cfg,
			     enum smimp_list_verdict verdict,
			     const char *recipient, const char *message_type)
{
	(void)recipient;
	(void)message_type;
	if (smimp_list_verdict_accepts(verdict))
		return 0;
	return cfg->pow_zero_bits;
}
