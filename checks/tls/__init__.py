"""Checks of TLS at the edge (internet hop): the certificate and protocol each public listener serves."""

MODULES: tuple[str, ...] = (
    "certificate_expired",
    "certificate_name_mismatch",
    "certificate_not_trusted",
    "listener_protocol_mismatch",
    "listener_certificate_missing",
)
