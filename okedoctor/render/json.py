"""`-o json`: the okedoctor/report/v1 object (schema in okedoctor/schema/report-v1.json)."""

from __future__ import annotations

import json
from typing import IO

from okedoctor.model import Report


def render(report: Report, out: IO[str]) -> None:
    out.write(json.dumps(report.to_dict(), indent=2, sort_keys=False, default=str))
    out.write("\n")
