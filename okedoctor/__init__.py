"""okedoctor: diagnose why a Service on OKE cannot be reached."""

__version__ = "0.1.0"
