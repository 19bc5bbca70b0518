"""`python -m selfheal` is the `selfheal` command."""

from selfheal.cli.app import main

main()
