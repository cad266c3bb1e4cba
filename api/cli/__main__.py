"""`python -m api.cli`: the zhsearch command line, as the `zhsearch` script runs it."""

from api.cli.main import app

if __name__ == "__main__":
    app()
