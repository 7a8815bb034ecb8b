"""``python -m covgap``: the same as the ``covgap`` command."""

from covgap.cli import main

main()
