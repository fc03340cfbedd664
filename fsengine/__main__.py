"""`python -m fsengine` = the `fsengine` command."""

from fsengine.cli import app

app(prog_name="fsengine")
