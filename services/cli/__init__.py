"""``tifli``: run the services, manage keys, units, partners and deliveries, preview a zone,
run a drill. Each command group is a module with a ``register(commands)`` function; it
imports what its commands need only when one runs, so ``tifli --help`` stays quick."""

from services.cli.arguments import parse_duration
from services.cli.main import build_parser, main

__all__ = ["build_parser", "main", "parse_duration"]
