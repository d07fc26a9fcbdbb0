"""The EIDLN wallet: keys, DIDs, credentials, PASSporTs (issues 3-5 fill this package)."""

__all__: list[str] = []
