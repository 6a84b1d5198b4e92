// C++ debuggee: namespaces, classes, inheritance, overloads, references.
#include <cstdio>

namespace geo {

struct Base {
	int b;
	explicit Base(int v) : b(v) {}
	int twice() const { return b * 2; }
};

class Klass : public Base {
public:
	int x;
	Klass(int bv, int xv) : Base(bv), x(xv) {}
	int method(int by);
	int method(double f);
	static int count;
};

int Klass::count = 0;

int Klass::method(int by)
{
	x += by;
	count++;
	return x;
}

int Klass::method(double f)
{
	x += (int)f;
	return x;
}

namespace inner {
int helper(int &ref, const Klass &k)
{
	ref += k.x;
	return ref;
}
} // namespace inner

} // namespace geo

static int overload(int a) { return a + 1; }
static int overload(const char *s) { return s[0]; }

int main()
{
	geo::Klass k(1, 2);
	int v = 5;
	int &rv = v;
	k.method(3);
	k.method(1.5);
	geo::inner::helper(rv, k);
	int r = overload(v) + overload("z") + k.twice();
	std::printf("%d %d %d\n", v, r, geo::Klass::count);
	extern int use_shapes();   // cxx_b.cc: virtual classes, an inlined function
	return use_shapes() == 0;
}
