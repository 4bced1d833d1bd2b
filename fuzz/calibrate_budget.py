#!/usr/bin/env python3
"""Measures the work per input octet of every fuzz target (fuzz/work_budget.hpp).

For each target, with SANSMTP_FUZZ_BUDGET_LOG=1 and the budget off, runs:
  corpus  the replay binary over fuzz/corpus/<target>/;
  grown   each seed repeated up to the target's max_len (.options,
          grow_seeds.py);
  fuzzed  the libFuzzer binary for SECONDS with -len_control=0 at max_len
          (random mutants of the largest size, when the binary exists).
Each input's time is the least of three runs (SANSMTP_FUZZ_BUDGET_LOG=3), as
the budget itself judges. Prints, per target: the inputs run, the most CPU
time any input took, the largest ns per octet over inputs of at least a
quarter of max_len (and that input's size), the ns per octet the target
declares, its budget at max_len, and the margin: the least, over all inputs,
of budget(size) / time; and the growth: the most any seed's ns per octet
grows from the seed grown to max_len / 8 to the seed grown to max_len
(about 1 when linear; 8 when quadratic; flagged above LINEAR; seeds that
take under 2 ms at max_len are left out). The budget
catches gross blow-ups while fuzzing; the growth column catches milder
super-linear cost on the shapes of the checked-in seeds.

usage: calibrate_budget.py BUILD_DIR [SECONDS] [TARGET...]
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grow_seeds import grow  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, "fuzz")


LINEAR = 3  # most growth in ns per octet from max_len / 8 to max_len


def targets():
    with open(os.path.join(FUZZ, "CMakeLists.txt")) as f:
        return re.findall(r"^sansmtp_fuzz_target\((\w+)\)", f.read(), re.M)


def option(target, name):
    with open(os.path.join(FUZZ, f"{target}.options")) as f:
        m = re.search(rf"^{name}\s*=\s*(\d+)", f.read(), re.M)
    return int(m.group(1))


def declared(target, fixed):
    """(per_byte_ns, fixed_ns) the target declares"""
    with open(os.path.join(FUZZ, f"{target}.cpp")) as f:
        m = re.search(r'work_budget budget\{"\w+", ([0-9.e]+)(?:, ([0-9.e]+))?\}', f.read())
    return float(m.group(1)), float(m.group(2)) if m.group(2) else fixed


def fixed_ns():
    with open(os.path.join(FUZZ, "work_budget.hpp")) as f:
        return float(re.search(r"budget_fixed_ns = ([0-9.e]+);", f.read()).group(1))


def logged(cmd):
    """(size, ns) of every input the command ran."""
    env = dict(os.environ, SANSMTP_FUZZ_BUDGET_LOG="3", SANSMTP_FUZZ_BUDGET_SCALE="0")
    run = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         errors="replace")
    if run.returncode != 0:
        sys.exit(f"failed ({run.returncode}): {' '.join(cmd)}\n{run.stderr[-2000:]}")
    return [(int(s), int(n)) for s, n in re.findall(r"^work-budget: \S+ (\d+) (\d+)$", run.stderr, re.M)]


def main():
    build = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    fixed = fixed_ns()
    print(f"fixed part of every budget: {fixed / 1e6:.0f} ms")
    print(f"{'target':24} {'max_len':>7} {'inputs':>7} {'max ms':>7} {'ns/octet':>9} {'at size':>7} "
          f"{'declared':>8} {'budget ms':>9} {'margin':>7} {'growth':>6}")
    for t in sys.argv[3:] or targets():
        max_len = option(t, "max_len")
        corpus = os.path.join(FUZZ, "corpus", t)
        replay = os.path.join(build, "fuzz", f"{t}_replay")
        with tempfile.TemporaryDirectory() as tmp:
            grown, eighth = os.path.join(tmp, "grown"), os.path.join(tmp, "eighth")
            grow(corpus, grown, max_len)
            grow(corpus, eighth, max_len // 8)
            at_max, at_eighth = logged([replay, grown]), logged([replay, eighth])
            runs = logged([replay, corpus]) + at_max + at_eighth
            fuzzer = os.path.join(build, "fuzz", t)
            if seconds > 0 and os.path.exists(fuzzer):
                scratch = os.path.join(tmp, "scratch")
                os.mkdir(scratch)
                runs += logged([fuzzer, f"-max_total_time={seconds}", "-len_control=0", f"-max_len={max_len}",
                                f"-dict={os.path.join(FUZZ, t + '.dict')}", "-seed=1", scratch, grown])
        most = max(n for s, n in runs)
        large = [(n / s, s) for s, n in runs if s >= max_len // 4]
        per_byte, at = max(large) if large else (0, 0)
        per_octet, own_fixed = declared(t, fixed)
        margin = min((own_fixed + per_octet * s) / max(n, 1) for s, n in runs)
        # Linearity: each seed grown to max_len costs at most LINEAR times as
        # much per octet as grown to an eighth of it (a quadratic gives ~8).
        seeds = sorted(n for n in os.listdir(corpus) if os.path.getsize(os.path.join(corpus, n)))
        # (Only seeds that take 2 ms at max_len: below that, page faults on
        # fresh allocations, not the algorithm, dominate what grows.)
        growth, seed = max((((a / s) / (b / e), name) for (s, a), (e, b), name in zip(at_max, at_eighth, seeds)
                            if a >= 2e6), default=(0, ""))
        flag = "" if growth <= LINEAR else f"  SUPER-LINEAR: {seed} grown"
        print(f"{t:24} {max_len:7} {len(runs):7} {most / 1e6:7.2f} {per_byte:9.0f} {at:7} {per_octet:8.0f} "
              f"{(own_fixed + per_octet * max_len) / 1e6:9.1f} {margin:6.1f}x {f'{growth:6.2f}' if seed else '     -'}{flag}", flush=True)


if __name__ == "__main__":
    main()
