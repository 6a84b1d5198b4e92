/* rsp_packet: parse gdb's request packets into struct rsp_packet. */
#include "rsp_packet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "rsp_codec.h"

/* A bounded cursor over the payload: nothing here reads past end or trusts a NUL. */
struct cur {
	char *p, *end;
};

static bool at_end(const struct cur *c) { return c->p == c->end; }
static size_t left(const struct cur *c) { return (size_t)(c->end - c->p); }

static bool eat(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);
	if (left(c) < n || memcmp(c->p, lit, n))
		return false;
	c->p += n;
	return true;
}

static bool eatc(struct cur *c, char ch)
{
	if (at_end(c) || *c->p != ch)
		return false;
	c->p++;
	return true;
}

static bool hexnum(struct cur *c, uint64_t *v)
{
	size_t used;
	if (rsp_parse_hex(c->p, left(c), v, &used))
		return false;
	c->p += used;
	return true;
}

/* One id of a thread-id: "-1" (all) or hex (0 is "any"). */
static bool id_part(struct cur *c, long *out)
{
	uint64_t v;
	if (eat(c, "-1")) {
		*out = -1;
		return true;
	}
	if (!hexnum(c, &v) || v > 0x7fffffff)
		return false;
	*out = (long)v;
	return true;
}

/* thread-id: "pPID[.TID]" (multiprocess) or "TID"; "pPID" means all its threads. */
static bool ptid(struct cur *c, struct rsp_ptid *t)
{
	if (eatc(c, 'p')) {
		t->has_pid = true;
		if (!id_part(c, &t->pid))
			return false;
		t->tid = -1;
		if (eatc(c, '.'))
			return id_part(c, &t->tid);
		return true;
	}
	t->has_pid = false;
	if (!id_part(c, &t->tid))
		return false;
	t->pid = t->tid == -1 ? -1 : 0;
	return true;
}

/* Decode a hex field that runs to the end of the payload, in place, NUL-terminated. */
static bool hex_tail(struct cur *c, char **out, size_t *len)
{
	size_t n = left(c);
	if (rsp_hex_decode(c->p, n, (uint8_t *)c->p))
		return false;
	c->p[n / 2] = 0;
	*out = c->p;
	if (len)
		*len = n / 2;
	c->p = c->end;
	return true;
}

static void malformed(struct rsp_packet *out, const char *why)
{
	out->kind = RSP_MALFORMED;
	out->error = why;
}

static const char *const feature_names[RSP_F__COUNT] = {
	[RSP_F_MULTIPROCESS] = "multiprocess", [RSP_F_SWBREAK] = "swbreak",
	[RSP_F_HWBREAK] = "hwbreak", [RSP_F_QRELOCINSN] = "qRelocInsn",
	[RSP_F_FORK_EVENTS] = "fork-events", [RSP_F_VFORK_EVENTS] = "vfork-events",
	[RSP_F_EXEC_EVENTS] = "exec-events", [RSP_F_VCONT_SUPPORTED] = "vContSupported",
	[RSP_F_QTHREAD_EVENTS] = "QThreadEvents", [RSP_F_NO_RESUMED] = "no-resumed",
	[RSP_F_MEMORY_TAGGING] = "memory-tagging", [RSP_F_ERROR_MESSAGE] = "error-message",
};

const char *rsp_feature_name(enum rsp_feature f)
{
	return (unsigned)f < RSP_F__COUNT ? feature_names[f] : NULL;
}

static void parse_qsupported(struct cur *c, struct rsp_packet *out)
{
	out->kind = RSP_QSUPPORTED;
	if (at_end(c))
		return;
	if (!eatc(c, ':'))
		return malformed(out, "qSupported: expected ':' before the feature list");
	while (!at_end(c)) {
		char *f = c->p, *semi = memchr(c->p, ';', left(c));
		char *fend = semi ? semi : c->end;
		c->p = semi ? semi + 1 : c->end;
		size_t n = (size_t)(fend - f);
		if (n > 13 && !memcmp(f, "xmlRegisters=", 13)) {
			*fend = 0;
			out->u.supported.xml_registers = f + 13;
			continue;
		}
		if (!n || f[n - 1] != '+')
			continue; /* "name-", "name?", "name=value" we do not use */
		for (int i = 0; i < RSP_F__COUNT; i++)
			if (strlen(feature_names[i]) == n - 1 && !memcmp(f, feature_names[i], n - 1))
				out->u.supported.features |= RSP_FBIT(i);
	}
}

