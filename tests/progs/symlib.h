#ifndef SYMLIB_H
#define SYMLIB_H
int lib_square(int x);
int lib_combine(int a, int b);
#endif
