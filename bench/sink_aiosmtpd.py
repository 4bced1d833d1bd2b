#!/usr/bin/python3
"""aiosmtpd as a sink for bench/load_bench.py: its threaded Controller on
127.0.0.1:PORT, a handler that accepts every message and keeps nothing
(aiosmtpd's defaults otherwise: 8BITMIME, SIZE 32 MiB, no TLS, no AUTH;
its 'mail.log' logger left as it is). Prints "listening" once serving and
runs until SIGTERM.

    /usr/bin/python3 bench/sink_aiosmtpd.py PORT
"""
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Discard:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: discarded"


def main():
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    controller = Controller(Discard(), hostname="127.0.0.1", port=int(sys.argv[1]),
                            server_hostname="mx.load.example")
    controller.start()
    print("listening", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
