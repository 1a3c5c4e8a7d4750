"""Plain values at the bottom: they import nothing above them."""
