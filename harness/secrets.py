"""The configured secrets, and text with them masked.

What counts as secret: the API key; the password of an endpoint URL's ``user:password`` (as
written, percent-decoded, and as ``user:password`` and its base64, which is what an
``Authorization: Basic`` header carries); the values of the URL's query parameters that look
like credentials (``key=``, ``token=``, ``sig=``..., or any long token-like value that is not a
known public parameter such as ``api-version``). The user name alone is not a secret: masking
it would mangle ordinary words in model output.

``Secrets.scrub(text)`` masks every one of them in a string (longest first);
``Secrets.scrub_model(obj)`` masks them in every string a parsed model output holds, in place.
``redact_uri(url)`` is a URL without user info and with credential-like query values replaced.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from .bounds import map_strings

MASK = "***"
MIN_SECRET_CHARS = 4  # shorter values are too common to mask without mangling text
PUBLIC_QUERY = {"api-version", "api_version", "version", "format", "region", "deployment", "model"}
SECRET_NAME = re.compile(r"key|token|secret|sig|signature|pass|pwd|auth|credential|session|code", re.IGNORECASE)
TOKEN_LIKE = re.compile(r"^[A-Za-z0-9_\-+/=.~%]{12,}$")


def secret_param(name: str, value: str) -> bool:
    """True when a query parameter's value should be treated as a credential."""
    if name.lower() in PUBLIC_QUERY:
        return False
    if SECRET_NAME.search(name):
        return True
    return bool(TOKEN_LIKE.match(value)) and any(c.isalpha() for c in value) and any(c.isdigit() for c in value)


def _userinfo_forms(user: str, password: str) -> list[str]:
    forms = {password, unquote(password)}
    for u in {user, unquote(user)}:
        for p in {password, unquote(password)}:
            pair = f"{u}:{p}"
            forms.add(base64.b64encode(pair.encode()).decode())
            forms.add(pair)
    return list(forms)


@dataclass(frozen=True)
class Secrets:
    values: tuple[str, ...] = ()

    @classmethod
    def of(cls, api_key: str | None, base_url: str | None) -> Secrets:
        found: list[str] = [api_key or ""]
        if base_url:
            parts = urlsplit(base_url)
            if parts.password:
                found += _userinfo_forms(parts.username or "", parts.password)
            for name, value in parse_qsl(parts.query, keep_blank_values=True):
                if secret_param(name, value):
                    found += [value, quote(value, safe=""), unquote(value)]
        kept = {s for s in found if s and len(s) >= MIN_SECRET_CHARS and s.strip() == s}
        return cls(tuple(sorted(kept, key=len, reverse=True)))

    def __bool__(self) -> bool:
        return bool(self.values)

    def scrub(self, text: str) -> str:
        """``text`` with every secret masked."""
        for secret in self.values:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def scrub_model(self, obj: object) -> int:
        """Mask secrets in every string of a parsed model output, in place; the count changed."""
        if not self.values:
            return 0
        changed = 0

        def fix(_path: str, value: str, _verbatim: bool) -> str:
            nonlocal changed
            clean = self.scrub(value)
            changed += clean != value
            return clean

        map_strings(obj, fix)
        return changed


def host_port(parts: SplitResult, bad_port: str = "") -> str:
    """``host[:port]`` of a split URL without its user info (an IPv6 host in brackets); a port
    that is not a number shows as ``bad_port``."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    try:
        return host + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return host + bad_port


def redact_uri(url: str) -> str:
    """``url`` without user info and with credential-like query values replaced by ``***``:
    what a recording may keep of a request's address."""
    parts = urlsplit(url)
    query = urlencode([(k, MASK if secret_param(k, v) else v)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, host_port(parts), parts.path, query, ""))
