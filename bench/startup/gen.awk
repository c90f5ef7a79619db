# gen.awk -v NF_=N -v ND=BYTES — padding for the startup guest (bench/startup/run):
# N distinct small functions reached through a table, and BYTES of pseudo-random
# constant data, so the module has a realistic mix of code to validate and
# data segments to copy. Deterministic (fixed LCG seed).
BEGIN {
    seed = 12345
    for (i = 0; i < NF_; i++) {
        printf "static int f%d(int x) { int s = x ^ %d; for (int k = 0; k < (x & 15); k++) { s = s * %d + k; s ^= s >> %d; s += %d * (k | 1); if (s & %d) s -= x; } return s + %d; }\n", i, i, 1103515245 + 2*i, 1 + i % 13, 977 * i + 1, 1 + i % 31, i * 31
    }
    printf "static int (*const tab[%d])(int) = {", NF_
    for (i = 0; i < NF_; i++) printf "%sf%d", (i ? "," : ""), i
    printf "};\n"
    printf "static const unsigned char dat[%d] = \"", ND
    for (i = 0; i < ND; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648
        printf "\\x%02x", int(seed / 65536) % 256
        if (i % 64 == 63) printf "\"\n\""
    }
    printf "\";\n"
    printf "int bench_pad(int x) { return tab[(unsigned)x %% %d](x) + dat[((unsigned)x * 7919u) %% %d]; }\n", NF_, ND
}
