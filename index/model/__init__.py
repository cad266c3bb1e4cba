"""The model: multilingual-e5-small built offline from PyPI, the encoder, passage vectors."""
