#!/usr/bin/python3
"""Assembles what scripts/bench measured into bench/results/<date>-<host>.json,
a Markdown summary beside it, and SVG plots (gnuplot):

  <stem>-throughput.svg   DATA decode, encode and the client body path against
                          memchr over the same bytes, GB/s by message size
  <stem>-instructions.svg instructions per item (--callgrind)
  <stem>-load.svg         server CPU per message, each server of each family (--peers)

    bench/report.py RAW_DIR RESULTS_DIR [--quick]
"""
import datetime
import json
import os
import platform
import re
import socket
import subprocess
import sys


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    compiler = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(), "compiler": compiler,
            "host": socket.gethostname()}


def median_rows(doc):
    """name -> the benchmark's median row (or its only row in --quick)."""
    rows = {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        rows[name] = b
    return rows


def gbps(row):
    return row.get("bytes_per_second", 0) / 1e9


def plot(stem, title, ylabel, series, xlabel=None, logx=False, bars=False, logy=False):
    """series: {label: [(x, y), ...]}; writes stem.svg with gnuplot."""
    data = stem + ".dat"
    with open(data, "w") as f:
        for label, points in series.items():
            f.write(f'# "{label}"\n')
            for x, y in points:
                f.write(f"{x} {y}\n" if not bars else f'"{x}" {y}\n')
            f.write("\n\n")
    script = [f'set terminal svg size 900,500 font "sans,11"', f'set output "{stem}.svg"', f'set title "{title}"',
              f'set ylabel "{ylabel}"', "set key left top", "set grid ytics"]
    if xlabel:
        script.append(f'set xlabel "{xlabel}"')
    if logx:
        script.append("set logscale x 2")
    if logy:
        script.append("set logscale y 10")
    if bars:
        script += ["set style data histograms", "set style fill solid 0.8", "set boxwidth 0.8",
                   "set xtics rotate by -30", "unset key"]
        script.append(f'plot "{data}" using 2:xtic(1) index 0')
    else:
        parts = [f'"{data}" index {i} using 1:2 with linespoints title "{label}"' for i, label in enumerate(series)]
        script.append("plot " + ", ".join(parts))
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)
    os.remove(data)


def command_mix_table(peers, ours):
    """The issue-14 command mix in process: aiosmtpd and smtp-server beside
    sansmtp's command parser (bench_command, bm_command_mix)."""
    rows = []
    if "aiosmtpd" in peers:
        rows.append((peers["aiosmtpd"]["peer"] + ": lines read, parsed and answered", peers["aiosmtpd"]["lines_per_second"]))
    if "smtp_server" in peers:
        p = peers["smtp_server"]
        rows.append((p["peer"] + ", SMTPConnection: lines read, parsed and answered", p["connection_lines_per_second"]))
        rows.append((p["peer"] + ", SMTPStream alone: lines split, not parsed", p["stream_lines_per_second"]))
    if not rows:
        return []
    md = ["## Peers in process: command lines", "",
          "| reader | lines/s | sansmtp's parser / this |", "|---|---|---|"]
    ours_rate = ours.get("items_per_second") if ours else None
    if ours_rate:
        md.append(f"| sansmtp `parse::command_line` (bench_command bm_command_mix, bench/shared_inputs.hpp's lines: "
                  f"parsing only, no replies) | "
                  f"{ours_rate:,.0f} | 1x |")
    for label, rate in rows:
        md.append(f"| {label} | {rate:,.0f} | {f'{ours_rate / rate:.1f}x' if ours_rate else ''} |")
    return md + [""]


