/* Second file of the -O2 debuggee: a struct that lives in registers as DWARF
 * pieces, some of them nowhere (partly <optimized out>). */
struct pair {
	int a;
	int b;
};

__attribute__((noinline)) int sink(int v)
{
	__asm__ volatile("" : : "r"(v));
	return v + 1;
}

__attribute__((noinline)) int use_pair(int x)
{
	struct pair p = { x, x * 2 };
	int r = sink(p.a);
	p.a = r;
	r = sink(p.b);
	return p.a + r;
}
