#!/usr/bin/python3
"""Load benchmark over loopback (a program, not a test): Postfix's smtp-source
as the load, three families of servers, each family with the same message
count, size and concurrency, alternating servers round by round:

  sink     `sansmtp serve --sink` and Postfix's smtp-sink
  maildir  `sansmtp serve --maildir` and a private Postfix delivering to a Maildir
  peers    `sansmtp serve --sink`, aiosmtpd (bench/sink_aiosmtpd.py), npm
           smtp-server (bench/sink_smtp_server.mjs) and, with --exim, Exim
           accepting every message and routing it to :blackhole:

On a 2-core machine the load generator shares the CPU with the server and is
often the bottleneck, so two figures are reported per server: messages per
second (wall clock, from the first connection to the last message accepted,
or delivered for the Maildir servers) and the server's CPU seconds per
message. The CPU is that of every process the server starts: the server is
started in a cgroup (v2) of its own and the figure is the cgroup's
cpu.stat usage_usec (and its user/system split). The older figure, utime +
stime of the server's process tree from /proc/PID/stat (the reaped
children's cutime + cstime included), is kept beside it in each round
(cpu_proc_tree), and is the figure only where no cgroup v2 is writable: it
misses what Exim's delivery processes spend (their parent ignores SIGCHLD,
so they are reaped without reaching any cutime), and it is in whole clock
ticks (10 ms) per process, so a server of many short-lived processes
(Postfix's smtpd, cleanup and virtual) loses up to a tick on each.

    /usr/bin/python3 bench/load_bench.py [--sansmtp build/gcc/tools/sansmtp]
        [--messages 20000] [--maildir-messages 2000] [--peer-messages 5000]
        [--sessions 20] [--size 1024] [--rounds 3]
        [--only sink|maildir|peers] [--exim DIR] [--json FILE]

Needs root (smtp-sink drops to nobody; Postfix runs as postfix; Exim's mount
namespace), Debian's postfix (smtp-source, smtp-sink) and python3-aiosmtpd,
Node.js with tests/interop's npm packages (smtp-server), and for Exim the
tree of Debian's exim4-daemon-light unpacked in DIR (see EximSink). Servers
listen on 127.0.0.1 only and are stopped by PID.
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
HERE = os.path.dirname(os.path.abspath(__file__))


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


def cgroup2_root():
    """Where cgroup v2 is mounted, if this process may make cgroups there."""
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[2] == "cgroup2" and os.access(fields[1], os.W_OK):
                return fields[1]
    return None


class Cgroup:
    """A cgroup v2 of one round's server: join() runs in the server's child
    before exec (preexec_fn), so that every process it starts is in it."""

    def __init__(self, root, name):
        self.path = os.path.join(root, name)
        os.mkdir(self.path)

    def join(self):
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write("0")  # 0: the writing process

    def cpu_seconds(self):
        """(user + system, user, system) seconds so far."""
        with open(os.path.join(self.path, "cpu.stat")) as f:
            stat = dict(line.split() for line in f)
        return int(stat["usage_usec"]) / 1e6, int(stat["user_usec"]) / 1e6, int(stat["system_usec"]) / 1e6

    def remove(self, timeout=15.0):
        """Removes the cgroup once its processes are gone; a process still in
        it after `timeout` is an error (the server did not stop)."""
        end = time.time() + timeout
        while True:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                left = f.read().split()
            if not left:
                os.rmdir(self.path)
                return
            if time.time() > end:
                raise RuntimeError(f"processes {left} still in {self.path} after the server stopped")
            time.sleep(0.05)


def count_files(directory):
    try:
        return sum(1 for _ in os.scandir(directory))
    except FileNotFoundError:
        return 0


class Server:
    """A server under load: start() returns its port; pid() the process to measure."""

    name = "?"
    maildir = None  # the new/ directory messages land in, when they do
    cgroup = None  # set by one_round: the server's processes start in it

    proc = None  # the process start() ran, for the default pid() and stop()

    def joining(self):
        """preexec_fn for the server's Popen: into this round's cgroup."""
        return self.cgroup.join if self.cgroup else None

    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


class ListeningProcess(Server):
    """A server that is one process we start, told its port, which prints a
    line once it listens."""

    def argv(self, port):
        raise NotImplementedError

    def start(self):
        self.port = free_port()
        self.proc = subprocess.Popen(self.argv(self.port), stdout=subprocess.PIPE, text=True,
                                     preexec_fn=self.joining())
        line = self.proc.stdout.readline()
        if "listening" not in line:
            raise RuntimeError(f"{self.name} said: {line!r}")
        wait_port(self.port)
        return self.port



class SansmtpServe(Server):
    def __init__(self, binary, work, maildir):
        self.binary, self.work = binary, work
        self.name = "sansmtp serve --maildir" if maildir else "sansmtp serve --sink"
        self.box = os.path.join(work, "sansmtp-box") if maildir else None
        self.maildir = os.path.join(self.box, "new") if maildir else None

    def start(self):
        store = ["--maildir", self.box] if self.box else ["--sink"]
        # --max-per-ip 0: every load session comes from 127.0.0.1.
        self.proc = subprocess.Popen([self.binary, "serve", "--listen", "127.0.0.1:0", "--hostname",
                                      "mx.load.example", "--max-per-ip", "0"] + store, stdout=subprocess.PIPE, text=True,
                                     preexec_fn=self.joining())
        line = self.proc.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            raise RuntimeError(f"sansmtp serve said: {line!r}")
        self.port = int(m.group(1))
        wait_port(self.port)
        return self.port



class SmtpSink(Server):
    name = "postfix smtp-sink"

    def start(self):
        self.port = free_port()
        # 256: the listen backlog; -u nobody: the user it runs as.
        self.proc = subprocess.Popen(["smtp-sink", "-u", "nobody", "-h", "mx.load.example",
                                      f"127.0.0.1:{self.port}", "256"], stderr=subprocess.DEVNULL,
                                     preexec_fn=self.joining())
        wait_port(self.port)
        return self.port



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
        started = subprocess.run(["postfix", "-c", conf, "start"], capture_output=True, text=True,
                                 preexec_fn=self.joining())
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


class AiosmtpdSink(ListeningProcess):
    name = "aiosmtpd (sink)"

    def argv(self, port):
        return ["/usr/bin/python3", os.path.join(HERE, "sink_aiosmtpd.py"), str(port)]


class SmtpServerSink(ListeningProcess):
    name = "npm smtp-server (sink)"

    def argv(self, port):
        return ["node", os.path.join(HERE, "sink_smtp_server.mjs"), str(port)]


class EximSink(Server):
    """Exim 4 from Debian's exim4-daemon-light, unpacked (dpkg-deb -x) in
    `tree`, not installed: the package conflicts with postfix, which the load
    needs. Its daemon (-bdf: in the foreground) runs with a configuration of
    its own (-C, so that Exim gives up root: it runs as nobody) that accepts
    every recipient and routes every message to :blackhole:, delivering in
    the receiving process's child without re-executing itself
    (deliver_drop_privilege). Exim spools each message (written, fsync'd)
    before its 250 and logs it as it always does, to the work directory.
    The binary looks up its compiled-in user, Debian-exim, before reading
    any configuration; that user exists only in Exim's own mount namespace
    (unshare -m), where /etc/passwd and /etc/group are bind-mounted copies
    naming Debian-exim as nobody and nogroup."""

    name = "exim (blackhole)"

    def __init__(self, tree, work):
        self.binary = os.path.join(os.path.abspath(tree), "usr", "sbin", "exim4")
        self.work = os.path.join(work, "exim")

    def start(self):
        w = self.work
        self.port = free_port()
        for d in ("spool", "log"):
            os.makedirs(os.path.join(w, d), exist_ok=True)
            shutil.chown(os.path.join(w, d), "nobody", "nogroup")
        os.chmod(w, 0o755)
        os.chmod(os.path.dirname(w), 0o755)
        uid = int(subprocess.check_output(["id", "-u", "nobody"]))
        gid = int(subprocess.check_output(["getent", "group", "nogroup"]).decode().split(":")[2])
        for name, entry in (("passwd", f"Debian-exim:x:{uid}:{gid}:Exim (load_bench):/nonexistent:/usr/sbin/nologin"),
                            ("group", f"Debian-exim:x:{gid}:")):
            with open(f"/etc/{name}") as src, open(os.path.join(w, name), "w") as dst:
                dst.write(src.read() + entry + "\n")
        conf = os.path.join(w, "exim.conf")
        with open(conf, "w") as f:
            f.write(f"""exim_path = {self.binary}
keep_environment =
primary_hostname = mx.load.example
spool_directory = {w}/spool
log_file_path = {w}/log/%slog
pid_file_path = {w}/exim.pid
local_interfaces = <; 127.0.0.1
daemon_smtp_ports = {self.port}
deliver_drop_privilege = true
host_lookup =
rfc1413_query_timeout = 0s
smtp_accept_max = 100
smtp_accept_max_per_connection = 0
smtp_accept_queue_per_connection = 0
acl_smtp_rcpt = accept_all

begin acl
accept_all:
  accept

begin routers
discard:
  driver = redirect
  data = :blackhole:
""")
        inside = (f"mount --bind {w}/passwd /etc/passwd && mount --bind {w}/group /etc/group && "
                  f"exec {self.binary} -C {conf} -bdf")
        self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", inside],
                                     preexec_fn=self.joining())
        wait_port(self.port)
        return self.port



def one_round(server, args, recipient, messages, cgroup_root):
    if cgroup_root:
        server.cgroup = Cgroup(cgroup_root, f"sansmtp-load-{os.getpid()}-{time.monotonic_ns()}")
    try:
        return measured_round(server, args, recipient, messages)
    finally:
        if server.cgroup:
            server.cgroup.remove()
            server.cgroup = None


def measured_round(server, args, recipient, messages):
    port = server.start()
    try:
        pid = server.pid()
        before_files = count_files(server.maildir) if server.maildir else 0
        tree0 = cpu_seconds(pid)
        cgroup0 = server.cgroup.cpu_seconds() if server.cgroup else None
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
        tree = cpu_seconds(pid) - tree0
        split = {}
        if server.cgroup:
            cpu, user, system = (b - a for a, b in zip(cgroup0, server.cgroup.cpu_seconds()))
            split = {"cpu_user": user, "cpu_system": system}
        else:
            cpu = tree
    finally:
        server.stop()
    return {"messages_per_second": messages / elapsed, "cpu_seconds_per_message": cpu / messages,
            "elapsed": elapsed, "cpu": cpu, "cpu_proc_tree": tree, **split}


COMPARISONS = (("sink", "sansmtp serve --sink", "postfix smtp-sink"),
               ("maildir", "sansmtp serve --maildir", "postfix (Maildir)"),
               ("peers", "sansmtp serve --sink", "aiosmtpd (sink)"),
               ("peers", "sansmtp serve --sink", "npm smtp-server (sink)"),
               ("peers", "sansmtp serve --sink", "exim (blackhole)"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sansmtp", default=os.path.join(HERE, "..", "build", "gcc", "tools", "sansmtp"))
    ap.add_argument("--messages", type=int, default=20000, help="per round against the sinks")
    ap.add_argument("--maildir-messages", type=int, default=2000, help="per round against the Maildir servers")
    ap.add_argument("--peer-messages", type=int, default=5000, help="per round in the peers family")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=["sink", "maildir", "peers"])
    ap.add_argument("--exim", metavar="DIR", help="exim4-daemon-light unpacked here (dpkg-deb -x); no Exim without it")
    ap.add_argument("--json")
    args = ap.parse_args()
    for tool in ("smtp-source", "smtp-sink", "postfix"):
        if not shutil.which(tool):
            sys.exit(f"load_bench: {tool} not found: apt-get install postfix")
    cgroup_root = cgroup2_root()
    cpu_method = ("cgroup v2 cpu.stat usage_usec" if cgroup_root else
                  "utime + stime of the process tree (/proc/PID/stat, reaped children included)")
    print(f"server CPU: {cpu_method}")
    work = tempfile.mkdtemp(prefix="sansmtp-load-")
    try:
        families = []
        if args.only in (None, "sink"):
            families.append(("sink", [SansmtpServe(args.sansmtp, work, False), SmtpSink()], "sink@load.example",
                             args.messages))
        if args.only in (None, "maildir"):
            families.append(("maildir", [SansmtpServe(args.sansmtp, work, True), PrivatePostfix(work)],
                             "box@load.example", args.maildir_messages))
        if args.only in (None, "peers"):
            peers = [SansmtpServe(args.sansmtp, work, False), AiosmtpdSink(), SmtpServerSink()]
            if args.exim:
                peers.append(EximSink(args.exim, work))
            else:
                print("no --exim DIR: Exim left out")
            families.append(("peers", peers, "sink@load.example", args.peer_messages))
        results = {}
        for family, servers, recipient, messages in families:
            for r in range(args.rounds):  # alternating: A B, A B, ...
                for s in servers:
                    res = one_round(s, args, recipient, messages, cgroup_root)
                    results.setdefault(family, {"messages": messages, "servers": {}})["servers"] \
                        .setdefault(s.name, []).append(res)
                    print(f"round {r + 1} {family:<7} {s.name:<26} {res['messages_per_second']:9.0f} msg/s "
                          f"{res['cpu_seconds_per_message'] * 1e6:8.1f} µs CPU/msg "
                          f"({res['cpu_proc_tree'] / messages * 1e6:.1f} from /proc)", flush=True)
        print()
        print(f"{args.size}-octet messages, {args.sessions} sessions (smtp-source -d), median of {args.rounds} "
              f"alternating rounds, {os.cpu_count()} cores; server CPU: {cpu_method}")
        print("| family | messages | server | messages/s | server CPU µs/message |")
        print("|---|---|---|---|---|")
        summary = {}
        for family, fam in results.items():
            summary[family] = {"messages": fam["messages"], "servers": {}}
            for name, runs in fam["servers"].items():
                rate = statistics.median(x["messages_per_second"] for x in runs)
                cpu = statistics.median(x["cpu_seconds_per_message"] for x in runs)
                entry = {"messages_per_second": rate, "cpu_seconds_per_message": cpu, "rounds": runs}
                split = ""
                if "cpu_user" in runs[0]:
                    for part in ("user", "system"):
                        entry[f"{part}_seconds_per_message"] = statistics.median(x[f"cpu_{part}"] for x in runs) / fam["messages"]
                    split = f" ({entry['user_seconds_per_message'] * 1e6:.1f} user, {entry['system_seconds_per_message'] * 1e6:.1f} system)"
                summary[family]["servers"][name] = entry
                print(f"| {family} | {fam['messages']} | {name} | {rate:.0f} | {cpu * 1e6:.1f}{split} |")
        comparisons = []
        for family, a, b in COMPARISONS:
            servers = summary.get(family, {}).get("servers", {})
            if a in servers and b in servers:
                x, y = servers[a], servers[b]
                comparisons.append({"family": family, "server": a, "peer": b,
                                    "messages_per_second_ratio": x["messages_per_second"] / y["messages_per_second"],
                                    "peer_cpu_over_server_cpu": y["cpu_seconds_per_message"] / x["cpu_seconds_per_message"]})
                c = comparisons[-1]
                print(f"{a} / {b}: {c['messages_per_second_ratio']:.2f}x the messages per second; "
                      f"{b} spends {c['peer_cpu_over_server_cpu']:.2f}x the CPU per message")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"size": args.size, "sessions": args.sessions, "rounds": args.rounds,
                           "cores": os.cpu_count(), "cpu_method": cpu_method, "families": summary,
                           "comparisons": comparisons}, f, indent=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
