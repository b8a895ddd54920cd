"""jose-harness: interoperability and load testing of Python JOSE/JWT libraries."""

__version__ = "0.1.0"
