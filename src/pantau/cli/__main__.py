"""``python -m pantau.cli``: the same app as the ``pantau`` console script."""

from pantau.cli import main

main()
