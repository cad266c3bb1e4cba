"""Interfaces: the FastAPI service and the zhsearch command line."""