/* "addr,len" */
static bool addr_len(struct cur *c, uint64_t *addr, uint64_t *len)
{
	return hexnum(c, addr) && eatc(c, ',') && hexnum(c, len);
}

static void parse_mem(struct cur *c, char op, struct rsp_packet *out)
{
	uint64_t addr, len;
	if (!addr_len(c, &addr, &len))
		return malformed(out, "memory packet: expected ADDR,LENGTH");
	out->u.mem.addr = addr;
	if (op == 'm' || op == 'x') {
		if (!at_end(c))
			return malformed(out, "memory read: junk after LENGTH");
		out->kind = op == 'm' ? RSP_READ_MEM : RSP_READ_MEM_BIN;
		out->u.mem.len = MIN(len, (uint64_t)(op == 'm' ? RSP_MAX_READ_HEX : RSP_MAX_READ_BIN));
		return;
	}
	if (!eatc(c, ':'))
		return malformed(out, "memory write: expected ':' before the data");
	uint8_t *data = (uint8_t *)c->p;
	if (op == 'M') {
		if (left(c) != 2 * len)
			return malformed(out, "M: data length does not match LENGTH");
		if (rsp_hex_decode(c->p, left(c), data))
			return malformed(out, "M: bad hex data");
		out->kind = RSP_WRITE_MEM;
	} else {
		long n = rsp_unescape(data, left(c));
		if (n < 0)
			return malformed(out, "X: data ends inside an escape");
		if ((uint64_t)n != len)
			return malformed(out, "X: data length does not match LENGTH");
		out->kind = RSP_WRITE_MEM_BIN;
	}
	out->u.mem.len = len;
	out->u.mem.data = data;
}

static void parse_break(struct cur *c, char op, struct rsp_packet *out)
{
	uint64_t type, addr, kind;
	if (!hexnum(c, &type) || type > 4 || !eatc(c, ',') || !addr_len(c, &addr, &kind))
		return malformed(out, "Z/z: expected TYPE(0-4),ADDR,KIND");
	out->kind = op == 'Z' ? RSP_INSERT_BREAK : RSP_REMOVE_BREAK;
	out->u.bp.type = (int)type;
	out->u.bp.addr = addr;
	out->u.bp.kind = kind;
	if (at_end(c))
		return;
	if (op == 'z' || *c->p != ';')
		return malformed(out, "Z/z: junk after KIND");
	/* ";X len,expr;X len,expr...[;cmds:persist,X len,cmd...]": agent bytecode we may
	 * ignore, but the shape must hold. */
	char *cmds = NULL;
	for (char *p = c->p; p + 5 <= c->end; p++)
		if (!memcmp(p, ";cmds", 5)) {
			cmds = p;
			break;
		}
	out->u.bp.has_cond = c->p + 1 < c->end && c->p[1] == 'X' && (!cmds || cmds > c->p);
	out->u.bp.has_cmds = cmds != NULL;
	if (!out->u.bp.has_cond && !out->u.bp.has_cmds)
		return malformed(out, "Z: unknown breakpoint extension");
}

static void parse_resume(struct cur *c, char op, struct rsp_packet *out)
{
	out->kind = op == 'c' || op == 'C' ? RSP_CONTINUE : RSP_STEP;
	if (op == 'C' || op == 'S') {
		uint64_t sig;
		if (!hexnum(c, &sig) || sig > 0xff)
			return malformed(out, "C/S: expected a signal number");
		out->u.resume.sig = (int)sig;
		out->u.resume.has_sig = true;
		if (at_end(c))
			return;
		if (!eatc(c, ';') || at_end(c))
			return malformed(out, "C/S: expected ';' and an address");
	}
	if (at_end(c))
		return;
	if (!hexnum(c, &out->u.resume.addr) || !at_end(c))
		return malformed(out, "c/s: bad resume address");
	out->u.resume.has_addr = true;
}

