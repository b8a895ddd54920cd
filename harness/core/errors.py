"""The exceptions shared by adapters, scenarios and the runner."""


class HarnessError(Exception):
    """Bad input to the harness itself: an unknown name, a missing library, a corrupt run."""


class Unsupported(Exception):
    """Declared by an adapter: the library cannot do this (in this mode, serialization, ...)."""


class Rejected(Exception):
    """The library refused a token with one of its own error types; the text is the library's."""


class ProducerFailed(Exception):
    """The producing library raised while making a token it declared it could make."""


class Finding(Exception):
    """The library did something a correct library never does, whatever it answered (fetched
    a URL a header named, say). `actual` is the row's outcome: `accepted` when it also took the
    token, else `error` (a library-side fault, always a failure)."""

    def __init__(self, message: str, actual: str) -> None:
        super().__init__(message)
        self.actual = actual


class PeerFault(Exception):
    """A peer's process died, stopped answering within its time limit, or answered `error`:
    the cell is `error` (or `hang`, `actual`), charged to the peer's side (`source`: `library`,
    or `harness` when the harness's own driver code raised), and the process is restarted for
    the next cell."""

    def __init__(self, message: str, actual: str = "error", source: str = "library") -> None:
        super().__init__(message)
        self.actual = actual
        self.source = source
