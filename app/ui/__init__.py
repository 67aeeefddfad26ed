"""The desktop window and its parts (Qt). Nothing outside ``app`` imports this package."""
