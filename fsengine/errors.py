"""Typed errors; the CLI maps each to an exit code and prints its message."""


class FsengineError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 1


class SnapshotError(FsengineError):
    """A snapshot folder is missing, malformed or inconsistent with its manifest."""

    exit_code = 2


class CoverageError(FsengineError):
    """A snapshot table does not cover the dates a run needs."""

    exit_code = 2


class InputError(FsengineError):
    """Bad command-line input (dates, paths, options)."""

    exit_code = 2


class PushRefused(FsengineError):
    """The push was refused before any BigQuery job was sent."""

    exit_code = 2


class PushJobFailed(FsengineError):
    """A BigQuery job failed; the target is unchanged."""

    exit_code = 3


class ReconciliationError(FsengineError):
    """The MERGE committed but its statistics do not match the run."""

    exit_code = 4


class OutputError(InputError):
    """A folder or file cannot be written: it is not fsengine's to replace, or the disk is full."""

    exit_code = 2


class EmptyRunError(FsengineError):
    """A run produced no row for a range its snapshot claims to cover (use --allow-empty)."""

    exit_code = 2


class OutOfMemory(FsengineError):
    """The engine ran out of the memory it may use."""

    exit_code = 1


class Unreachable(FsengineError):
    """A remote endpoint did not answer within the timeouts, or the connection was lost."""

    exit_code = 1


class StreamLost(Unreachable, SnapshotError):
    """A Storage Read stream was lost and could not be resumed within the limits (no snapshot written)."""

    exit_code = 1


class ConfigError(InputError):
    """The BigQuery configuration is invalid (bad identifier, endpoint, timeout or file)."""


class InvalidName(ConfigError, PushRefused):
    """A BigQuery project, dataset or table name that is not valid.

    Both a ConfigError (it came from flags, the environment or fsengine.toml) and a
    PushRefused (a push naming it is refused before any job); exit 2 either way.
    """
