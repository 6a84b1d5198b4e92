/* infsym: core/sym as the inferior's symbol services (struct inf_symops): one
 * symtab per traced process image, plus one for the program file before it runs. */
#ifndef REWIND_INFSYM_H
#define REWIND_INFSYM_H

#include "inferior.h"
#include "sym/symtab.h"

/* Install the services in inf (inf->sym, inf->symctx). */
void infsym_install(struct inferior *inf);
/* Symbols of the program file, for use before `run` (re-read when path changes).
 * Returns 0 or -errno; *errmsg (malloc'd) says why. */
int infsym_load_file(struct inferior *inf, const char *path, char **errmsg);
/* The symtab for p (NULL: the program file's). May return NULL. */
struct symtab *infsym_symtab(struct inferior *inf, struct proc *p);

#endif
