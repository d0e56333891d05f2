"""Turn a tnmbl results file into a figure.

Heat maps (time vs position) of the change of the density and of the energy density since
t = 0, energy / density currents vs time, and the health figures (bond dimension,
truncation error). Works on finished and on partial (interrupted or running) files.

    python analysis/plot_run.py out/bose_hubbard_bubble.h5            # -> out/bose_hubbard_bubble.png
    python analysis/plot_run.py out/x.h5 -o figures/x.pdf
"""

import argparse

from tnmbl.runs.figure import plot_results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", help="an .h5 results file written by `tnmbl run`")
    p.add_argument("-o", "--output", help="figure file (default: the results path with .png)")
    p.add_argument("--dpi", type=int, default=110)
    args = p.parse_args(argv)
    print(plot_results(args.results, args.output, dpi=args.dpi))


if __name__ == "__main__":
    main()
