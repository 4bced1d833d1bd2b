#!/usr/bin/python3
"""Load benchmark over loopback (a program, not a test): Postfix's smtp-source
as the load against `sansmtp serve --sink` and Postfix's smtp-sink, then
against `sansmtp serve --maildir` and a private Postfix delivering to a
Maildir. Same message count, size and concurrency for each, alternating
servers round by round.

On a 2-core machine the load generator shares the CPU with the server and is
often the bottleneck, so two figures are reported per server: messages per
second (wall clock, from the first connection to the last message accepted,
or delivered for the Maildir servers) and the server's CPU seconds per
message (utime + stime from /proc/PID/stat, the server's whole process tree
included: Postfix's smtpd, cleanup, qmgr and virtual count).

    /usr/bin/python3 bench/load_bench.py [--sansmtp build/gcc/tools/sansmtp]
        [--messages 20000] [--maildir-messages 2000] [--sessions 20] [--size 1024] [--rounds 3]
        [--only sink|maildir] [--json FILE]

Needs root (smtp-sink drops to nobody; Postfix runs as postfix) and Debian's
postfix package (smtp-source, smtp-sink). Servers listen on 127.0.0.1 only
and are stopped by PID.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.recv(512)  # the greeting: the server is serving
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing serves on 127.0.0.1:{port}")


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # ppid
            out.append(int(entry))
    return out


def cpu_seconds(pid):
    """utime + stime of pid and every live descendant, plus what the reaped
    ones left in cutime + cstime."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is state; utime, stime, cutime, cstime are stat fields 14-17.
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        total += utime + stime + cutime + cstime
        stack.extend(children(p))
    return total / TICK


def count_files(directory):
    try:
        return sum(1 for _ in os.scandir(directory))
    except FileNotFoundError:
        return 0


class Server:
    """A server under load: start() returns its port; pid() the process to measure."""

    name = "?"
    maildir = None  # the new/ directory messages land in, when they do

    def stop(self):
        pass


