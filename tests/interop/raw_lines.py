"""Raw command lines as they arrive at a server, before anything strips them.

Shared by the interop capture servers (Debian's /usr/bin/python3)."""


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
