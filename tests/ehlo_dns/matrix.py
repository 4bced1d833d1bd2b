#!/usr/bin/python3
"""tests/ehlo_dns/matrix.py: run by observe.sh inside its namespaces, with
Knot and the receivers already listening. For each case of the cases file
(EHLO name, client address) it prints the DNS facts as kdig sees them, runs
swaks from the client address against each receiver up to RCPT, prints one
JSON line per case and receiver, and, when PREDICT is set, compares each
prediction of that command with the observation. Exits 1 on a mismatch or
when a receiver's session could not be classified.

Usage: matrix.py --cases FILE --rcpt ADDR NAME=PORT=LOGFILE...
"""

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import time

DNS = "127.0.0.1"
SENDER = "sender@example.org"


def read_cases(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            name, ip, what = (line.split("\t") + ["", ""])[:3]
            cases.append({"name": name, "client_ip": ip, "what": what})
    return cases


# ---- DNS facts ---------------------------------------------------------------

def kdig(qname, qtype):
    """(status, [rdata...]) of one query to the test server, as kdig sees it."""
    args = ["kdig", f"@{DNS}", "+time=2", "+retry=0", "+noidn", "+noall", "+header", "+answer"]
    args += ["-x", qname] if qtype == "PTR" else ["-q", qname, "-t", qtype]  # (-q: a name may begin with -)
    out = subprocess.run(args, capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"status: (\w+)", out)
    status = m.group(1) if m else "NO-ANSWER"
    records = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 5 and not line.startswith(";") and parts[2] == "IN":
            records.append(f"{parts[3]} {' '.join(parts[4:])}" if parts[3] != qtype else " ".join(parts[4:]))
    return status, records


def literal_or_ip(name):
    return name.startswith("[") or re.fullmatch(r"[0-9.]+", name) is not None


def dns_facts(case):
    name, ip = case["name"], case["client_ip"]
    facts = {}
    if literal_or_ip(name):
        facts["name"] = "address (literal or bare): not looked up here"
    else:
        for t in ("A", "AAAA", "MX"):
            status, recs = kdig(name, t)
            facts[t] = f"{status} {' '.join(recs) or '-'}"
    status, ptrs = kdig(ip, "PTR")
    facts[f"PTR {ip}"] = f"{status} {' '.join(ptrs) or '-'}"
    for ptr in ptrs:
        if ptr.startswith("CNAME"):
            continue
        s, addrs = kdig(ptr, "A")
        facts[f"A of PTR {ptr}"] = f"{s} {' '.join(addrs) or '-'}"
    return facts


# ---- one SMTP session ---------------------------------------------------------

STAGES = {"EHLO": "helo", "HELO": "helo", "MAIL": "mail", "RCPT": "rcpt", "QUIT": "quit"}


def session(transcript):
    """The replies of a swaks transcript: [(verb, code, first line)], the
    verb being the command replied to (None for the greeting)."""
    verb, first_line, replies = None, None, []
    for line in transcript.splitlines():
        if line.startswith(" -> "):
            verb = line[4:].split(" ", 1)[0].upper()
            continue
        if not (line.startswith("<-  ") or line.startswith("<** ")):
            continue
        text = line[4:]
        m = re.match(r"(\d{3})([- ]?)", text)
        if not m:
            continue
        if first_line is None:
            first_line = text
        if m.group(2) == "-":
            continue  # a continuation line: the reply goes on
        replies.append((verb, int(m.group(1)), first_line))
        first_line = None
    return replies


def classify(replies):
    """(verdict, stage, code, reply): the first reply of 4xx/5xx, or accept
    when RCPT got 2xx. (swaks goes on after a refused EHLO with HELO: what
    came after the first refusal is in the "session" field.)"""
    stage = "connect"
    for verb, code, line in replies:
        stage = "connect" if verb is None else STAGES.get(verb, verb.lower())
        if code >= 400:
            return ("refuse" if code >= 500 else "defer"), stage, code, line
        if stage == "rcpt" and 200 <= code < 300:
            return "accept", "none", None, None
    return "unknown", stage, None, None


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def new_log_lines(path, offset, receiver, done_pattern):
    """The lines the receiver logged for the session, from offset: waits (up
    to 3 s) for the line that ends a session where the receiver logs one."""
    deadline = time.monotonic() + 3
    while True:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            text = ""
        if not done_pattern or re.search(done_pattern, text) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    keep = {
        "postfix": r"postfix/smtpd\[\d+\]: (?!connect from|disconnect from|lost connection)",
        "exim": r"rejected|refused|temporarily|verif|H=",
        "haraka": r"\[helo\.checks\]|\[core\].*(?:hook=(?:helo|ehlo)|disconnect ip=)",
    }[receiver.split("-")[0]]
    lines = []
    for line in text.splitlines():
        if re.search(keep, line):
            line = re.sub(r"^\S+ +\d+ [\d:]+ \S+ ", "", line)          # Postfix's syslog prefix
            line = re.sub(r"^\d{4}-\d\d-\d\d [\d:]+ ", "", line)      # Exim's time stamp
            lines.append(line.strip())
    return lines


DONE = {"postfix": r"disconnect from", "exim": None, "haraka": r"disconnect ip="}


def observe(case, receiver, port, logfile, rcpt):
    offset = log_size(logfile)
    cmd = ["swaks", "--server", f"127.0.0.1:{port}", "--local-interface", case["client_ip"],
           f"--helo={case['name']}", "--from", SENDER, "--to", rcpt, "--quit-after", "RCPT",
           "--timeout", "30"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    replies = session(run.stdout)
    verdict, stage, code, reply = classify(replies)
    result = {"name": case["name"], "client_ip": case["client_ip"], "receiver": receiver,
              "verdict": verdict, "stage": stage, "code": code, "reply": reply,
              "session": ", ".join(f"{v or 'connect'} {c}" for v, c, _ in replies)}
    result["log"] = new_log_lines(logfile, offset, receiver, DONE[receiver.split("-")[0]])
    if verdict == "unknown":
        result["transcript"] = run.stdout + run.stderr
    return result


# ---- predictions --------------------------------------------------------------

def predict(command, case, receivers):
    cmd = shlex.split(command) + ["--client-ip", case["client_ip"], "--receiver", ",".join(receivers),
                                  "--", case["name"]]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"could not run {shlex.join(cmd)}: {e}"
    text = run.stdout.strip()
    try:
        doc, _ = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None, f"no JSON from {shlex.join(cmd)} (exit {run.returncode}): {text[:300]} {run.stderr[:300]}"
    if isinstance(doc, list):
        doc = next((d for d in doc if isinstance(d, dict) and d.get("name") == case["name"]), doc[0] if doc else {})
    entries = {e.get("receiver"): e for e in doc.get("receivers", []) if isinstance(e, dict)}
    return entries, None


def compare(pred, obs):
    """None when the prediction matches the observation, else why not."""
    if pred is None:
        return "no prediction for this receiver"
    # A score (spam rules fired, the mail accepted) is an accept in SMTP terms.
    verdict = "accept" if pred.get("verdict") == "score" else pred.get("verdict")
    if verdict != obs["verdict"]:
        return f"verdict {verdict} != observed {obs['verdict']}"
    if obs["verdict"] in ("refuse", "defer"):
        if pred.get("stage") != obs["stage"]:
            return f"stage {pred.get('stage')} != observed {obs['stage']}"
        if str(pred.get("reply") or "")[:3] != str(obs["code"]):
            return f"code {str(pred.get('reply') or '')[:3]} != observed {obs['code']}"
    return None


def short(r):
    if r is None:
        return "-"
    if r.get("verdict") == "accept":
        return "accept"
    code = r.get("code") or str(r.get("reply") or "")[:3]
    return f"{r.get('verdict')} {r.get('stage')} {code}"


def table(cases, receivers, observed, predicted):
    head = ["case (EHLO name @ client)"] + receivers
    rows = []
    for i, case in enumerate(cases):
        row = [f"{case['name']} @ {case['client_ip']}"]
        for r in receivers:
            o = observed[(i, r)]
            cell = short(o)
            if predicted is not None:
                p = predicted.get((i, r))
                mark = "ok" if compare(p, o) is None else "MISMATCH"
                cell = f"{cell} | pred {short(p)} {mark}"
            row.append(cell)
        rows.append(row)
    widths = [max(len(x[c]) for x in rows + [head]) for c in range(len(head))]
    fmt = lambda row: "  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip()
    print(fmt(head))
    print(fmt(["-" * w for w in widths]))
    for row in rows:
        print(fmt(row))


# ---- probe: the address Exim echoes, and the prediction from it ------------------

def probe_exim(sansmtp, case, port, rcpt):
    """`sansmtp probe --resolve` against Exim from the case's client address:
    Exim echoes the address it sees in its EHLO reply ("Hello NAME [IP]"),
    the probe must read it (client_ip_seen), check the name against it, and
    its own prediction for exim-verify-helo must match what Exim did to
    the probe's MAIL FROM. None when the name is one EHLO cannot carry."""
    cmd = [sansmtp, "probe", f"127.0.0.1:{port}", "--source", case["client_ip"], "--ehlo", case["name"],
           "--rcpt", rcpt, "--resolve", "--dns-server", "127.0.0.1:53", "--receiver", "exim-verify-helo", "--json"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if run.returncode == 64:
        return None
    try:
        d = json.loads(run.stdout)
    except ValueError:
        return f"no JSON (exit {run.returncode}): {run.stdout[:300]} {run.stderr[:300]}"
    if d.get("client_ip_seen") != case["client_ip"]:
        return f"client_ip_seen {d.get('client_ip_seen')!r}, expected {case['client_ip']}"
    if d["ehlo_check"].get("client_ip") != case["client_ip"]:
        return f"checked against {d['ehlo_check'].get('client_ip')!r}"
    pred = d["ehlo_check"]["receivers"][0]
    refusal = d.get("refusal")
    if pred["verdict"] == "accept":
        return None if d.get("name_accepted") is True and refusal is None else f"predicted accept, got {refusal}"
    after = {"mail": "MAIL FROM", "helo": "EHLO", "rcpt": "RCPT TO"}.get(pred["stage"])
    if not refusal or refusal["after"] != after or str(refusal["code"]) != pred["reply"][:3]:
        return f"predicted {pred['verdict']} at {pred['stage']} {pred['reply'][:3]}, got {refusal}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--rcpt", required=True)
    ap.add_argument("receivers", nargs="+", help="NAME=PORT=LOGFILE")
    args = ap.parse_args()
    receivers = [tuple(spec.split("=", 2)) for spec in args.receivers]
    names = [r[0] for r in receivers]
    cases = read_cases(args.cases)
    command = os.environ.get("PREDICT", "").strip()
    json_out = open(os.environ["OBSERVE_JSON"], "w") if os.environ.get("OBSERVE_JSON") else None

    observed, predicted = {}, ({} if command else None)
    unclassified, passed, failed = 0, 0, 0
    for i, case in enumerate(cases):
        print(f"\n## {case['name']} from {case['client_ip']}: {case['what']}")
        for k, v in dns_facts(case).items():
            print(f"DNS {k}: {v}")
        # the receivers in parallel: each has its own server and log
        with concurrent.futures.ThreadPoolExecutor(len(receivers)) as pool:
            sessions = list(pool.map(lambda r: observe(case, r[0], r[1], r[2], args.rcpt), receivers))
        for (name, _, _), obs in zip(receivers, sessions):
            observed[(i, name)] = obs
            line = json.dumps(obs, ensure_ascii=False)
            print(line)
            if json_out:
                print(line, file=json_out)
            if obs["verdict"] == "unknown":
                unclassified += 1
                print(f"ERROR: {name} {case['name']} from {case['client_ip']}: session not classified")
        if command:
            entries, error = predict(command, case, names)
            for name in names:
                label = f"{name} {case['name']} from {case['client_ip']}"
                why = error or compare(entries.get(name), observed[(i, name)])
                if entries is not None:
                    predicted[(i, name)] = entries.get(name)
                if why:
                    failed += 1
                    print(f"FAIL: {label}: {why}" + ("" if error else f"; predicted {json.dumps(entries.get(name))}"))
                else:
                    passed += 1
                    print(f"PASS: {label}: {short(observed[(i, name)])}")
    sansmtp = os.environ.get("PROBE", "").strip()
    exim = next((r for r in receivers if r[0] == "exim-verify-helo"), None)
    if sansmtp and exim:
        print("\n## sansmtp probe --resolve against Exim, from each case's client address")
        for case in cases:
            label = f"probe {case['name']} from {case['client_ip']}"
            why = probe_exim(sansmtp, case, exim[1], args.rcpt)
            if why:
                failed += 1
                print(f"FAIL: {label}: {why}")
            else:
                passed += 1
                print(f"PASS: {label}")
    print()
    table(cases, names, observed, predicted)
    if unclassified:
        print(f"\n{unclassified} session(s) not classified (see their transcript)")
    if command or sansmtp:
        print(f"\npredictions: {passed} passed, {failed} failed")
    sys.exit(1 if unclassified or failed else 0)

if __name__ == "__main__":
    main()
