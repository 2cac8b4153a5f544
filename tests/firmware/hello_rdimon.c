/* printf through newlib's rdimon (semihosting), malloc, and an exit code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void initialise_monitor_handles(void);

int main(void)
{
    initialise_monitor_handles();
    char *buf = malloc(3000);
    if (buf == NULL)
        return 99;
    memset(buf, 1, 3000);
    printf("hello from rdimon %d\n", 42);
    fprintf(stderr, "to stderr\n");
    int sum = 0;
    for (int i = 0; i < 3000; i++)
        sum += buf[i];
    printf("sum %d\n", sum);
    free(buf);
    return 3;
}
