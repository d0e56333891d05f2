/* Plain C reference of the rotor leapfrog (issue 4 benchmark): same layout
 * [block][site][lane], same polynomial sine, double precision, merged drifts.
 * Compiled by bench_classical.py with gcc -O3 -march=native -ffast-math. */
#include <math.h>
#include <stdint.h>
#define S 16

static inline double psin(double x) {
    const double C1 = -0.166666666666658, C2 = 0.00833333333326216, C3 = -0.00019841269820026878,
                 C4 = 2.755731607768885e-06, C5 = -2.5051851917814214e-08,
                 C6 = 1.6047322794556238e-10, C7 = -7.364991773015619e-13;
    double k = floor(x * (1.0 / M_PI) + 0.5);
    double r = x - k * M_PI;
    double h = 0.5 * k;
    double sign = 1.0 - 4.0 * (h - floor(h));
    double r2 = r * r;
    double q = ((((((C7 * r2 + C6) * r2 + C5) * r2 + C4) * r2 + C3) * r2 + C2) * r2 + C1);
    return sign * (r + r * r2 * q);
}

/* theta, p: n_blocks * L * S doubles; g: L bond strengths; runs n_steps leapfrog steps */
void rotor_leapfrog(double *theta, double *p, const double *g, int n_blocks, int L, long n_steps,
                    double dt, int block_begin, int block_end) {
    double sb[L][S];
    for (int blk = block_begin; blk < block_end; blk++) {
        double (*th)[S] = (double (*)[S])(theta + (long)blk * L * S);
        double (*pp)[S] = (double (*)[S])(p + (long)blk * L * S);
        for (int x = 0; x < L; x++)
            for (int l = 0; l < S; l++) th[x][l] += 0.5 * dt * pp[x][l];
        for (long k = 0; k < n_steps; k++) {
            for (int x = 0; x < L - 1; x++)
                for (int l = 0; l < S; l++) sb[x][l] = g[x] * psin(th[x + 1][l] - th[x][l]);
            for (int l = 0; l < S; l++) sb[L - 1][l] = g[L - 1] * psin(th[0][l] - th[L - 1][l]);
            for (int l = 0; l < S; l++) pp[0][l] += dt * (sb[0][l] - sb[L - 1][l]);
            for (int x = 1; x < L; x++)
                for (int l = 0; l < S; l++) pp[x][l] += dt * (sb[x][l] - sb[x - 1][l]);
            double c = (k == n_steps - 1) ? 0.5 * dt : dt;
            for (int x = 0; x < L; x++)
                for (int l = 0; l < S; l++) th[x][l] += c * pp[x][l];
            if ((k & 31) == 31)
                for (int x = 0; x < L; x++)
                    for (int l = 0; l < S; l++)
                        th[x][l] -= 2 * M_PI * floor(th[x][l] * (0.5 / M_PI) + 0.5);
        }
    }
}
