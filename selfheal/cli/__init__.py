"""The `selfheal` command line: the Typer app (app.py), its rendering and cluster commands."""
