"""pytest fixtures shared by every test file.

Fixtures defined here:
  emulator      the ECS emulator with the example account, plain HTTP,
                time scaled 20x, one process per test on its own port
  emulator_tls  the same over HTTPS with a throw-away CA (.ca_file)

More fixtures live in tests/helpers/*_fixtures.py, one module per subject
(the mounted daemon, ...); every such module is registered below, so adding
one needs no change here.
"""

import pathlib

import pytest

from helpers.ecsim import Emulator

pytest_plugins = sorted("helpers." + p.stem for p in
    (pathlib.Path(__file__).parent / "helpers").glob("*_fixtures.py"))


# -- the ECS emulator ------------------------------------------------------

@pytest.fixture
def emulator(tmp_path):
    """A running emulator (example seed, time scale 20)."""
    d = tmp_path / "ecsim"
    d.mkdir()
    emu = Emulator(d).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emulator_tls(tmp_path):
    """A running emulator serving HTTPS; its CA is emulator_tls.ca_file."""
    d = tmp_path / "ecsim-tls"
    d.mkdir()
    emu = Emulator(d, tls=True).start()
    try:
        yield emu
    finally:
        emu.stop()
