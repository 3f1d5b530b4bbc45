"""The package version, in one place (setup.cfg and the CLI read it)."""

__version__ = "0.1.0"
