"""Server-Sent Events framing (WHATWG HTML §9.2), the transport of `/eth/v1/events`.

Kept separate from HTTP so that the parser is a pure, incremental function that can be fuzzed:
feed it chunks of bytes as they arrive, get complete events back. Beacon nodes send `event:` and
`data:` fields and may send `:` comment lines as keep-alives; `id:` and `retry:` are parsed too.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SSEMessage:
    """One dispatched event: its type (default "message"), data lines joined by newlines."""

    event: str
    data: str
    id: str | None = None


@dataclass
class SSEParser:
    """Incremental parser; `feed(chunk)` returns the messages completed by that chunk."""

    retry_ms: int | None = None
    last_event_id: str | None = None
    _buffer: str = ""
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _pending_cr: bool = False
    _utf8: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace")
    )

    def feed(self, chunk: bytes | str) -> list[SSEMessage]:
        # incremental: a multi-byte character may be split across network reads
        text = self._utf8.decode(chunk) if isinstance(chunk, bytes) else chunk
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the \n of a \r\n split across chunks
        self._pending_cr = text.endswith("\r")
        self._buffer += text.replace("\r\n", "\n").replace("\r", "\n")
        messages: list[SSEMessage] = []
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            message = self._line(line)
            if message is not None:
                messages.append(message)
        return messages

    def _line(self, line: str) -> SSEMessage | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> SSEMessage | None:
        event, data = self._event or "message", self._data
        self._event, self._data = "", []
        if not data:
            return None
        return SSEMessage(event=event, data="\n".join(data), id=self.last_event_id)
