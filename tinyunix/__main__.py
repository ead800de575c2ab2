"""`python -m tinyunix ...` is the `tinyunix` command."""
import sys

from .cli import main

sys.exit(main())
