#!/usr/bin/env python3
"""Every parser is linear in its input, whatever the options (issue 10).

Runs linearity_probe under callgrind for each case at scales 0, N and 10N and
counts the instructions spent inside linearity_measure() (callgrind's
--toggle-collect), which do not move between runs the way time does. Less
the empty input's count, the 10x input may cost at most LIMIT times as many
instructions per input octet as the 1x input: a linear parser gives about
1 (10x the octets, 10x the instructions), a quadratic one about 10.

usage: linearity.py PROBE [CASE...]      (valgrind on PATH)
"""
import os
import re
import subprocess
import sys
import tempfile

BASE_SCALE = 1000   # units per input at 1x: 10-60 KB for most cases
LIMIT = 1.3         # "about 10x the cost for 10x the input"; quadratic is 10


def instructions(probe, case, scale, workdir):
    """(instructions in linearity_measure, input octets)"""
    out = os.path.join(workdir, f"cg.{case}.{scale}")
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--toggle-collect=linearity_measure",
         f"--callgrind-out-file={out}", probe, case, str(scale)],
        check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with open(out) as f:
        for line in f:
            m = re.match(r"(summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(2)), int(run.stdout.split()[-1])
    raise RuntimeError(f"no instruction count in {out}")


def main():
    probe = sys.argv[1]
    cases = sys.argv[2:] or subprocess.run([probe, "--list"], check=True, capture_output=True,
                                           text=True).stdout.split()
    failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        for case in cases:
            base, _ = instructions(probe, case, 0, workdir)
            one, one_size = instructions(probe, case, BASE_SCALE, workdir)
            ten, ten_size = instructions(probe, case, 10 * BASE_SCALE, workdir)
            one, ten = one - base, ten - base
            per_octet_one, per_octet_ten = one / max(one_size, 1), ten / max(ten_size, 1)
            ratio = per_octet_ten / max(per_octet_one, 1e-9)
            ok = one > 0 and ratio <= LIMIT
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {case:24} {one_size:>8} octets {per_octet_one:7.2f} instr/octet, "
                  f"{ten_size:>9} octets {per_octet_ten:7.2f} instr/octet: x{ratio:.2f} (limit x{LIMIT})")
    total = len(cases)
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
