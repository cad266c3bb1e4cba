"""The command-line tool `zhsearch` (typer): building, updating, checking, serving, searching and evaluating."""
