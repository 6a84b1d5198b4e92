// C++ symbol demangling for core/sym, through the C++ runtime's demangler.
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>

extern "C" char *sym_demangle(const char *mangled);

/* Demangle an Itanium-ABI name ("_ZN3geo5Klass6methodEi" -> "geo::Klass::method(int)").
 * Returns a malloc'd string, or NULL when the name is not mangled. */
extern "C" char *sym_demangle(const char *mangled)
{
	if (!mangled || std::strncmp(mangled, "_Z", 2) != 0)
		return nullptr;
	int status = 0;
	char *r = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
	if (status != 0) {
		std::free(r);
		return nullptr;
	}
	return r;
}
