"""``python -m planatlas`` — the same entry point as the ``planatlas`` command."""
import sys

from planatlas.desktop.cli import main

sys.exit(main())
