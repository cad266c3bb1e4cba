"""The Milvus backend beside the embedded one: speed, and relevance parity on every shared set."""
