"""Keys the libraries make: generated with each library's own API and defaults, exported through
its own export, taken by every other library."""
