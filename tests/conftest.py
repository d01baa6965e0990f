"""pytest fixtures shared by every test file.

Fixtures defined here:
  emulator      the ECS emulator with the example account, plain HTTP,
                time scaled 20x, one process per test on its own port;
                @pytest.mark.emulator(scaler_interval=S, log_interval=S,
                ...) passes keyword arguments to its Emulator
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

def pytest_configure(config):
    config.addinivalue_line("markers", "emulator(**kwargs): keyword "
        "arguments of the emulator fixture's Emulator (helpers/ecsim.py)")
    config.addinivalue_line("markers", "emulator_only: a test of the "
        "emulator alone, which runs nothing of the ecsfs build (during it "
        "ECSFS_BUILD_DIR names a directory that does not exist); "
        "tests/run.sh runs these once, with the plain build, and leaves them "
        "out of the sanitizer build's run")


@pytest.fixture(autouse=True)
def _emulator_only_uses_no_build(request, monkeypatch, tmp_path):
    if request.node.get_closest_marker("emulator_only"):
        monkeypatch.setenv("ECSFS_BUILD_DIR", str(tmp_path /
            "no-build-in-an-emulator-only-test"))


@pytest.fixture
def emulator(tmp_path, request):
    """A running emulator: example seed, time scale 20, the auto scaler
    every 1 s, a log line from each running container every 2 s.

    @pytest.mark.emulator(...) on the test passes its keyword arguments to
    Emulator: scaler_interval and log_interval (wall-clock seconds, 0: off),
    time_scale, seed, fault_seed.  The mount fixtures mount this emulator.
    """
    marker = request.node.get_closest_marker("emulator")
    d = tmp_path / "ecsim"
    d.mkdir()
    emu = Emulator(d, **(marker.kwargs if marker else {})).start()
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
