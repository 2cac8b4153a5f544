/* Three calls of work() between setup and teardown, and a probe-tag pair around the second. */
#include <stdint.h>

#define PROBE (*(volatile uint32_t *)0x5FFFF000u)
volatile int sink;

__attribute__((noinline)) int leaf(int x)
{
    return x * 3 + 1;
}

__attribute__((noinline)) int work(int n)
{
    int acc = 0;
    for (int i = 0; i < n; i++)
        acc += leaf(i);
    return acc;
}

__attribute__((noinline)) void done(void)
{
    sink = 0;
}

int main(void)
{
    for (int i = 0; i < 1000; i++)
        sink += i;                 /* set-up the window leaves out */
    sink += work(10);
    PROBE = 0x11;
    sink += work(20);
    PROBE = 0x22;
    sink += work(30);
    done();
    return 0;
}
