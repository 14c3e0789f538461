"""Redaction of credential-looking strings at collection time (logs, probe bodies).

The redactor itself lives in okedoctor.redact so collection and the checks that quote a line
mask the same things; this module keeps the import path the collectors use.
"""

from __future__ import annotations

from okedoctor.redact import MASK, redact

__all__ = ["MASK", "redact"]