static void parse_vcont(struct cur *c, struct rsp_packet *out)
{
	VEC(struct rsp_vcont_action) acts = { 0 };
	out->kind = RSP_VCONT;
	if (at_end(c))
		return malformed(out, "vCont: no actions");
	while (!at_end(c)) {
		struct rsp_vcont_action a = { 0 };
		uint64_t v;
		if (!eatc(c, ';') || at_end(c))
			goto bad;
		char op = *c->p++;
		switch (op) {
		case 'c': case 's': case 't':
			a.action = op;
			break;
		case 'C': case 'S':
			if (!hexnum(c, &v) || v > 0xff)
				goto bad;
			a.action = (char)(op - 'A' + 'a');
			a.sig = (int)v;
			a.has_sig = true;
			break;
		case 'r':
			if (!hexnum(c, &a.start) || !eatc(c, ',') || !hexnum(c, &a.end))
				goto bad;
			a.action = 'r';
			break;
		default:
			goto bad;
		}
		if (eatc(c, ':')) {
			if (!ptid(c, &a.thread))
				goto bad;
			a.has_thread = true;
		}
		if (!at_end(c) && *c->p != ';')
			goto bad;
		vec_push(&acts, a);
	}
	out->u.vcont.actions = acts.v;
	out->u.vcont.n = acts.n;
	return;
bad:
	vec_free(&acts);
	malformed(out, "vCont: bad action list");
}

static void parse_xfer(struct cur *c, struct rsp_packet *out)
{
	static const struct { const char *name; enum rsp_xfer_object obj; } objs[] = {
		{ "features", RSP_XFER_FEATURES }, { "auxv", RSP_XFER_AUXV },
		{ "exec-file", RSP_XFER_EXEC_FILE }, { "libraries-svr4", RSP_XFER_LIBRARIES_SVR4 },
		{ "threads", RSP_XFER_THREADS }, { "siginfo", RSP_XFER_SIGINFO },
	};
	char *obj = c->p, *colon = memchr(c->p, ':', left(c));
	if (!colon || colon == obj)
		return malformed(out, "qXfer: expected OBJECT:read|write:ANNEX:...");
	*colon = 0;
	c->p = colon + 1;
	out->u.xfer.object_name = obj;
	for (size_t i = 0; i < ARRAY_SIZE(objs); i++)
		if (!strcmp(obj, objs[i].name))
			out->u.xfer.object = objs[i].obj;
	if (eat(c, "read:")) {
		/* The annex runs to the last ':'; "offset,length" follows it. */
		char *last = NULL;
		for (char *p = c->p; p < c->end; p++)
			if (*p == ':')
				last = p;
		if (!last)
			return malformed(out, "qXfer read: expected ANNEX:OFFSET,LENGTH");
		*last = 0;
		out->u.xfer.annex = c->p;
		c->p = last + 1;
		if (!addr_len(c, &out->u.xfer.offset, &out->u.xfer.length) || !at_end(c))
			return malformed(out, "qXfer read: bad OFFSET,LENGTH");
		out->kind = RSP_XFER_READ;
		return;
	}
	if (eat(c, "write:")) {
		char *sep = memchr(c->p, ':', left(c));
		if (!sep)
			return malformed(out, "qXfer write: expected ANNEX:OFFSET:DATA");
		*sep = 0;
		out->u.xfer.annex = c->p;
		c->p = sep + 1;
		if (!hexnum(c, &out->u.xfer.offset) || !eatc(c, ':'))
			return malformed(out, "qXfer write: bad OFFSET");
		long n = rsp_unescape((uint8_t *)c->p, left(c));
		if (n < 0)
			return malformed(out, "qXfer write: data ends inside an escape");
		out->u.xfer.data = (uint8_t *)c->p;
		out->u.xfer.data_len = (size_t)n;
		out->kind = RSP_XFER_WRITE;
		return;
	}
	out->kind = RSP_UNSUPPORTED; /* other qXfer operations */
}

