"""Serial-number patterns: how the serials of a serialized item are written.

A pattern is text with fields in braces, like a rubber stamp with dials:
`RQ-{yyyy}-{seq:06}` gives `RQ-2027-000001`, `RQ-2027-000002`, … Fields are `{item}`,
`{site}`, `{yyyy}`, `{yy}`, `{mm}` and exactly one `{seq}` (optionally zero-padded,
`{seq:06}`). Parsed once here; the floor (`fabnet.shop.serials`) renders them.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import date

#: the pattern of an item that is serialized without one
DEFAULT_PATTERN = "{item}-{yyyy}-{seq:06}"
FIELDS = ("item", "site", "yyyy", "yy", "mm", "seq")
_PAD = re.compile(r"0?(\d{1,2})")
MAX_PAD = 12


class PatternError(ValueError):
    """A serial pattern that can't be used, with what to write instead."""


@dataclass(frozen=True)
class SerialPattern:
    """A parsed pattern: the text and the width `{seq}` is padded to (0: none)."""

    text: str
    width: int

    @classmethod
    def parse(cls, text: str | None) -> SerialPattern:
        """Parse `text` (None: the default pattern), refusing unknown fields, a missing or
        repeated `{seq}`, and braces that don't pair."""
        text = DEFAULT_PATTERN if text is None else text
        shown = repr(text) if len(text) <= 60 else repr(text[:57] + "...")
        try:
            parts = list(string.Formatter().parse(text))
        except ValueError as e:
            raise PatternError(f"{shown} is not a pattern ({e}); write fields in braces, "
                               f"e.g. {DEFAULT_PATTERN!r}") from None
        width, seqs = 0, 0
        for _, name, spec, conv in parts:
            if name is None:
                continue
            if name not in FIELDS or conv:
                raise PatternError(f"{shown}: unknown field {{{name}}} (fields: "
                                   f"{', '.join('{' + f + '}' for f in FIELDS)})")
            if name == "seq":
                seqs += 1
                m = _PAD.fullmatch(spec or "0")
                if m is None or int(m.group(1)) > MAX_PAD:
                    raise PatternError(f"{shown}: {{seq:{spec}}} is not a width (write "
                                       "{seq} or {seq:06}, at most 12 digits)")
                width = int(m.group(1))
            elif spec:
                raise PatternError(f"{shown}: {{{name}:{spec}}} takes no format (write "
                                   f"{{{name}}})")
        if seqs != 1:
            raise PatternError(f"{shown} needs exactly one {{seq}} (it has {seqs}), so that "
                               "serials differ")
        return cls(text, width)

    def scope(self, item: str, site: str, on: date) -> str:
        """The pattern with every field but `{seq}` filled in: serials that share a scope
        share one counter, so no two of them are ever the same."""
        return self._fill(item, site, on, "{seq}")

    def render(self, item: str, site: str, on: date, seq: int) -> str:
        """The serial number `seq` (1, 2, …) of the scope."""
        digits = f"{seq:0{self.width}d}" if self.width else str(seq)
        return self._fill(item, site, on, digits)

    def _fill(self, item: str, site: str, on: date, seq: str) -> str:
        values = {"item": item, "site": site, "yyyy": f"{on.year:04d}",
                  "yy": f"{on.year % 100:02d}", "mm": f"{on.month:02d}", "seq": seq}
        out = []
        for literal, name, _, _ in string.Formatter().parse(self.text):
            out.append(literal)
            if name is not None:
                out.append(values[name])
        return "".join(out)
