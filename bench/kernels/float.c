/*
 * float.c — a floating-point kernel (double precision): per iteration
 *   1. an n-body simulation of NBODY bodies (positions from a seeded generator) advanced
 *      NBODY_STEPS steps with a symplectic Euler integrator (sqrt and divisions in the inner loop);
 *   2. a few power-method steps of the spectral norm of the infinite matrix
 *      a(i,j) = 1 / ((i+j)(i+j+1)/2 + i + 1), truncated to SPEC_N×SPEC_N;
 *   3. a small Mandelbrot escape-time grid.
 * No fused multiply-add, no fast-math: IEEE double results are bit-identical on every engine,
 * so the checksum (a CRC of the results' bit patterns) must match the native build's exactly.
 */
#include "bench.h"

#define NBODY 6
#define NBODY_STEPS 120
#define SPEC_N 48
#define MANDEL_W 24

struct body {
    double x, y, z, vx, vy, vz, m;
};

static struct body bodies[NBODY];
static double spec_u[SPEC_N], spec_v[SPEC_N], spec_t[SPEC_N];

static double unit_random(uint32_t *rng)
{
    return (double)(bench_xorshift32(rng) >> 8) / 16777216.0; /* [0, 1) */
}

static double energy(void)
{
    double e = 0.0;
    for (int i = 0; i < NBODY; i++) {
        const struct body *b = &bodies[i];
        e += 0.5 * b->m * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
        for (int j = i + 1; j < NBODY; j++) {
            double dx = b->x - bodies[j].x, dy = b->y - bodies[j].y, dz = b->z - bodies[j].z;
            e -= b->m * bodies[j].m / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static uint32_t fold(uint32_t crc, double d)
{
    uint64_t bits;
    bench_memcpy(&bits, &d, sizeof bits);
    return bench_crc32_u32(bench_crc32_u32(crc, (uint32_t)bits), (uint32_t)(bits >> 32));
}

static uint32_t nbody_work(uint32_t seed, uint32_t crc)
{
    uint32_t rng = seed * 747796405u + 1u;
    const double dt = 0.01;
    for (int i = 0; i < NBODY; i++) {
        struct body *b = &bodies[i];
        b->x = unit_random(&rng) * 10.0 - 5.0;
        b->y = unit_random(&rng) * 10.0 - 5.0;
        b->z = unit_random(&rng) * 2.0 - 1.0;
        b->vx = unit_random(&rng) - 0.5;
        b->vy = unit_random(&rng) - 0.5;
        b->vz = unit_random(&rng) * 0.1;
        b->m = i == 0 ? 40.0 : 0.01 + unit_random(&rng);
    }
    crc = fold(crc, energy());
    for (int s = 0; s < NBODY_STEPS; s++) {
        for (int i = 0; i < NBODY; i++) {
            struct body *a = &bodies[i];
            for (int j = i + 1; j < NBODY; j++) {
                struct body *b = &bodies[j];
                double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
                double d2 = dx * dx + dy * dy + dz * dz + 1e-3;
                double mag = dt / (d2 * __builtin_sqrt(d2));
                a->vx -= dx * b->m * mag;
                a->vy -= dy * b->m * mag;
                a->vz -= dz * b->m * mag;
                b->vx += dx * a->m * mag;
                b->vy += dy * a->m * mag;
                b->vz += dz * a->m * mag;
            }
        }
        for (int i = 0; i < NBODY; i++) {
            struct body *b = &bodies[i];
            b->x += dt * b->vx;
            b->y += dt * b->vy;
            b->z += dt * b->vz;
        }
    }
    return fold(crc, energy());
}

static double spec_a(int i, int j)
{
    return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1);
}

/* out = A·in (transpose = 0) or Aᵀ·in (transpose = 1) */
static void spec_mul(const double *in, double *out, int transpose)
{
    for (int i = 0; i < SPEC_N; i++) {
        double s = 0.0;
        for (int j = 0; j < SPEC_N; j++)
            s += (transpose ? spec_a(j, i) : spec_a(i, j)) * in[j];
        out[i] = s;
    }
}

static uint32_t spectral_work(uint32_t seed, uint32_t crc)
{
    double vbv = 0.0, vv = 0.0;
    for (int i = 0; i < SPEC_N; i++)
        spec_u[i] = 1.0 + (double)((seed + (uint32_t)i) % 7) * 0.125;
    for (int k = 0; k < 3; k++) {
        spec_mul(spec_u, spec_t, 0);
        spec_mul(spec_t, spec_v, 1);
        spec_mul(spec_v, spec_t, 0);
        spec_mul(spec_t, spec_u, 1);
    }
    for (int i = 0; i < SPEC_N; i++) {
        vbv += spec_u[i] * spec_v[i];
        vv += spec_v[i] * spec_v[i];
    }
    return fold(crc, __builtin_sqrt(vbv / vv));
}

static uint32_t mandel_work(uint32_t seed, uint32_t crc)
{
    uint32_t total = 0;
    double shift = (double)(seed % 16) / 64.0;
    for (int py = 0; py < MANDEL_W; py++)
        for (int px = 0; px < MANDEL_W; px++) {
            double cr = -2.0 + shift + 2.5 * px / MANDEL_W, ci = -1.25 + 2.5 * py / MANDEL_W;
            double zr = 0.0, zi = 0.0;
            int it = 0;
            while (it < 64 && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                it++;
            }
            total += (uint32_t)it;
        }
    return bench_crc32_u32(crc, total);
}

int32_t run(int32_t n)
{
    uint32_t crc = 0xffffffffu;
    for (int32_t i = 0; i < n; i++) {
        uint32_t seed = (uint32_t)i + 1;
        crc = nbody_work(seed, crc);
        crc = spectral_work(seed, crc);
        crc = mandel_work(seed, crc);
    }
    return (int32_t)(~crc & 0x7fffffffu);
}