static void parse_signals(struct cur *c, enum rsp_kind kind, struct rsp_packet *out)
{
	out->kind = kind;
	if (!eatc(c, ':'))
		return malformed(out, "QPassSignals/QProgramSignals: expected ':'");
	while (!at_end(c)) {
		uint64_t s;
		if (!hexnum(c, &s) || s > 0xff)
			return malformed(out, "QPassSignals/QProgramSignals: bad signal number");
		out->u.signals.bits[s / 64] |= 1ull << (s % 64);
		if (!at_end(c) && !eatc(c, ';'))
			return malformed(out, "QPassSignals/QProgramSignals: expected ';'");
	}
}

/* ";pid" or nothing (k/D/qAttached style); sep is the separator before the pid. */
static void parse_opt_pid(struct cur *c, char sep, enum rsp_kind kind, bool required,
			  struct rsp_packet *out)
{
	uint64_t v;
	out->kind = kind;
	if (at_end(c) && !required)
		return;
	if (!eatc(c, sep) || !hexnum(c, &v) || v > 0x7fffffff || !at_end(c))
		return malformed(out, "expected a process id");
	out->u.pid.has_pid = true;
	out->u.pid.pid = (long)v;
}

static void parse_flag(struct cur *c, enum rsp_kind kind, struct rsp_packet *out)
{
	uint64_t v;
	out->kind = kind;
	if (!eatc(c, ':') || !hexnum(c, &v) || v > 1 || !at_end(c))
		return malformed(out, "expected ':0' or ':1'");
	out->u.flag = v == 1;
}

static void parse_symbol(struct cur *c, struct rsp_packet *out)
{
	out->kind = RSP_SYMBOL;
	if (!eatc(c, ':'))
		return malformed(out, "qSymbol: expected ':'");
	if (!eatc(c, ':')) {
		if (!hexnum(c, &out->u.symbol.value) || !eatc(c, ':'))
			return malformed(out, "qSymbol: bad value");
		out->u.symbol.has_value = true;
	}
	if (at_end(c)) {
		if (out->u.symbol.has_value)
			return malformed(out, "qSymbol: value without a name");
		return; /* "qSymbol::": gdb is ready to answer lookups */
	}
	char *name;
	if (!hex_tail(c, &name, NULL))
		return malformed(out, "qSymbol: bad hex name");
	out->u.symbol.name = name;
}

static void parse_vrun(struct cur *c, struct rsp_packet *out)
{
	out->kind = RSP_VRUN;
	size_t fields = 1;
	for (char *p = c->p; p < c->end; p++)
		fields += *p == ';';
	char **argv = xcalloc(fields + 1, sizeof *argv);
	size_t argc = 0;
	while (!at_end(c)) {
		if (!eatc(c, ';'))
			goto bad;
		char *f = c->p, *semi = memchr(c->p, ';', left(c));
		char *fend = semi ? semi : c->end;
		size_t n = (size_t)(fend - f);
		if (rsp_hex_decode(f, n, (uint8_t *)f))
			goto bad;
		if (n)
			f[n / 2] = 0; /* inside the field: the separator stays */
		argv[argc++] = n ? f : (char *)"";
		c->p = fend;
	}
	if (!argc)
		goto bad;
	out->u.run.argv = argv;
	out->u.run.argc = argc;
	return;
bad:
	free(argv);
	malformed(out, "vRun: expected ;HEXFILE[;HEXARG]...");
}

static void parse_env(struct cur *c, enum rsp_kind kind, struct rsp_packet *out)
{
	char *s;
	out->kind = kind;
	if (!eatc(c, ':') || at_end(c) || !hex_tail(c, &s, NULL))
		return malformed(out, "QEnvironment: expected ':' and a hex string");
	out->u.env.name = s;
	if (kind == RSP_ENV_SET) {
		char *eq = strchr(s, '=');
		if (!eq || eq == s)
			return malformed(out, "QEnvironmentHexEncoded: expected NAME=VALUE");
		*eq = 0;
		out->u.env.value = eq + 1;
	}
}

