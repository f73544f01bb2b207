"""Fixtures for the health tests."""

import socket

import pytest


@pytest.fixture
def stalling_port():
    """A port whose kernel accepts connections that nobody ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]
