"""The single source of the package version (read by hatchling at build time)."""

__version__ = "0.1.0"

#: The Go asynq release whose Redis layout and wire format this package reproduces.
GO_ASYNQ_VERSION = "0.26.0"