/* q/Q/v packets: the name runs to the first ':', ';' or ','. */
static void parse_named(struct cur *c, struct rsp_packet *out)
{
	char *name = c->p;
	while (c->p < c->end && *c->p != ':' && *c->p != ';' && *c->p != ',')
		c->p++;
	size_t n = (size_t)(c->p - name);
#define IS(lit) (n == sizeof(lit) - 1 && !memcmp(name, lit, n))
#define EXACT(lit, k) if (IS(lit)) { out->kind = at_end(c) ? (k) : RSP_MALFORMED; \
	out->error = at_end(c) ? NULL : lit ": unexpected arguments"; return; }
	EXACT("QStartNoAckMode", RSP_START_NOACK);
	EXACT("qC", RSP_CURRENT_THREAD);
	EXACT("qfThreadInfo", RSP_THREAD_INFO_FIRST);
	EXACT("qsThreadInfo", RSP_THREAD_INFO_NEXT);
	EXACT("qOffsets", RSP_OFFSETS);
	EXACT("qTStatus", RSP_TRACE_STATUS);
	EXACT("vMustReplyEmpty", RSP_MUST_REPLY_EMPTY);
	EXACT("vCont?", RSP_VCONT_QUERY);
	EXACT("vCtrlC", RSP_VCTRLC);
	EXACT("QEnableErrorStrings", RSP_ENABLE_ERROR_STRINGS);
	EXACT("QEnvironmentReset", RSP_ENV_RESET);
	if (IS("qSupported"))
		return parse_qsupported(c, out);
	if (IS("vCont"))
		return parse_vcont(c, out);
	if (IS("qXfer")) {
		if (!eatc(c, ':'))
			return malformed(out, "qXfer: expected ':'");
		return parse_xfer(c, out);
	}
	if (IS("QPassSignals"))
		return parse_signals(c, RSP_PASS_SIGNALS, out);
	if (IS("QProgramSignals"))
		return parse_signals(c, RSP_PROGRAM_SIGNALS, out);
	if (IS("qAttached"))
		return parse_opt_pid(c, ':', RSP_ATTACHED, false, out);
	if (IS("vKill"))
		return parse_opt_pid(c, ';', RSP_VKILL, true, out);
	if (IS("vAttach"))
		return parse_opt_pid(c, ';', RSP_VATTACH, true, out);
	if (IS("qSymbol"))
		return parse_symbol(c, out);
	if (IS("qRcmd")) {
		out->kind = RSP_MONITOR;
		if (!eatc(c, ',') || !hex_tail(c, &out->u.monitor.cmd, &out->u.monitor.len))
			malformed(out, "qRcmd: expected ',' and a hex command");
		return;
	}
	if (IS("qThreadExtraInfo")) {
		out->kind = RSP_THREAD_EXTRA_INFO;
		if (!eatc(c, ',') || !ptid(c, &out->u.thread) || !at_end(c))
			malformed(out, "qThreadExtraInfo: expected ',' and a thread id");
		return;
	}
	if (IS("vFile")) {
		out->kind = RSP_VFILE;
		char *op = c->p + 1, *colon = at_end(c) ? NULL : memchr(op, ':', (size_t)(c->end - op));
		if (!eatc(c, ':') || !colon || colon == op)
			return malformed(out, "vFile: expected :OPERATION:ARGS");
		*colon = 0;
		out->u.vfile.op = op;
		out->u.vfile.args = colon + 1;
		return;
	}
	if (IS("QNonStop"))
		return parse_flag(c, RSP_NON_STOP, out);
	if (IS("QDisableRandomization"))
		return parse_flag(c, RSP_DISABLE_RANDOMIZATION, out);
	if (IS("QThreadEvents"))
		return parse_flag(c, RSP_THREAD_EVENTS, out);
	if (IS("QStartupWithShell"))
		return parse_flag(c, RSP_STARTUP_WITH_SHELL, out);
	if (IS("vRun"))
		return parse_vrun(c, out);
	if (IS("qGetTLSAddr")) {
		struct rsp_ptid t;
		out->kind = RSP_GET_TLS_ADDR;
		if (!eatc(c, ':') || !ptid(c, &t) || !eatc(c, ',') ||
		    !addr_len(c, &out->u.tls.offset, &out->u.tls.lm) || !at_end(c))
			return malformed(out, "qGetTLSAddr: expected :THREAD,OFFSET,LM");
		out->u.tls.thread = t;
		return;
	}
	if (IS("QSetWorkingDir")) {
		char *dir;
		out->kind = RSP_SET_WORKING_DIR;
		if (!eatc(c, ':') || !hex_tail(c, &dir, NULL))
			return malformed(out, "QSetWorkingDir: expected ':' and a hex path");
		out->u.text = dir;
		return;
	}
	if (IS("QEnvironmentHexEncoded"))
		return parse_env(c, RSP_ENV_SET, out);
	if (IS("QEnvironmentUnset"))
		return parse_env(c, RSP_ENV_UNSET, out);
