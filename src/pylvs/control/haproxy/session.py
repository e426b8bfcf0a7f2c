"""One stats socket connection as HAProxy 2.6's CLI applet runs it (src/cli.c cli_io_handler,
cli_parse_request; src/channel.c co_getdelim), without I/O.

`CliSession.feed(data, eof)` takes the bytes a client sent and returns what to send back;
`closed` says when the connection must end.  The rules:

* A command ends at the first LF or `;` that no backslash escapes (a backslash escapes the
  next byte, LFs included); one CR before the LF is dropped.  A line that fills the 16 KiB
  request buffer without ending, or input that ends in the middle of a line, closes the
  connection without an answer.
* Words are split on spaces and tabs; a backslash keeps the next character (`\\;`, `\\ `);
  `\\\\` is a backslash; at most 64 words; a NUL byte ends the command.  A command ending
  with `<<` takes the following lines, up to an empty one, as its payload.
* After each answer: in interactive mode (`prompt`) the prompt "\\n> " (or "+ " while a
  payload is being typed); otherwise one empty line, and the connection closes unless the
  client already sent more (pipelined commands, `;`-separated ones).  `quit` closes at once.
* An answer longer than the output buffer is still sent whole (pylvs builds it at once).
* Bytes are kept as they came (UTF-8 with surrogate escapes both ways), as HAProxy's C strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.control.haproxy.commands import run
from pylvs.control.haproxy.context import Context

MAX_ARGS = 64  # MAX_CLI_ARGS
BUFSIZE = 16384  # tune.bufsize: the request line's room is one less
PAYLOAD_PATTERN = "<<"


def split_words(line: str) -> tuple[list[str], str | None]:
    """cli_parse_request's word splitting: (words, payload) of one command line."""
    line = line.split("\0", 1)[0]
    words: list[str] = []
    payload: str | None = None
    i, n = 0, len(line)
    while len(words) < MAX_ARGS and i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        if line[i:] == PAYLOAD_PATTERN:
            payload = ""
            break
        start = i
        while i < n and line[i] not in " \t":
            i += 2 if line[i] == "\\" else 1
        raw = line[start : min(i, n)]
        i += 1
        words.append(_unescape(raw))
    return words, payload


def _unescape(raw: str) -> str:
    out = []
    k = 0
    while k < len(raw):
        if raw[k] == "\\":
            if raw[k + 1 : k + 2] == "\\":
                k += 1
            else:
                k += 1
                continue
        out.append(raw[k])
        k += 1
    return "".join(out)


def _line_end(buf: bytes, limit: int) -> int | None:
    """co_getdelim on "\\n;" with '\\\\' as escape: the index of the delimiter ending the first
    command, None if there is none within `limit` bytes."""
    escaped = False
    for i in range(min(len(buf), limit)):
        b = buf[i]
        if escaped or b == 0x5C:
            escaped = not escaped
            continue
        if b in (0x0A, 0x3B):
            return i
    return None


@dataclass(slots=True)
class CliSession:
    ctx: Context
    closed: bool = False
    _inbuf: bytearray = field(default_factory=bytearray)
    _payload_cmd: str | None = None
    _payload: list[str] = field(default_factory=list)

    def feed(self, data: bytes, eof: bool = False) -> bytes:
        """Take what the client sent (`eof`: it will send nothing more); return the answer."""
        if self.closed:
            return b""
        self._inbuf += data
        out = bytearray()
        while (line := self._next_line(eof)) is not None:
            out += self._handle(line)
            if self._ended():
                break
            # Not interactive: the answer ends the connection unless more was already sent.
            if not self.ctx.state.prompt and not self._inbuf and self._payload_cmd is None:
                self.closed = True
                break
        return bytes(out)

    def _ended(self) -> bool:
        return self.closed

    def _next_line(self, eof: bool) -> str | None:
        """The next complete line, or None (waiting; the session closed on a bad one)."""
        if not self._inbuf:
            if eof:
                self.closed = True
            return None
        limit = BUFSIZE - 1
        end: int | None
        if self._payload_cmd is not None:
            found = self._inbuf.find(b"\n", 0, limit)
            end = found if found >= 0 else None
        else:
            end = _line_end(bytes(self._inbuf[:limit]), limit)
        if end is None:
            if eof or len(self._inbuf) >= limit:
                self.closed = True  # a line too long, or cut by the end of input
            return None
        raw = bytes(self._inbuf[: end + 1])
        del self._inbuf[: end + 1]
        text = raw[:-1]
        if text.endswith(b"\r"):
            text = text[:-1]
        return text.decode("utf-8", "surrogateescape")

    def _handle(self, line: str) -> bytes:
        state = self.ctx.state
        if self._payload_cmd is not None:
            if line:
                self._payload.append(line)
                return self._prompt()
            cmd, payload = self._payload_cmd, "\n".join(self._payload)
            self._payload_cmd, self._payload = None, []
            return self._execute(cmd, payload)
        if line.endswith(PAYLOAD_PATTERN):
            self._payload_cmd = line
            return self._prompt()
        reply = self._execute(line, None)
        if state.quit:
            self.closed = True
            return b""
        return reply

    def _execute(self, line: str, payload: str | None) -> bytes:
        state = self.ctx.state
        words, _ = split_words(line)
        reply = run(self.ctx, words, payload)
        if state.quit:
            self.closed = True
            return b""
        out = reply.render(state.severity).encode("utf-8", "surrogateescape") + self._prompt()
        state.nolf = False
        return out

    def _prompt(self) -> bytes:
        state = self.ctx.state
        if state.prompt:
            return b"+ " if self._payload_cmd is not None else b"\n> "
        if self._payload_cmd is not None or state.nolf:
            return b""
        return b"\n"
