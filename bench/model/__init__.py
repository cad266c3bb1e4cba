"""The model: its runtimes side by side, its memory in a service, an index re-encoded by another encoder."""
