"""Imported only by the emulator's fork server (helpers/ecsim_fork.py):
the emulator and everything it imports, loaded once for every emulator
forked from it."""

from helpers import ecsim_fork

ecsim_fork.emulator_main()
