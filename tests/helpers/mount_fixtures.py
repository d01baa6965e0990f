"""pytest fixtures for the mounted daemon.

  mount          ecsfs mounted on the `emulator` fixture with default options
  mount_factory  make(options=..., env=..., args=...) -> a started Mount; every
                 mount made is unmounted at the end of the test, and a crash
                 or sanitizer output of the daemon fails the test
"""
import pytest

from helpers.mount import Mount


@pytest.fixture
def mount_factory(tmp_path, emulator):
    made = []

    def make(options=None, env=None, args=None, emu=None):
        d = tmp_path / ("m%d" % len(made))
        d.mkdir()
        m = Mount(d, emu or emulator, options=options, env=env, args=args)
        made.append(m)
        return m.start()
    yield make
    errors = []
    for m in made:
        try:
            m.stop()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n".join(errors))


@pytest.fixture
def mount(mount_factory):
    return mount_factory()
