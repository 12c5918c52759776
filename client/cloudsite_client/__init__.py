"""The `cloudsite` command: a client of the CloudSite JSON API (no Django here)."""

__version__ = "0.1.0"