#undef EXACT
#undef IS
	out->kind = RSP_UNSUPPORTED;
}

void rsp_parse(char *buf, size_t len, struct rsp_packet *out)
{
	memset(out, 0, sizeof *out);
	struct cur cur = { buf, buf + len }, *c = &cur;
	if (at_end(c)) {
		out->kind = RSP_UNSUPPORTED;
		return;
	}
	char op = *c->p;
	switch (op) {
	case 'q': case 'Q': case 'v':
		parse_named(c, out);
		break;
	case '?': case '!': case 'g': case 'k':
		c->p++;
		out->kind = op == '?' ? RSP_STOP_REASON : op == '!' ? RSP_EXTENDED_MODE :
			    op == 'g' ? RSP_READ_REGS : RSP_KILL;
		if (!at_end(c))
			malformed(out, "unexpected arguments");
		break;
	case 'G': {
		c->p++;
		size_t n = left(c);
		out->kind = RSP_WRITE_REGS;
		if (!n || rsp_hex_decode(c->p, n, (uint8_t *)c->p))
			return malformed(out, "G: bad hex register data");
		out->u.regs.data = (uint8_t *)c->p;
		out->u.regs.len = n / 2;
		break;
	}
	case 'p': case 'P': {
		uint64_t r;
		c->p++;
		out->kind = op == 'p' ? RSP_READ_REG : RSP_WRITE_REG;
		if (!hexnum(c, &r) || r > 0xffff)
			return malformed(out, "p/P: bad register number");
		out->u.reg.regno = (unsigned)r;
		if (op == 'p') {
			if (!at_end(c))
				malformed(out, "p: junk after the register number");
			return;
		}
		size_t n = left(c) ? left(c) - 1 : 0;
		if (!eatc(c, '=') || !n || rsp_hex_decode(c->p, n, (uint8_t *)c->p))
			return malformed(out, "P: expected =HEXVALUE");
		out->u.reg.data = (uint8_t *)c->p;
		out->u.reg.len = n / 2;
		break;
	}
	case 'm': case 'M': case 'x': case 'X':
		c->p++;
		parse_mem(c, op, out);
		break;
	case 'Z': case 'z':
		c->p++;
		parse_break(c, op, out);
		break;
	case 'c': case 'C': case 's': case 'S':
		c->p++;
		parse_resume(c, op, out);
		break;
	case 'b':
		if (len == 2 && (buf[1] == 'c' || buf[1] == 's'))
			out->kind = buf[1] == 'c' ? RSP_REVERSE_CONTINUE : RSP_REVERSE_STEP;
		else
			out->kind = RSP_UNSUPPORTED; /* 'b' baud (obsolete), bc/bs with junk */
		break;
	case 'H':
		c->p++;
		out->kind = RSP_SET_THREAD;
		if (at_end(c) || (*c->p != 'g' && *c->p != 'c'))
			return malformed(out, "H: expected 'g' or 'c'");
		out->u.hthread.op = *c->p++;
		if (!ptid(c, &out->u.hthread.thread) || !at_end(c))
			malformed(out, "H: bad thread id");
		break;
	case 'T':
		c->p++;
		out->kind = RSP_THREAD_ALIVE;
		if (!ptid(c, &out->u.thread) || !at_end(c))
			malformed(out, "T: bad thread id");
		break;
	case 'D':
		c->p++;
		parse_opt_pid(c, ';', RSP_DETACH, false, out);
		break;
	default:
		out->kind = RSP_UNSUPPORTED;
		break;
	}
	if (out->kind == RSP_MALFORMED)
		pr_debug(LM_GDB, "malformed packet: %s", out->error);
}

