/* Contract for a fuzz harness (see driver.c). */
#ifndef REWIND_FUZZ_H
#define REWIND_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Run one input. Return 0, or non-zero if the input broke a property the harness
 * checks (a crash is caught by the driver). Must not leak or keep state. */
int fuzz_one(const uint8_t *data, size_t len);
/* Offer built-in seed inputs through add(). */
void fuzz_seeds(void (*add)(const uint8_t *data, size_t len));

#endif
