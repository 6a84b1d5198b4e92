/* record_vdso: force the vDSO's time functions onto real (trapped) syscalls.
 *
 * Choice: patch the entry points rather than hide the vDSO (AT_SYSINFO_EHDR) from
 * the loader. Patching works on a process we attach to (its libc has already cached
 * the vDSO pointers), on static programs and on runtimes that find the vDSO
 * themselves, and it leaves the vDSO's `syscall` instruction for injection. Each
 * entry point becomes
 *     mov $NR, %eax ; syscall ; ret          (8 bytes)
 * whose arguments are already where the syscall wants them (rdi, rsi, rdx), so the
 * call is trapped and recorded like any other. vgetrandom becomes
 *     mov $-ENOSYS, %rax ; ret
 * (callers fall back to the getrandom syscall). The page is written through
 * /proc/PID/mem, which copies it privately; snapshots carry the patched copy. */
#include "replay/record_int.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/maps.h"

static const struct {
	const char *name;
	int nr;            /* -1: return -ENOSYS */
} entries[] = {
	{ "__vdso_clock_gettime", 228 },
	{ "__vdso_gettimeofday", 96 },
	{ "__vdso_time", 201 },
	{ "__vdso_clock_getres", 229 },
	{ "__vdso_getcpu", 309 },
	{ "__vdso_getrandom", -1 },
};

static size_t patch_bytes(int nr, uint8_t out[8])
{
	if (nr < 0) {
		static const uint8_t enosys[8] = { 0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff, 0xc3 };
		memcpy(out, enosys, 8);
		return 8;
	}
	out[0] = 0xb8;                       /* mov $nr, %eax */
	out[1] = (uint8_t)nr;
	out[2] = (uint8_t)(nr >> 8);
	out[3] = out[4] = 0;
	out[5] = 0x0f;                       /* syscall */
	out[6] = 0x05;
	out[7] = 0xc3;                       /* ret */
	return 8;
}

/* Find name in the image's dynamic symbols: its offset from the image start. */
static int find_sym(const uint8_t *img, size_t len, const char *name, uint64_t *off,
		    uint64_t *size)
{
	if (len < sizeof(Elf64_Ehdr) || memcmp(img, ELFMAG, SELFMAG))
		return -ENOEXEC;
	const Elf64_Ehdr *eh = (const void *)img;
	if (eh->e_shoff == 0 || eh->e_shoff > len ||
	    (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > len - eh->e_shoff)
		return -ENOEXEC;
	/* The load address of the image's first byte (p_vaddr of the first PT_LOAD). */
	uint64_t base = 0;
	if (eh->e_phoff && eh->e_phoff < len &&
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) <= len - eh->e_phoff) {
		const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff);
		for (int i = 0; i < eh->e_phnum; i++)
			if (ph[i].p_type == PT_LOAD) {
				base = ph[i].p_vaddr - ph[i].p_offset;
				break;
			}
	}
	const Elf64_Shdr *sh = (const void *)(img + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
			continue;
		const Elf64_Shdr *st = &sh[sh[i].sh_link];
		if (sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset ||
		    st->sh_offset > len || st->sh_size > len - st->sh_offset)
			return -ENOEXEC;
		const Elf64_Sym *sy = (const void *)(img + sh[i].sh_offset);
		const char *str = (const char *)img + st->sh_offset;
		size_t n = sh[i].sh_size / sizeof *sy;
		for (size_t j = 0; j < n; j++) {
			if (sy[j].st_name >= st->sh_size || !sy[j].st_value)
				continue;
			const char *s = str + sy[j].st_name;
			if (strnlen(s, st->sh_size - sy[j].st_name) == st->sh_size - sy[j].st_name)
				continue;
			if (strcmp(s, name))
				continue;
			*off = sy[j].st_value - base;
			*size = sy[j].st_size;
			return *off < len ? 0 : -ENOEXEC;
		}
	}
	return -ENOENT;
}

int rec_vdso_patch(struct proc *p)
{
	struct maps maps;
	int e = maps_read(p->pid, &maps);
	if (e < 0)
		return e;
	const struct map_entry *v = maps_find_name(&maps, "[vdso]");
	if (!v) {
		maps_free(&maps);
		return 0;   /* no vDSO (vdso=0): every time call is a syscall already */
	}
	uint64_t start = v->start;
	size_t len = v->end - v->start;
	maps_free(&maps);
	uint8_t *img = xmalloc(len);
	e = proc_read_raw(p, RADDR(start), img, len);
	int patched = 0;
	for (size_t i = 0; e == 0 && i < ARRAY_SIZE(entries); i++) {
		uint64_t off, size;
		int f = find_sym(img, len, entries[i].name, &off, &size);
		if (f == -ENOENT)
			continue;   /* an older kernel without it */
		if (f < 0) {
			e = f;
			break;
		}
		uint8_t code[8];
		size_t n = patch_bytes(entries[i].nr, code);
		if (size && size < n) {
			pr_warn(LM_REPLAY, "vDSO %s is %llu bytes, too short to patch", entries[i].name,
				(unsigned long long)size);
			continue;
		}
		if (off + n > len)
			continue;
		if (!memcmp(img + off, code, n)) {
			patched++;   /* patched already (a snapshot of a patched process) */
			continue;
		}
		e = proc_write_raw(p, RADDR(start + off), code, n);
		if (e == 0)
			patched++;
	}
	free(img);
	if (e < 0) {
		pr_warn(LM_REPLAY, "pid %d: vDSO not patched: %s", p->pid, strerror(-e));
		return e;
	}
	pr_debug(LM_REPLAY, "pid %d: %d vDSO entry points patched", p->pid, patched);
	return patched;
}
