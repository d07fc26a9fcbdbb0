"""The node's HTTP interface (FastAPI): the DIF Universal Resolver driver binding today."""

from node.api.app import create_app

__all__ = ["create_app"]
