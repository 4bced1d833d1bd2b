"""What the interop capture servers share (Debian's /usr/bin/python3): raw
command lines as they arrive, before anything strips them, and serving until
told to stop."""

import asyncio
import signal
import sys


class RawLines:
    """Cuts received bytes into lines at LF, keeping each line's ending."""

    MAX_PENDING = 65536   # no line end in sight: not a command; drop it

    def __init__(self):
        self._buf = b""

    def feed(self, data):
        """Returns the complete lines (with their CRLF or LF) that `data` ends."""
        self._buf += data
        lines = []
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                break
            lines.append(self._buf[:nl + 1])
            self._buf = self._buf[nl + 1:]
        if len(self._buf) > self.MAX_PENDING:
            self._buf = b""
        return lines


async def serve_until_stopped(server, timeout, name):
    """Prints the port, then serves until SIGTERM/SIGINT or `timeout` seconds."""
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), timeout=timeout)
    except asyncio.TimeoutError:
        print("{}: timed out after {} s".format(name, timeout), file=sys.stderr, flush=True)
    server.close()
    await server.wait_closed()
