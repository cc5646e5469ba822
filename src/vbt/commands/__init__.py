"""One module per CLI subcommand; each exposes ``register(subparsers)`` and ``run(args) -> int``."""