def main():
    raw, results = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv
    os.makedirs(results, exist_ok=True)
    m = machine()
    stamp = datetime.date.today().isoformat()
    stem = os.path.join(results, f"{stamp}-{re.sub(r'[^A-Za-z0-9.-]', '_', m['host'])}" + ("-quick" if quick else ""))
    out = {"date": stamp, "machine": m, "quick": quick, "benchmarks": {}, "callgrind": {}, "load": None}
    for name in sorted(os.listdir(raw)):
        if name.startswith("bench_") and name.endswith(".json"):
            with open(os.path.join(raw, name)) as f:
                rows = median_rows(json.load(f))
            out["benchmarks"][name[:-5]] = {
                n: {k: v for k, v in r.items() if k in ("real_time", "cpu_time", "time_unit", "bytes_per_second",
                                                          "items_per_second", "transactions/s", "allocs/transaction")}
                for n, r in rows.items()}
    tsv = os.path.join(raw, "callgrind.tsv")
    if os.path.exists(tsv):
        with open(tsv) as f:
            for line in f:
                case, per_item, unit, per_byte = (line.rstrip("\n").split("\t") + [""])[:4]
                out["callgrind"][case] = {"instructions_per_item": int(per_item), "item": unit}
                if per_byte:
                    out["callgrind"][case]["instructions_per_byte"] = float(per_byte)
    for peer in ("smtplib", "aiosmtpd", "smtp_server"):
        peer_json = os.path.join(raw, f"peer_{peer}.json")
        if os.path.exists(peer_json):
            with open(peer_json) as f:
                out.setdefault("peers", {})[peer] = json.load(f)
    load = os.path.join(raw, "load.json")
    if os.path.exists(load):
        with open(load) as f:
            out["load"] = json.load(f)
    with open(stem + ".json", "w") as f:
        json.dump(out, f, indent=2)

    b = out["benchmarks"]
    md = [f"# Benchmarks {stamp}{' (quick)' if quick else ''}", "",
          f"Machine: {m['cpu']}, {m['cores']} cores, Linux {m['kernel']}, {m['compiler']}.",
          "Medians of 5 repetitions (`scripts/bench`)" if not quick else "One short repetition each (`--quick`).", ""]

    # Throughput against memchr over the same bytes, by size.
    series = {}
    def add(label, bench, prefix, suffix=""):
        pts = []
        for n, r in b.get(bench, {}).items():
            mm = re.fullmatch(re.escape(prefix) + r"/(\d+)" + re.escape(suffix), n)
            if mm and gbps(r):
                pts.append((int(mm.group(1)), gbps(r)))
        if pts:
            series[label] = sorted(pts)
    add("DATA decode (server)", "bench_data_codec", "BM_decoder")
    add("DATA encode", "bench_data_codec", "BM_encoder")
    add("memchr, same bytes", "bench_data_codec", "BM_memchr_lines")
    add("server session body", "bench_server", "BM_message_body")
    add("client send_body (copied)", "bench_client", "BM_client_body")
    add("client submit() by reference", "bench_client", "BM_client_body_by_reference", "/0")
    if series:
        md += ["## Message bodies (GB/s)", "", "| path | " + " | ".join(
            f"{s} B" for s in sorted({x for pts in series.values() for x, _ in pts})) + " |"]
        sizes = sorted({x for pts in series.values() for x, _ in pts})
        md.append("|---|" + "---|" * len(sizes))
        for label, pts in series.items():
            d = dict(pts)
            md.append(f"| {label} | " + " | ".join(f"{d[s]:.2f}" if s in d else "" for s in sizes) + " |")
        md.append("")
        plot(stem + "-throughput", "Message bodies: GB/s by size (memchr over the same bytes for scale)", "GB/s",
             series, xlabel="octets", logx=True)
        md += [f"![throughput]({os.path.basename(stem)}-throughput.svg)", ""]

    sessions = []
    for bench, name in (("bench_server", "BM_small_transactions"), ("bench_client", "BM_joined_transactions")):
        r = b.get(bench, {}).get(name)
        if r:
            sessions.append(f"| {name} | {r.get('transactions/s', 0) / 1e3:.0f} k/s | {r.get('allocs/transaction', 0):.3f} |")
    if sessions:
        md += ["## Sessions in memory", "", "| benchmark | transactions | allocations / transaction |", "|---|---|---|"]
        md += sessions + [""]

    if out["callgrind"]:
        md += ["## Instructions per item (callgrind, fixed inputs: stable run to run)", "",
               "| case | instructions | per byte | item |", "|---|---|---|---|"]
        for case, v in out["callgrind"].items():
            md.append(f"| {case} | {v['instructions_per_item']:,} | {v.get('instructions_per_byte', '')} | {v['item']} |")
        md.append("")
        plot(stem + "-instructions", "Instructions per item (callgrind)", "instructions",
             {"": [(c, v["instructions_per_item"]) for c, v in out["callgrind"].items()]}, bars=True)
        md += [f"![instructions]({os.path.basename(stem)}-instructions.svg)", ""]

    peer = out.get("peers", {}).get("smtplib")
    ours = b.get("bench_reply", {}).get("BM_reply_reader/0")
    if peer and ours:
        ratio = gbps(ours) * 1e9 / peer["bytes_per_second"]
        md += ["## Peers in process: the same reply stream", "",
               "| reader | MB/s | |", "|---|---|---|",
               f"| sansmtp `reply_reader` (bench_reply, whole stream) | {gbps(ours) * 1e3:.0f} | {ratio:.1f}x |",
               f"| {peer['peer']} | {peer['bytes_per_second'] / 1e6:.0f} | 1x |", ""]

    md += command_mix_table(out.get("peers", {}), b.get("bench_command", {}).get("bm_command_mix"))

    if out["load"]:
        load = out["load"]
        md += ["## Loopback load (smtp-source, bench/load_bench.py)", "",
               f"{load['size']}-octet messages, {load['sessions']} sessions, medians of {load['rounds']} alternating "
               f"rounds; server CPU: {load['cpu_method']}.", "",
               "| family | messages | server | messages/s | server CPU µs/message | user | system |",
               "|---|---|---|---|---|---|---|"]
        bars = []
        for family, fam in load["families"].items():
            for name, v in fam["servers"].items():
                user = v.get("user_seconds_per_message")
                system = v.get("system_seconds_per_message")
                md.append(f"| {family} | {fam['messages']} | {name} | {v['messages_per_second']:.0f} | "
                          f"{v['cpu_seconds_per_message'] * 1e6:.1f} | {'' if user is None else f'{user * 1e6:.1f}'} | "
                          f"{'' if system is None else f'{system * 1e6:.1f}'} |")
                bars.append((f"{name} [{family}]", v["cpu_seconds_per_message"] * 1e6))
        md += ["", "| family | sansmtp | peer | messages/s, sansmtp / peer | CPU per message, peer / sansmtp |",
               "|---|---|---|---|---|"]
        for c in load["comparisons"]:
            md.append(f"| {c['family']} | {c['server']} | {c['peer']} | {c['messages_per_second_ratio']:.2f}x | "
                      f"{c['peer_cpu_over_server_cpu']:.2f}x |")
        md.append("")
        plot(stem + "-load", "Server CPU per message (smtp-source load)", "µs per message (log scale)", {"": bars},
             bars=True, logy=True)
        md += [f"![load]({os.path.basename(stem)}-load.svg)", ""]

    with open(stem + ".md", "w") as f:
        f.write("\n".join(md))
    print(f"results: {stem}.json, {stem}.md")


if __name__ == "__main__":
    main()
