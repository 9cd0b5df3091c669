"""Content negotiation: parse an HTTP Accept header and pick the best offered media type.

HTTP Semantics, RFC 9110 §12.5.1 (Accept): https://www.rfc-editor.org/rfc/rfc9110#section-12.5.1

Each offered type takes the quality of the *most specific* Accept range that matches it
(``text/turtle;q=0.2, text/*;q=0.9`` gives text/turtle 0.2); q=0 means "not acceptable".
Among offers of equal quality, the server's order of preference decides. An absent or empty
Accept header accepts anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class NotAcceptable(Exception):
    """No offered media type is acceptable; carries what the server could have sent."""

    def __init__(self, accept: str, offers: list[str]):
        self.accept = accept
        self.offers = offers
        super().__init__(f"none of the available types fits Accept: {accept!r}; available: {', '.join(offers)}")


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header: type/subtype, its parameters (not q) and its quality."""

    type: str
    subtype: str
    q: float = 1.0
    params: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def matches(self, media_type: str) -> int:
        """How specifically this range matches media_type: -1 no match, 0 */*, 1 type/*, 2 exact,
        3 exact with matching parameters."""
        mtype, _, rest = media_type.partition("/")
        msub, _, mparams = rest.partition(";")
        mtype, msub = mtype.strip().lower(), msub.strip().lower()
        if self.type == "*":
            return 0 if self.subtype == "*" else -1
        if self.type != mtype:
            return -1
        if self.subtype == "*":
            return 1
        if self.subtype != msub:
            return -1
        if not self.params:
            return 2
        offered = dict(_params(mparams))
        return 3 if all(offered.get(k) == v for k, v in self.params) else -1


def _params(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(";"):
        name, eq, value = part.partition("=")
        if eq and name.strip():
            out.append((name.strip().lower(), value.strip().strip('"')))
    return out


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header (malformed elements are skipped, not fatal).

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/html;q=0.5, */*;q=0.1")]
    [('text', 'html', 0.5), ('*', '*', 0.1)]
    """
    ranges = []
    for element in (header or "").split(","):
        element = element.strip()
        if not element:
            continue
        mtype, _, rest = element.partition(";")
        typ, slash, sub = mtype.strip().lower().partition("/")
        if not slash or not typ or not sub or (typ == "*" and sub != "*"):
            if mtype.strip() == "*":  # some clients send a bare "*"
                typ, sub = "*", "*"
            else:
                continue
        q, params = 1.0, []
        for name, value in _params(rest):
            if name == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
                break  # parameters after q are accept-extensions, not media type parameters
            params.append((name, value))
        ranges.append(MediaRange(typ, sub, q, tuple(params)))
    return ranges


def quality(ranges: list[MediaRange], media_type: str) -> float:
    """The quality the client gives media_type (0 if nothing matches)."""
    best_specificity, best_q = -1, 0.0
    for r in ranges:
        s = r.matches(media_type)
        if s > best_specificity or (s == best_specificity and s >= 0 and r.q > best_q):
            best_specificity, best_q = s, r.q
    return best_q if best_specificity >= 0 else 0.0


def negotiate(accept: str | None, offers: list[str]) -> str:
    """The best of offers (in server preference order) for an Accept header.

    Raises:
        NotAcceptable: every offer has quality 0.
    """
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    best, best_q = None, 0.0
    for offer in offers:
        q = quality(ranges, offer)
        if q > best_q:
            best, best_q = offer, q
    if best is None:
        raise NotAcceptable(accept or "", offers)
    return best
