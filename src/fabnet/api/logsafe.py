"""Values made safe for a log line: control characters become visible escapes.

A request path or a name can carry a newline (`/sites/x%0aGET /admin 200 …`), and
written as it is, that forges a second log line. Every value the API logs goes through
`printable()`: `\\n`, `\\r` and `\\t` are written as those two characters, every other
C0 or C1 control, DEL and the Unicode line and paragraph separators as `\\xNN` or
`\\uNNNN`, and the backslash itself is doubled, so an escape in the log can always be
told from one the value carried.
"""

from __future__ import annotations

_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_ESCAPES = {c: _NAMED.get(chr(c)) or (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")
            for c in _CONTROLS} | {ord("\\"): "\\\\"}


def printable(value: object) -> str:
    """`value` as text on one line, with control characters and `\\` escaped."""
    return str(value).translate(_ESCAPES)