void rsp_packet_free(struct rsp_packet *p)
{
	if (p->kind == RSP_VCONT)
		free(p->u.vcont.actions);
	else if (p->kind == RSP_VRUN)
		free(p->u.run.argv);
	p->kind = RSP_UNSUPPORTED;
}

static const char *const kind_names[RSP_KIND__COUNT] = {
	[RSP_UNSUPPORTED] = "unsupported", [RSP_MALFORMED] = "malformed",
	[RSP_QSUPPORTED] = "qSupported", [RSP_START_NOACK] = "QStartNoAckMode",
	[RSP_STOP_REASON] = "?", [RSP_EXTENDED_MODE] = "!", [RSP_READ_REGS] = "g",
	[RSP_WRITE_REGS] = "G", [RSP_READ_REG] = "p", [RSP_WRITE_REG] = "P",
	[RSP_READ_MEM] = "m", [RSP_READ_MEM_BIN] = "x", [RSP_WRITE_MEM] = "M",
	[RSP_WRITE_MEM_BIN] = "X", [RSP_INSERT_BREAK] = "Z", [RSP_REMOVE_BREAK] = "z",
	[RSP_CONTINUE] = "c", [RSP_STEP] = "s", [RSP_REVERSE_CONTINUE] = "bc",
	[RSP_REVERSE_STEP] = "bs", [RSP_VCONT_QUERY] = "vCont?", [RSP_VCONT] = "vCont",
	[RSP_SET_THREAD] = "H", [RSP_THREAD_ALIVE] = "T", [RSP_CURRENT_THREAD] = "qC",
	[RSP_THREAD_INFO_FIRST] = "qfThreadInfo", [RSP_THREAD_INFO_NEXT] = "qsThreadInfo",
	[RSP_THREAD_EXTRA_INFO] = "qThreadExtraInfo", [RSP_XFER_READ] = "qXfer:read",
	[RSP_XFER_WRITE] = "qXfer:write", [RSP_PASS_SIGNALS] = "QPassSignals",
	[RSP_PROGRAM_SIGNALS] = "QProgramSignals", [RSP_ATTACHED] = "qAttached",
	[RSP_OFFSETS] = "qOffsets", [RSP_SYMBOL] = "qSymbol", [RSP_TRACE_STATUS] = "qTStatus",
	[RSP_MUST_REPLY_EMPTY] = "vMustReplyEmpty", [RSP_KILL] = "k", [RSP_VKILL] = "vKill",
	[RSP_DETACH] = "D", [RSP_MONITOR] = "qRcmd", [RSP_VFILE] = "vFile",
	[RSP_NON_STOP] = "QNonStop", [RSP_VRUN] = "vRun", [RSP_VATTACH] = "vAttach",
	[RSP_VCTRLC] = "vCtrlC", [RSP_GET_TLS_ADDR] = "qGetTLSAddr",
	[RSP_ENABLE_ERROR_STRINGS] = "QEnableErrorStrings",
	[RSP_DISABLE_RANDOMIZATION] = "QDisableRandomization",
	[RSP_THREAD_EVENTS] = "QThreadEvents", [RSP_STARTUP_WITH_SHELL] = "QStartupWithShell",
	[RSP_SET_WORKING_DIR] = "QSetWorkingDir", [RSP_ENV_SET] = "QEnvironmentHexEncoded",
	[RSP_ENV_UNSET] = "QEnvironmentUnset", [RSP_ENV_RESET] = "QEnvironmentReset",
};

const char *rsp_kind_name(enum rsp_kind k)
{
	return (unsigned)k < RSP_KIND__COUNT && kind_names[k] ? kind_names[k] : "?";
}
