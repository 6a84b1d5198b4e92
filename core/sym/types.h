/* types: DWARF types as a small C type model: base types, pointers, arrays
 * (multi-dimensional, variable length), structs/unions/classes with base classes,
 * enums, typedefs, const/volatile, function types, C++ references, bitfields.
 * Types from DWARF are built once per DIE and cached with their module; derived
 * types (pointer to T, array of T) are cached on T. Types live as long as the
 * symtab (builtin types forever): callers never free them. */
#ifndef REWIND_SYM_TYPES_H
#define REWIND_SYM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symtab;

enum type_kind {
	TY_VOID,
	TY_INT,          /* signed/unsigned integers of any size */
	TY_CHAR,         /* char, signed char, unsigned char (printed as characters) */
	TY_BOOL,
	TY_FLOAT,        /* float, double, long double */
	TY_ENUM,
	TY_PTR,
	TY_REF,          /* C++ lvalue reference */
	TY_RVREF,        /* C++ rvalue reference */
	TY_ARRAY,
	TY_STRUCT,
	TY_UNION,
	TY_CLASS,
	TY_FUNC,
	TY_TYPEDEF,
	TY_CONST,
	TY_VOLATILE,
	TY_UNKNOWN,      /* a DWARF type rewind does not model */
};

struct type;

struct type_field {
	const char *name;        /* NULL for anonymous members */
	struct type *type;
	uint64_t bitpos;         /* from the start of the object */
	unsigned bitsize;        /* 0 unless a bitfield */
	bool is_base;            /* a base class subobject */
	bool is_static;          /* C++ static member (no storage in the object) */
	bool artificial;         /* _vptr and the like */
	unsigned char access;    /* C++: 1 public, 2 protected, 3 private (DW_ACCESS_*) */
};

struct type_enumerator {
	const char *name;
	int64_t value;
};

struct type {
	enum type_kind kind;
	const char *name;        /* type name (tag for struct/union/enum, typedef name,
	                            base type name); NULL if anonymous or derived */
	uint64_t size;           /* bytes (0 for void, functions, unknown arrays) */
	bool is_signed;          /* integers, chars, enums */
	bool is_decl;            /* an incomplete (declared-only) struct/union/enum */
	bool is_cxx;             /* from a C++ unit: no struct/union/enum keyword */
	bool is_flag_enum;       /* gdb's flag enum: values of disjoint single bits */
	bool prototyped;         /* functions: (void) rather than () */
	bool varargs;
	int64_t count;           /* arrays: element count, -1 unknown ([]) */
	bool dynamic;            /* arrays: a VLA whose bound needs a frame */
	struct type *target;     /* pointee, element, typedef target, qualified type,
	                            function return, enum underlying type */
	struct type_field *fields;
	size_t nfields;
	struct type_enumerator *enums;
	size_t nenums;
	struct type **params;
	size_t nparams;
	/* private: where it came from and what hangs off it */
	void *mod;
	uint64_t die;
	uint64_t bound_die;      /* dynamic arrays: the subrange DIE */
	bool fields_done;
	struct type *ptr_to, *const_of, *fn_of;
	struct type *arrays;     /* arrays of this type, chained by next_array */
	struct type *next_array;
};

/* Builtin types of the C language as gdb names them: "int", "unsigned int",
 * "long", "unsigned long", "char", "double", "float", "_Bool"... Returns NULL for
 * an unknown name. */
struct type *type_builtin(const char *name);
struct type *type_void(void);
struct type *type_int(void);           /* int */
struct type *type_long(void);          /* long */
struct type *type_ulong(void);         /* unsigned long (sizeof's type) */
struct type *type_char(void);          /* char */
struct type *type_double(void);        /* double */
struct type *type_bool(void);          /* C's int-valued comparisons: int */

/* Derived types (cached). */
struct type *type_pointer_to(struct type *t);
struct type *type_array_of(struct type *elem, int64_t count);
struct type *type_const_of(struct type *t);

/* Strip typedefs and const/volatile: the type that decides the representation. */
struct type *type_strip(struct type *t);
/* Strip only const/volatile. */
struct type *type_strip_cv(struct type *t);
/* Size in bytes (through typedefs). */
uint64_t type_size(struct type *t);
bool type_is_integral(struct type *t);     /* int, char, bool, enum */
bool type_is_scalar(struct type *t);       /* integral, float, pointer */
bool type_is_aggregate(struct type *t);    /* struct, union, class, array */
/* Complete a struct/union/enum declared only here from its definition elsewhere
 * (any module of st). Returns t itself when none is found. */
struct type *type_complete(struct symtab *st, struct type *t);
/* Fields of a struct/union/class (built on first use). */
size_t type_nfields(struct type *t);

/* Find a type by name as a cast or sizeof would: "int", "unsigned long",
 * "struct node", "union num", "enum color", "point_t", "geo::Klass". Searches
 * the builtin types, then DWARF of every module of st (st may be NULL). */
struct type *type_lookup(struct symtab *st, const char *name);

/* C declarator text: type_name(int (*)(int)) = "int (*)(int)"; with a variable
 * name: "int (*fn)(int)". Appends to b. */
struct sbuf;
void type_name(struct sbuf *b, struct type *t, const char *var);

#endif
