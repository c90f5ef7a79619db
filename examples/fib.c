/*
 * fib.c — the smallest useful kiln example: freestanding wasm32 code (no libc, no imports) that
 * exports plain functions, run with `kiln wasm invoke fib.wasm EXPORT ARGS...`.
 *
 * Built by examples/CMakeLists.txt with clang --target=wasm32 -nostdlib; scripts/demo runs it.
 */
#include <stdint.h>

/* fib(n): the n-th Fibonacci number modulo 2^32, computed by naive recursion so it exercises
 * calls (fib(30) makes 1.6 million of them). */
__attribute__((export_name("fib"))) uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static uint8_t sieve_buf[1 << 20];

/* primes(n): how many primes are below n (n is clamped to 2^20), by the sieve of Eratosthenes
 * over linear memory. */
__attribute__((export_name("primes"))) uint32_t primes(uint32_t n)
{
    uint32_t count = 0;
    if (n > sizeof sieve_buf) n = sizeof sieve_buf;
    for (uint32_t i = 0; i < n; i++)
        sieve_buf[i] = i >= 2;
    for (uint32_t i = 2; (uint64_t)i * i < n; i++)
        if (sieve_buf[i])
            for (uint32_t j = i * i; j < n; j += i)
                sieve_buf[j] = 0;
    for (uint32_t i = 0; i < n; i++)
        count += sieve_buf[i];
    return count;
}
