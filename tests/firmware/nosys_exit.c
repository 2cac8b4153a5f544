/* malloc and exit() with newlib's nosys stubs: _exit spins, nothing is printed. */
#include <stdlib.h>

volatile int sink;

int main(void)
{
    int *p = malloc(1000 * sizeof(int));
    if (p == NULL)
        return 99;
    for (int i = 0; i < 1000; i++)
        p[i] = i;
    sink = p[999];
    free(p);
    exit(7);
}
