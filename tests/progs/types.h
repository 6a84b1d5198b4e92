/* Shared declarations of the types-rich debuggee (types.c + types_b.c). */
#ifndef TYPES_H
#define TYPES_H

#include <stdbool.h>
#include <stdint.h>

enum color { RED, GREEN, BLUE };
enum flags { F_READ = 1, F_WRITE = 2, F_EXEC = 4 };

typedef unsigned int uint;
typedef struct point { int x, y; } point_t;

struct node {
	int value;
	struct node *next;
};

struct bits {
	unsigned a : 3;
	signed b : 5;
	unsigned c : 1;
	int full;
};

union num {
	int i;
	float f;
	unsigned char bytes[4];
};

struct shape {
	char name[16];
	enum color color;
	point_t pts[3];
	union num n;
	double area;
	struct { int w, h; } box;
	int (*fn)(int);
	const char *label;
	bool visible;
};

extern int global_counter;
extern struct node nodes[3];
extern struct shape the_shape;
int bump(int by);
int other_file_func(struct shape *s, int k);

#endif
