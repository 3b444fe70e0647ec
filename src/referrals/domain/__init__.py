"""The rules of the product: pure functions and values, no I/O, no frameworks."""
