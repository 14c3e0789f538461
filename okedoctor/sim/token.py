"""The kubeconfig's credential plugin, shaped like `oci ce cluster generate-token`.

kubectl and the kubernetes client run `python -m okedoctor.sim.token ce cluster generate-token
--cluster-id ID --region R` and read an ExecCredential from stdout. The token is the one the
simulator wrote to $OKEDOCTOR_SIM_TOKEN_FILE and checks on every request.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta


def main(argv: list[str]) -> int:
    path = os.environ.get("OKEDOCTOR_SIM_TOKEN_FILE")
    if not path:
        print("okedoctor.sim.token: OKEDOCTOR_SIM_TOKEN_FILE is not set", file=sys.stderr)
        return 1
    try:
        with open(path, encoding="utf-8") as fh:
            token = fh.read().strip()
    except OSError as exc:
        print(f"okedoctor.sim.token: cannot read the token file: {exc.strerror}", file=sys.stderr)
        return 1
    # OKE tokens live for four minutes; clients refresh when expirationTimestamp passes.
    expires = (datetime.now(UTC) + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cred = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": token, "expirationTimestamp": expires},
    }
    sys.stdout.write(json.dumps(cred) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
