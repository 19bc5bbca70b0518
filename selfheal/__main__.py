"""`python -m selfheal` is the `selfheal` command."""

from selfheal.cli import main

main()
