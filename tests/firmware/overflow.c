/* Most of RAM on the heap, then recursion deeper than the rest: a real stack overflow. */
#include <stdlib.h>

volatile int sink;

__attribute__((noinline)) int deep(int n)
{
    volatile char frame[256];
    for (int i = 0; i < 256; i++)
        frame[i] = (char)n;  /* a frame that is used: the painted guard cannot be stepped over */
    return n ? deep(n - 1) + frame[n & 255] : 0;
}

int main(void)
{
    char *p = malloc(100 * 1024);
    if (p == NULL)
        return 99;
    p[0] = 1;
    sink = deep(DEPTH);
    return p[0];
}
