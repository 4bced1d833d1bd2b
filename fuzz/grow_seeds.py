#!/usr/bin/env python3
"""Writes each seed of a corpus repeated up to LENGTH octets into OUT (same
file names): the seed's header octets (options, chunking seed) stay in front
and its shape fills the whole input, so a target meets its largest inputs at
once. scripts/fuzz seeds its -len_control=0 leg with these;
calibrate_budget.py measures them.

usage: grow_seeds.py CORPUS OUT LENGTH
"""
import os
import sys


def grow(corpus, out, length):
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(corpus)):
        with open(os.path.join(corpus, name), "rb") as f:
            seed = f.read()
        if seed:
            with open(os.path.join(out, name), "wb") as f:
                f.write((seed * (length // len(seed) + 1))[:length])


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    grow(sys.argv[1], sys.argv[2], int(sys.argv[3]))
