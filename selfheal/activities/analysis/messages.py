"""How the rules read what the kubelet, scheduler and controllers write.

`kubectl describe` trims trailing spaces (the kubelet's eviction messages end with one),
older releases capitalise what newer ones do not ("Exceeded quota" / "exceeded quota"),
libpq and PodSecurity messages carry newlines and tabs, and the event recorder prefixes
repeated messages with "(combined from similar events): ". Every rule therefore matches the
normalised text case-insensitively, and quotes the original as its evidence.
"""

from __future__ import annotations

import re
from typing import Any

_COMBINED = re.compile(r"^\(combined from similar events\):\s*", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normalize(message: Any) -> str:
    """Return a message as the rules match it: whitespace collapsed and trimmed, no prefix."""
    text = _SPACE.sub(" ", str(message or "")).strip()
    return _COMBINED.sub("", text)


def same(value: Any, *names: str) -> bool:
    """True when a reason or type field is one of `names`, whatever its case and padding."""
    folded = str(value or "").strip().casefold()
    return any(folded == name.casefold() for name in names)
