"""The command line, ``python -m novelai_core``: the parser and one exit-code policy."""
