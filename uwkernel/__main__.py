"""``python -m uwkernel`` is the ``uwkernel`` command."""
from .cli import main

main()
