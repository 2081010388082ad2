"""The sub-commands of ``deepwire``; each module has ``register(subparsers)``."""
