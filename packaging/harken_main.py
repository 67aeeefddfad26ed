"""The bundle's entry script: ``dist/harken/harken`` runs the same ``harken`` command as a
source checkout (``app.cli.main``); PyInstaller needs a script file to start from."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
