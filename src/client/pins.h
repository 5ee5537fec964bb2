/* The pin store HOME/pins.json (spec 5.1): one pin per address resolved,
 * with when it was first seen and last moved. Updates happen under the home
 * lock and re-check the new history against the pin as stored at that
 * moment, so two smimp processes cannot undo each other's checks. */
#ifndef SMC_PINS_H
#define SMC_PINS_H

#include <stddef.h>
#include <stdint.h>

#include "smimp/history.h"
#include "smimp/pin.h"

#include "err.h"
#include "home.h"

struct smc_pin_entry {
	struct smimp_pin pin;
	int64_t first_seen;  /* seconds since the epoch */
	int64_t updated_at;  /* when the pin last moved (or was made) */
};

struct smc_pins {
	size_t n;
	struct smc_pin_entry *v; /* sorted by address */
};

/* What smc_pins_commit did. */
enum smc_pin_change {
	SMC_PIN_NEW,       /* first contact: pinned now */
	SMC_PIN_SAME,      /* the history ends where the pin is */
	SMC_PIN_ADVANCED,  /* the pin moved to a newer record */
};

/* Reads HOME/pins.json (a missing file is an empty store). */
int smc_pins_load(const struct smc_home *h, struct smc_pins *p,
		  struct smc_err *e);
void smc_pins_free(struct smc_pins *p);
const struct smc_pin_entry *smc_pins_find(const struct smc_pins *p,
					  const char *address);

/* Under the home lock: reloads the store, checks the validated history h
 * against the stored pin of its address (smimp_pin_advance; a mismatch is
 * SMC_EXIT_PIN with the library's plain explanation) or pins it on first
 * contact, and saves. *change and *before (may be NULL; the pin as it was,
 * valid unless NEW) say what happened. */
int smc_pins_commit(const struct smc_home *h, const struct smimp_history *hist,
		    enum smc_pin_change *change, struct smc_pin_entry *before,
		    struct smc_err *e);

/* Under the home lock: removes the pin of address. SMC_EXIT_NOINPUT when
 * there is none. */
int smc_pins_forget(const struct smc_home *h, const char *address,
		    struct smc_err *e);

/* The entry as JSON for --json output: the pin's members plus first_seen
 * and updated_at timestamps. New reference or NULL. */
json_t *smc_pin_entry_to_json(const struct smc_pin_entry *pe);

#endif