class SansmtpServe(Server):
    def __init__(self, binary, work, maildir):
        self.binary, self.work = binary, work
        self.name = "sansmtp serve --maildir" if maildir else "sansmtp serve --sink"
        self.box = os.path.join(work, "sansmtp-box") if maildir else None
        self.maildir = os.path.join(self.box, "new") if maildir else None

    def start(self):
        store = ["--maildir", self.box] if self.box else ["--sink"]
        self.proc = subprocess.Popen([self.binary, "serve", "--listen", "127.0.0.1:0", "--hostname",
                                      "mx.load.example"] + store, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            raise RuntimeError(f"sansmtp serve said: {line!r}")
        self.port = int(m.group(1))
        wait_port(self.port)
        return self.port

    def pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


class SmtpSink(Server):
    name = "postfix smtp-sink"

    def start(self):
        self.port = free_port()
        # 256: the listen backlog; -u nobody: the user it runs as.
        self.proc = subprocess.Popen(["smtp-sink", "-u", "nobody", "-h", "mx.load.example",
                                      f"127.0.0.1:{self.port}", "256"], stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self.port

    def pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class PrivatePostfix(Server):
    """A private Postfix instance (its own config, queue and data directories
    under the work directory) delivering box@load.example to a Maildir."""

    name = "postfix (Maildir)"

    def __init__(self, work):
        self.work = os.path.join(work, "postfix")
        self.maildir = os.path.join(self.work, "vmail", "box", "new")

    def start(self):
        w = self.work
        self.port = free_port()
        conf = os.path.join(w, "etc")
        for d in ("etc", "spool", "data", "vmail"):
            os.makedirs(os.path.join(w, d), exist_ok=True)
        shutil.chown(os.path.join(w, "data"), "postfix")
        shutil.chown(os.path.join(w, "vmail"), "nobody", "nogroup")
        os.chmod(w, 0o755)
        os.chmod(os.path.dirname(w), 0o755)  # (mkdtemp's 0700 would keep the postfix user out)
        uid = int(subprocess.check_output(["id", "-u", "nobody"]))
        gid = int(subprocess.check_output(["getent", "group", "nogroup"]).decode().split(":")[2])
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {w}/spool
data_directory = {w}/data
maillog_file = {w}/maillog
maillog_file_prefixes = {w}
myhostname = mx.load.example
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = load.example
virtual_mailbox_base = {w}/vmail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
default_process_limit = 100
""")
        with open("/etc/postfix/master.cf") as src, open(os.path.join(conf, "master.cf"), "w") as dst:
            for line in src:
                line = re.sub(r"^smtp      inet  n       -       y", f"127.0.0.1:{self.port} inet n - n", line)
                line = re.sub(r"^([a-z]* *unix *[-n] *[-n] *)y", r"\1n", line)
                dst.write(line)
        started = subprocess.run(["postfix", "-c", conf, "start"], capture_output=True, text=True)
        if started.returncode != 0:
            raise RuntimeError("postfix did not start: " + started.stdout + started.stderr)
        self.conf = conf
        wait_port(self.port)
        return self.port

    def pid(self):
        with open(os.path.join(self.work, "spool", "pid", "master.pid")) as f:
            return int(f.read().split()[0])

    def stop(self):
        subprocess.run(["postfix", "-c", self.conf, "stop"], capture_output=True)


def one_round(server, args, recipient, messages):
    port = server.start()
    try:
        pid = server.pid()
        before_files = count_files(server.maildir) if server.maildir else 0
        cpu0 = cpu_seconds(pid)
        t0 = time.monotonic()
        # -d: keep each session for the next message; -s: sessions; -m:
        # messages; -l: message size; -N: no random numbers in addresses.
        subprocess.run(["smtp-source", "-d", "-s", str(args.sessions), "-m", str(messages),
                        "-l", str(args.size), "-f", "load@client.example", "-t", recipient,
                        "-M", "client.load.example", f"127.0.0.1:{port}"], check=True)
        if server.maildir:  # delivered, not only accepted
            end = time.monotonic() + 120
            while count_files(server.maildir) - before_files < messages and time.monotonic() < end:
                time.sleep(0.01)
            delivered = count_files(server.maildir) - before_files
            if delivered < messages:
                raise RuntimeError(f"{server.name}: {delivered} of {messages} messages delivered")
        elapsed = time.monotonic() - t0
        cpu = cpu_seconds(pid) - cpu0
    finally:
        server.stop()
    return {"messages_per_second": messages / elapsed, "cpu_seconds_per_message": cpu / messages,
            "elapsed": elapsed, "cpu": cpu}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sansmtp", default=os.path.join(os.path.dirname(__file__), "..", "build", "gcc", "tools",
                                                      "sansmtp"))
    ap.add_argument("--messages", type=int, default=20000, help="per round against the sinks")
    ap.add_argument("--maildir-messages", type=int, default=2000, help="per round against the Maildir servers")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=["sink", "maildir"])
    ap.add_argument("--json")
    args = ap.parse_args()
    for tool in ("smtp-source", "smtp-sink", "postfix"):
        if not shutil.which(tool):
            sys.exit(f"load_bench: {tool} not found: apt-get install postfix")
    work = tempfile.mkdtemp(prefix="sansmtp-load-")
    try:
        families = []
        if args.only != "maildir":
            families.append(("sink", [SansmtpServe(args.sansmtp, work, False), SmtpSink()], "sink@load.example",
                             args.messages))
        if args.only != "sink":
            families.append(("maildir", [SansmtpServe(args.sansmtp, work, True), PrivatePostfix(work)],
                             "box@load.example", args.maildir_messages))
        results = {}
        for family, servers, recipient, messages in families:
            for r in range(args.rounds):  # alternating: A B, A B, ...
                for s in servers:
                    res = one_round(s, args, recipient, messages)
                    results.setdefault(s.name, []).append(res)
                    print(f"round {r + 1} {s.name:<26} {res['messages_per_second']:9.0f} msg/s "
                          f"{res['cpu_seconds_per_message'] * 1e6:8.1f} µs CPU/msg", flush=True)
        print()
        print(f"{args.messages} messages (sinks) and {args.maildir_messages} (Maildir) of {args.size} octets, "
              f"{args.sessions} sessions (smtp-source -d), median of {args.rounds} alternating rounds, "
              f"{os.cpu_count()} cores")
        print(f"| server | messages/s | server CPU µs/message |")
        print(f"|---|---|---|")
        summary = {}
        for name, runs in results.items():
            rate = statistics.median(x["messages_per_second"] for x in runs)
            cpu = statistics.median(x["cpu_seconds_per_message"] for x in runs)
            summary[name] = {"messages_per_second": rate, "cpu_seconds_per_message": cpu, "rounds": runs}
            print(f"| {name} | {rate:.0f} | {cpu * 1e6:.1f} |")
        for a, b in (("sansmtp serve --sink", "postfix smtp-sink"), ("sansmtp serve --maildir", "postfix (Maildir)")):
            if a in summary and b in summary:
                print(f"{a} / {b}: {summary[a]['messages_per_second'] / summary[b]['messages_per_second']:.2f}x "
                      f"the messages per second, {summary[a]['cpu_seconds_per_message'] / summary[b]['cpu_seconds_per_message']:.2f}x "
                      f"the CPU per message")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"messages": args.messages, "maildir_messages": args.maildir_messages, "size": args.size, "sessions": args.sessions,
                           "rounds": args.rounds, "cores": os.cpu_count(), "servers": summary}, f, indent=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
