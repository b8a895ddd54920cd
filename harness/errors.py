"""The exceptions shared by adapters, scenarios and the runner."""


class HarnessError(Exception):
    """Bad input to the harness itself: an unknown name, a missing library, a corrupt run."""


class Unsupported(Exception):
    """Declared by an adapter: the library cannot do this (in this mode, serialization, ...)."""


class Rejected(Exception):
    """The library refused a token with one of its own error types; the text is the library's."""


class ProducerFailed(Exception):
    """The producing library raised while making a token it declared it could make."""
