#include <stdio.h>
int main(void) { puts("rewind"); return 0; }
