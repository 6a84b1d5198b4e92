// Second file of the C++ debuggee: virtual functions (vtable pointers) and a
// function inlined in several places.
namespace geo {

struct Shape {
	int id;
	explicit Shape(int i) : id(i) {}
	virtual ~Shape() {}
	virtual int area() const { return 0; }
};

struct Square : Shape {
	int side;
	Square(int i, int s) : Shape(i), side(s) {}
	int area() const override { return side * side; }
};

class Hidden {
	int secret;
protected:
	int prot;
public:
	Hidden() : secret(1), prot(2) {}
	int get() const { return secret + prot; }
};

} // namespace geo

__attribute__((always_inline)) static inline int twice(int v)
{
	return v * 2;
}

__attribute__((noinline)) int use_shape(geo::Shape *s)
{
	int a = s->area();
	return a + twice(s->id);
}

int use_shapes()
{
	geo::Square sq(1, 3);
	geo::Hidden h;
	return use_shape(&sq) + twice(5) + h.get();
}
